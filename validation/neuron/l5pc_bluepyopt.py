#!/usr/bin/env python3
"""Run BluePyOpt's own L5PC example (Hay et al. 2011 as BluePyOpt ships it) in NEURON and write its traces.

Usage: l5pc_bluepyopt.py L5PC_DIR OUT_DIR [PROTOCOL ...] [--sections OUT.json] [--dt 0.025] [--threshold -20]

L5PC_DIR is the example folder of the BluePyOpt 1.14.26 source distribution (examples/l5pc, fetched by
validation/corpus/fetch.sh); BluePyOpt itself must be installed (validation/neuron/install_bluepyopt.sh).
The cell is the example's own: l5pc_model.create() (morphology/C060114A7.asc, axon replaced by BluePyOpt's
60 µm stub, config/mechanisms.json and config/parameters.json) with the example's "release" parameter set,
the dict release_params of l5pc_analysis.py (read from that file's source, since importing it needs
matplotlib). The protocols are l5pc_evaluator.define_protocols() (config/protocols.json: e.g. Step1, Step2,
Step3, bAP). Each protocol is run as BluePyOpt's SweepProtocol runs it (freeze the parameters, instantiate
the cell, the stimuli and the recordings, NrnSimulator.run for the protocol's total duration, destroy),
in this process, fixed step dt (cvode off).

The .mod files of L5PC_DIR/mechanisms are compiled with the nrnivmodl next to this Python in a cache folder
outside the repository, $RALL_NRNIVMODL_CACHE/l5pc-bluepyopt (default ~/.cache/rall/nrnivmodl/l5pc-bluepyopt;
rebuilt when the .mod files' contents change), and loaded with neuron.load_mechanisms.

For every protocol P it writes:
  OUT_DIR/P.csv   columns t (ms), then one voltage column (mV) per recording of the protocol: soma
                  (soma[0](0.5)) and the protocol's extra recordings by their protocols.json names (the bAP
                  protocol has dend1 at 660 µm and dend2 at 800 µm from the soma in the apical tree); every
                  time step, t = 0 to the total duration inclusive.
  OUT_DIR/P.json  the stimuli, where each recording is (section, the x BluePyOpt asked for, the centre of
                  the segment whose voltage is recorded, path distances from soma[0](0.5)), the spike times
                  of every recording (upward crossings of the threshold, linear interpolation between the two
                  samples around the crossing), spike counts, and the wall time of the instantiation and of
                  the simulation (NrnSimulator.run alone), plus dt, celsius, v_init and the parameters used.
A summary line per protocol goes to stdout.

--sections OUT.json instantiates the cell once more (no stimulus) and writes every section in the order of
the cell's section list "all": its name (without the cell template prefix), the section lists it belongs to,
nseg, L, Ra, its 3D points [x, y, z, diam] (none for the two replacement axon sections), the parent
section and the x on the parent it connects to, the x of its own end that connects (sec.orientation()), its
area summed over segments, its density mechanisms, the ions it has (e, inside and outside concentration
after h.finitialize(v_init), NEURON's ion_style decoded), and per segment x, area, diam, the path distance
from soma[0](0.5) and the value of every range or section parameter BluePyOpt set anywhere (cm, Ra, g_pas,
e_pas, ena, ek, gIhbar_Ih, ...; a name the segment does not have is left out). Also celsius, v_init and
the ion globals (nai0_na_ion, cai0_ca_ion, ...).
"""

import argparse
import ast
import fcntl
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time

CELL_PREFIX_SEP = "."
SECTION_LISTS = ("somatic", "axonal", "basal", "apical", "myelinated")
IONS = ("na", "k", "ca")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def compile_mechanisms(mod_dir):
    """Compile mod_dir's .mod files with nrnivmodl in a cache folder; return the folder to load from."""
    mods = sorted(glob.glob(os.path.join(mod_dir, "*.mod")))
    if not mods:
        raise SystemExit(f"l5pc_bluepyopt.py: no .mod files in {mod_dir}")
    digest = hashlib.sha256()
    for path in mods:
        digest.update(os.path.basename(path).encode() + b"\0")
        with open(path, "rb") as f:
            digest.update(f.read() + b"\0")
    key = digest.hexdigest()
    root = os.environ.get("RALL_NRNIVMODL_CACHE",
                          os.path.join(os.path.expanduser("~"), ".cache", "rall", "nrnivmodl"))
    build = os.path.join(root, "l5pc-bluepyopt")
    os.makedirs(root, exist_ok=True)
    # Tests run in parallel: one process at a time checks and (re)builds the cache folder.
    with open(os.path.join(root, "l5pc-bluepyopt.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return build_locked(build, mods, key)


def build_locked(build, mods, key):
    """The body of compile_mechanisms, run under its lock."""
    stamp = os.path.join(build, "sources.sha256")
    libs = glob.glob(os.path.join(build, "*", "libnrnmech.so"))
    if len(libs) == 1 and os.path.exists(stamp) and open(stamp).read().strip() == key:
        return build
    shutil.rmtree(build, ignore_errors=True)
    src = os.path.join(build, "mod")
    os.makedirs(src)
    for path in mods:
        shutil.copy2(path, src)
    nrnivmodl = os.path.join(os.path.dirname(sys.executable), "nrnivmodl")
    if not os.path.exists(nrnivmodl):
        nrnivmodl = shutil.which("nrnivmodl") or sys.exit("l5pc_bluepyopt.py: nrnivmodl not found")
    log(f"l5pc_bluepyopt.py: compiling {len(mods)} mod files in {build}")
    res = subprocess.run([nrnivmodl, "mod"], cwd=build, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    if res.returncode != 0:
        log(res.stdout)
        raise SystemExit(f"l5pc_bluepyopt.py: nrnivmodl failed in {build}")
    with open(stamp, "w") as f:
        f.write(key + "\n")
    return build


def release_params(l5pc_dir):
    """The example's release parameter set: the literal dict `release_params` in l5pc_analysis.py."""
    path = os.path.join(l5pc_dir, "l5pc_analysis.py")
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "release_params" for t in node.targets):
            return ast.literal_eval(node.value)
    raise SystemExit(f"l5pc_bluepyopt.py: no release_params in {path}")


def short_name(sec):
    """Section name without the cell template prefix: 'l5pc[0].apic[12]' -> 'apic[12]'."""
    return sec.name().split(CELL_PREFIX_SEP, 1)[-1]


def segment_centre(seg):
    """x of the centre of the segment that seg (sec(x)) falls in: what sec(x).v reads."""
    nseg = seg.sec.nseg
    if seg.x <= 0.0 or seg.x >= 1.0:
        return seg.x
    i = min(int(seg.x * nseg), nseg - 1)
    return (i + 0.5) / nseg


def spike_times(t, v, threshold):
    """Upward crossings of threshold, linearly interpolated between the samples around each."""
    out = []
    for i in range(1, len(v)):
        if v[i - 1] < threshold <= v[i]:
            out.append(t[i - 1] + (threshold - v[i - 1]) / (v[i] - v[i - 1]) * (t[i] - t[i - 1]))
    return out


def set_parameter_names(cell):
    """NEURON names of the section and range parameters the cell model sets (in parameters.json order)."""
    from bluepyopt.ephys.parameters import NrnRangeParameter, NrnSectionParameter
    names = []
    for param in cell.params.values():
        if isinstance(param, (NrnRangeParameter, NrnSectionParameter)) and param.param_name not in names:
            names.append(param.param_name)
    return names


def ion_style(h, ion, sec):
    """NEURON's ion_style of ion in sec, decoded (c_style + 4*e_style + 16*einit + 32*eadvance + 64*cinit)."""
    style = int(h.ion_style(f"{ion}_ion", sec=sec))
    return {"raw": style, "c_style": style & 3, "e_style": (style >> 2) & 3, "einit": (style >> 4) & 1,
            "eadvance": (style >> 5) & 1, "cinit": (style >> 6) & 1}


def dump_sections(h, cell, sim, path):
    """Write every section of the instantiated cell (see the module docstring).

    Ion values are read after h.finitialize(v_init), i.e. as the run starts from them.
    """
    icell = cell.icell
    h.finitialize(h.v_init)
    soma_mid = icell.soma[0](0.5)
    names = set_parameter_names(cell)
    lists = {name: {short_name(s) for s in getattr(icell, name)} for name in SECTION_LISTS}
    sections = []
    for sec in icell.all:
        parent = sec.parentseg()
        density = sorted(sec.psection()["density_mechs"].keys())
        ions = {}
        for ion in IONS:
            if h.ismembrane(f"{ion}_ion", sec=sec):
                seg = sec(0.5)
                ions[ion] = {"e": getattr(seg, f"e{ion}"), "i": getattr(seg, f"{ion}i"),
                             "o": getattr(seg, f"{ion}o"),
                             "ion_style": ion_style(h, ion, sec)}
        segments = []
        for seg in sec:
            values = {}
            for name in names:
                try:
                    values[name] = getattr(seg, name)
                except (AttributeError, NameError, RuntimeError, ValueError):
                    pass
            if "Ra" in names:
                values["Ra"] = sec.Ra
            segments.append({"x": seg.x, "area": seg.area(), "diam": seg.diam,
                             "distance": h.distance(soma_mid, seg), "params": values})
        sections.append({
            "name": short_name(sec),
            "lists": [name for name in SECTION_LISTS if short_name(sec) in lists[name]],
            "nseg": sec.nseg,
            "L": sec.L,
            "Ra": sec.Ra,
            "points": [[sec.x3d(k), sec.y3d(k), sec.z3d(k), sec.diam3d(k)] for k in range(sec.n3d())],
            "parent": None if parent is None else short_name(parent.sec),
            "parent_x": None if parent is None else parent.x,
            "orientation": sec.orientation(),
            "area": sum(seg.area() for seg in sec),
            "density_mechs": density,
            "ions": ions,
            "segments": segments,
        })
    ion_globals = {}
    for ion in IONS:
        for g in (f"{ion}i0_{ion}_ion", f"{ion}o0_{ion}_ion"):
            ion_globals[g] = getattr(h, g)
    out = {
        "celsius": h.celsius,
        "v_init": h.v_init,
        "ion_globals": ion_globals,
        "parameter_names": names,
        "sections": sections,
    }
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
    log(f"l5pc_bluepyopt.py: {len(sections)} sections written to {path}")


def path_distance(h, soma_mid, sec, x):
    """Path distance from soma[0](0.5) to sec(x) at x itself.

    NEURON's h.distance(origin, sec(x)) measures to the centre of the segment containing x (exact only at
    x = 0 and 1), so interior points are interpolated between the section's two ends, as BluePyOpt's
    NrnSomaDistanceCompLocation does when it picks x.
    """
    if sec == soma_mid.sec:
        return abs(x - soma_mid.x) * sec.L
    d0, d1 = h.distance(soma_mid, sec(0)), h.distance(soma_mid, sec(1))
    return d0 + x * (d1 - d0)


def recording_site(h, sim, icell, recording, soma_mid):
    """Where a CompRecording records: section, asked x, segment centre, distances from soma[0](0.5)."""
    loc = recording.location
    if type(loc).__name__ == "NrnSeclistCompLocation":
        # instantiate() of this location pops NEURON's section stack, so it is not called a second time
        seg = list(getattr(icell, loc.seclist_name))[loc.sec_index](loc.comp_x)
    else:
        seg = loc.instantiate(sim=sim, icell=icell)
    centre = segment_centre(seg)
    return {
        "location": str(loc),
        "section": short_name(seg.sec),
        "nseg": seg.sec.nseg,
        "x": seg.x,
        "segment_centre_x": centre,
        "distance": path_distance(h, soma_mid, seg.sec, seg.x),
        "distance_segment_centre": path_distance(h, soma_mid, seg.sec, centre),
    }


def write_csv(path, columns):
    names = list(columns)
    rows = zip(*(columns[n] for n in names))
    with open(path, "w") as f:
        f.write(",".join(names) + "\n")
        for row in rows:
            f.write(",".join(repr(float(x)) for x in row) + "\n")


def run_protocol(h, cell, sim, protocol, params, dt, threshold, out_dir):
    """Run one protocol as SweepProtocol._run_func does, in this process; write P.csv and P.json."""
    t0 = time.perf_counter()
    cell.freeze(params)
    cell.instantiate(sim=sim)
    protocol.instantiate(sim=sim, cell_model=cell)
    t1 = time.perf_counter()
    soma_mid = cell.icell.soma[0](0.5)
    sites = {rec.name: recording_site(h, sim, cell.icell, rec, soma_mid) for rec in protocol.recordings}
    t2 = time.perf_counter()
    sim.run(protocol.total_duration, cvode_active=False)
    t3 = time.perf_counter()
    columns = {}
    recordings = {}
    prefix = protocol.name + "."
    for rec in protocol.recordings:
        resp = rec.response
        tt = resp["time"].to_numpy()
        vv = resp["voltage"].to_numpy()
        if "t" not in columns:
            columns["t"] = tt
        # 'Step1.soma.v' -> 'soma', 'bAP.dend1.v' -> 'dend1'
        col = rec.name[len(prefix):] if rec.name.startswith(prefix) else rec.name
        col = col[:-2] if col.endswith(".v") else col
        columns[col] = vv
        spikes = spike_times(tt, vv, threshold)
        recordings[col] = dict(sites[rec.name], name=rec.name, variable=rec.variable,
                               spike_count=len(spikes), spike_times=spikes)
    meta = {
        "protocol": protocol.name,
        "dt": dt,
        "cvode": False,
        "tstop": protocol.total_duration,
        "samples": len(columns["t"]),
        "celsius": h.celsius,
        "v_init": h.v_init,
        "threshold": threshold,
        "stimuli": [{"type": type(s).__name__, "location": str(s.location), "amp": s.step_amplitude,
                     "delay": s.step_delay, "duration": s.step_duration,
                     "total_duration": s.total_duration} for s in protocol.stimuli],
        "recordings": recordings,
        "wall_seconds": {"instantiate": t1 - t0, "run": t3 - t2},
        "params": params,
    }
    protocol.destroy(sim=sim)
    cell.destroy(sim=sim)
    cell.unfreeze(params.keys())
    write_csv(os.path.join(out_dir, protocol.name + ".csv"), columns)
    with open(os.path.join(out_dir, protocol.name + ".json"), "w") as f:
        json.dump(meta, f, indent=1)
    return meta


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("l5pc_dir")
    ap.add_argument("out_dir")
    ap.add_argument("protocols", nargs="*")
    ap.add_argument("--sections", metavar="OUT.json")
    ap.add_argument("--dt", type=float, default=0.025)
    ap.add_argument("--threshold", type=float, default=-20.0)
    args = ap.parse_args()
    l5pc_dir = os.path.abspath(args.l5pc_dir)

    import neuron
    from neuron import h
    neuron.load_mechanisms(compile_mechanisms(os.path.join(l5pc_dir, "mechanisms")))

    import bluepyopt
    import bluepyopt.ephys as ephys
    sys.path.insert(0, l5pc_dir)
    import l5pc_evaluator  # noqa: E402  (the example's own modules)
    import l5pc_model  # noqa: E402

    params = release_params(l5pc_dir)
    cell = l5pc_model.create(do_replace_axon=True)
    protocols = l5pc_evaluator.define_protocols(do_replace_axon=True, sim="nrn")
    unknown = [p for p in args.protocols if p not in protocols]
    if unknown:
        raise SystemExit(f"l5pc_bluepyopt.py: unknown protocol(s) {unknown}; have {sorted(protocols)}")
    sim = ephys.simulators.NrnSimulator(dt=args.dt, cvode_active=False)
    log(f"l5pc_bluepyopt.py: NEURON {neuron.__version__}, BluePyOpt {bluepyopt.__version__}")

    os.makedirs(args.out_dir, exist_ok=True)
    if args.sections:
        cell.freeze(params)
        cell.instantiate(sim=sim)
        dump_sections(h, cell, sim, args.sections)
        cell.destroy(sim=sim)
        cell.unfreeze(params.keys())

    for name in args.protocols:
        meta = run_protocol(h, cell, sim, protocols[name], params, args.dt, args.threshold, args.out_dir)
        for col, rec in meta["recordings"].items():
            times = ", ".join(f"{t:.3f}" for t in rec["spike_times"])
            print(f"{name} {col} ({rec['section']}({rec['x']:.6g})): {rec['spike_count']} spikes "
                  f"[{times}]")
        w = meta["wall_seconds"]
        print(f"{name}: tstop {meta['tstop']} ms, {meta['samples']} samples, "
              f"instantiate {w['instantiate']:.3f} s, run {w['run']:.3f} s", flush=True)


if __name__ == "__main__":
    main()
