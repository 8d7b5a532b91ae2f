#!/usr/bin/env python3
"""Run one cell described in JSON through NEURON and write the probe traces as CSV.

Usage: run_neuron.py CELL.json OUT.csv

The JSON schema is described in README.md next to this file. The geometry is
built from the 3D points given for every section (pt3dadd), so NEURON sees the
same arc lengths and frusta as the description. The run is fixed-step
(backward Euler or Crank-Nicolson), CVode off. The wall time of the
time-stepping loop alone is printed to stderr as `neuron_run_seconds=...`.
"""

import fcntl
import glob
import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time

from neuron import h


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def mechanism_names(kind):
    """Names of the mechanisms NEURON knows now: kind 0 density, 1 point processes."""
    mt = h.MechanismType(kind)
    name = h.ref("")
    out = set()
    for i in range(int(mt.count())):
        mt.select(i)
        mt.selected(name)
        out.add(name[0])
    return out


MOD_NAME = re.compile(r"^\s*(SUFFIX|POINT_PROCESS|ARTIFICIAL_CELL)\s+(\w+)", re.M)


def mod_mechanism_name(path):
    with open(path) as f:
        text = f.read()
    # drop comments so a SUFFIX mentioned in a COMMENT block does not count
    text = re.sub(r"COMMENT.*?ENDCOMMENT", "", text, flags=re.S)
    text = re.sub(r":.*", "", text)
    m = MOD_NAME.search(text)
    return m.group(2) if m else None


def find_nrnivmodl():
    here = os.path.join(os.path.dirname(sys.executable), "nrnivmodl")
    if os.path.exists(here):
        return here
    found = shutil.which("nrnivmodl")
    if not found:
        raise SystemExit("run_neuron.py: nrnivmodl not found next to python or on PATH")
    return found


def load_mod_dir(mod_dir):
    """Compile the .mod files of mod_dir (cached) and load the library.

    nrnivmodl runs in a build folder outside mod_dir (so the source folder,
    e.g. the repository's mechanisms/, is not littered with build outputs).
    Files whose mechanism name is already built into NEURON (hh, pas, ExpSyn,
    Exp2Syn, ...) are skipped: NEURON cannot load a second mechanism of the
    same name, and the built-in one is then used instead.
    """
    mod_dir = os.path.abspath(mod_dir)
    known = mechanism_names(0) | mechanism_names(1)
    mods = []
    for path in sorted(glob.glob(os.path.join(mod_dir, "*.mod"))):
        name = mod_mechanism_name(path)
        if name in known:
            log(f"run_neuron.py: skipping {os.path.basename(path)}: "
                f"'{name}' is built into NEURON, using the built-in one")
            continue
        mods.append(path)
    if not mods:
        return
    cache_root = os.environ.get(
        "RALL_NRNIVMODL_CACHE",
        os.path.join(os.path.expanduser("~"), ".cache", "rall", "nrnivmodl"))
    key = hashlib.sha1(mod_dir.encode()).hexdigest()[:16]
    build = os.path.join(cache_root, key)
    os.makedirs(build, exist_ok=True)
    # Tests run in parallel: one process at a time checks and (re)builds a cache folder.
    with open(build + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        libs = build_locked(build, mod_dir, mods)
    if not h.nrn_load_dll(libs[0]):
        raise SystemExit(f"run_neuron.py: could not load {libs[0]}")


def build_locked(build, mod_dir, mods):
    """Builds (or finds up to date) the cache folder's libnrnmech.so; returns it as a one-element list."""
    libs = glob.glob(os.path.join(build, "*", "libnrnmech.so"))
    manifest = os.path.join(build, "manifest.txt")
    wanted = "\n".join(os.path.basename(p) for p in mods) + "\n"
    fresh = (
        len(libs) == 1
        and os.path.exists(manifest)
        and open(manifest).read() == wanted
        and all(os.path.getmtime(p) < os.path.getmtime(libs[0]) for p in mods)
    )
    if not fresh:
        for old in glob.glob(os.path.join(build, "*")):
            if os.path.isdir(old):
                shutil.rmtree(old)
            else:
                os.remove(old)
        for p in mods:
            shutil.copy2(p, build)
        log(f"run_neuron.py: compiling {len(mods)} mod file(s) from {mod_dir} in {build}")
        res = subprocess.run([find_nrnivmodl()], cwd=build,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if res.returncode != 0:
            log(res.stdout)
            raise SystemExit(f"run_neuron.py: nrnivmodl failed in {build}")
        with open(manifest, "w") as f:
            f.write(wanted)
        libs = glob.glob(os.path.join(build, "*", "libnrnmech.so"))
    if len(libs) != 1:
        raise SystemExit(f"run_neuron.py: no single libnrnmech.so under {build}")
    return libs


def set_param(sec, mech, param, value):
    """Set <param>_<mech> on every segment of sec (or the global, if it is one)."""
    attr = f"{param}_{mech}"
    try:
        for seg in sec:
            setattr(seg, attr, value)
    except (AttributeError, NameError, LookupError):
        if hasattr(h, attr):
            setattr(h, attr, value)
        else:
            raise SystemExit(f"run_neuron.py: unknown parameter '{param}' of '{mech}'")


def build(cell):
    sections = []
    used_mechs = set()
    for i, sd in enumerate(cell["sections"]):
        sec = h.Section(name=sd.get("name", f"sec{i}"))
        pts = sd["points"]
        if len(pts) < 2:
            raise SystemExit(f"run_neuron.py: section {i} has fewer than 2 points")
        h.pt3dclear(sec=sec)
        for x, y, z, d in pts:
            h.pt3dadd(x, y, z, d, sec=sec)
        parent = sd.get("parent")
        if parent is not None:
            if not 0 <= parent < i:
                raise SystemExit(f"run_neuron.py: section {i}: parent {parent} must come before it")
            sec.connect(sections[parent](sd.get("parent_x", 1.0)), 0)
        rule = cell.get("nseg_rule")
        if rule is not None and "nseg" not in sd:
            # NEURON's own arithmetic on NEURON's own L (from the 3D points): nseg = 1 + 2 int(L / length).
            sec.nseg = 1 + 2 * int(sec.L / float(rule["odd_per_length"]))
        else:
            sec.nseg = int(sd.get("nseg", 1))
        sec.Ra = sd.get("Ra", 35.4)
        sec.cm = sd.get("cm", 1.0)
        for mech in sd.get("mechanisms", []):
            name = mech["name"]
            sec.insert(name)
            used_mechs.add(name)
            for p, v in mech.get("params", {}).items():
                set_param(sec, name, p, v)
        sections.append(sec)
    # Scaled parameters, once every section is connected (distances need the whole tree).
    for sd, sec in zip(cell["sections"], sections):
        for mech in sd.get("mechanisms", []):
            if "scale" in mech:
                apply_scale(sec, mech, sections)
    return sections, used_mechs


SCALE_FUNCTIONS = {
    "exp": math.exp, "log": math.log, "sqrt": math.sqrt, "abs": abs, "min": min, "max": max, "pow": pow,
    "_if": lambda c, a, b: a if c else b, "math": math,
}


def apply_scale(sec, mech, sections):
    """value * expression(distance) on every segment, with NEURON's own h.distance from the origin."""
    origin = mech["scale_origin"]
    origin_seg = sections[origin["section"]](origin["x"])
    for p, spec in mech["scale"].items():
        code = re.sub(r"\bif\s*\(", "_if(", spec["expression"]).replace("^", "**")
        for seg in sec:
            d = h.distance(origin_seg, seg)
            factor = eval(code, {"__builtins__": {}}, dict(SCALE_FUNCTIONS, distance=d))
            setattr(seg, f"{p}_{mech['name']}", spec["value"] * float(factor))


def build_synapses(cell, sections, used_mechs):
    """Point processes with a NetCon each, from the optional "synapses" list.

    Returns [(point process, NetCon, event times)], kept alive by the caller
    for the whole run; the events are queued after finitialize.
    """
    out = []
    for k, sd in enumerate(cell.get("synapses", [])):
        name = sd["mechanism"]
        sec_i = sd["section"]
        if not 0 <= sec_i < len(sections):
            raise SystemExit(f"run_neuron.py: synapse {k}: no section {sec_i}")
        if name not in mechanism_names(1):
            raise SystemExit(f"run_neuron.py: synapse {k}: '{name}' is not a point process")
        syn = getattr(h, name)(sections[sec_i](sd.get("x", 0.5)))
        used_mechs.add(name)
        for p, v in sd.get("params", {}).items():
            if not hasattr(syn, p):
                raise SystemExit(f"run_neuron.py: synapse {k}: unknown parameter '{p}' of '{name}'")
            setattr(syn, p, v)
        events = [float(te) for te in sd.get("events", [])]
        nc = None
        if events:  # a clamp (SEClamp) has no NET_RECEIVE and takes no NetCon
            nc = h.NetCon(None, syn)
            nc.delay = 0.0
            nc.weight[0] = float(sd.get("weight", 0.0))
        if any(te < 0 for te in events):
            raise SystemExit(f"run_neuron.py: synapse {k}: negative event time")
        out.append((syn, nc, events))
    return out


# Initial concentrations given to NEURON's globals so far, over every cell of the run: {global name: value}.
INITIAL_CONCENTRATIONS = {}


def set_initial_concentrations(cell, sections):
    """Concentrations set on sections where a mechanism WRITEs them also become NEURON's initial ones.

    Where a mechanism WRITEs an ion's concentration (the ion style's cinit flag), finitialize resets that
    ion's cai and cao to the globals cai0_ca_ion and cao0_ca_ion, which would undo values set on the
    segments. rall's setting is the value the run starts from, so such a value goes to the global, which
    is one for the whole process: every written section of every cell must then ask for the same value,
    or the run stops with an error (NEURON cannot start those sections from different values). Where no
    mechanism writes the ion, the segment values stay as they are set.
    """
    ions = {i for sd in cell["sections"] for i in sd.get("ions", {})} | set(cell.get("ions", {}))
    for ion in sorted(ions):
        for key, suffix in (("ci", "i0"), ("co", "o0")):
            name = f"{ion}{suffix}_{ion}_ion"
            for i, (sd, sec) in enumerate(zip(cell["sections"], sections)):
                if not h.ismembrane(f"{ion}_ion", sec=sec):
                    continue
                written = (int(h.ion_style(f"{ion}_ion", sec=sec)) >> 6) & 1
                value = sd.get("ions", {}).get(ion, {}).get(key, cell.get("ions", {}).get(ion, {}).get(key))
                if not written:
                    continue
                wanted = getattr(h, name) if value is None else value
                if INITIAL_CONCENTRATIONS.setdefault(name, wanted) != wanted:
                    raise SystemExit(
                        f"run_neuron.py: section {i} ({sd.get('name')}) starts {ion} {key} at {wanted} mM, another "
                        f"written section at {INITIAL_CONCENTRATIONS[name]} mM: NEURON initialises written "
                        f"concentrations from the one global {name}")
                setattr(h, name, wanted)


def instantiate(cell):
    """Sections, synapses (with their NetCons and events), ion settings and IClamps of one cell.

    Returns (sections, synapses, clamps, used mechanism names); keep them alive for the run.
    """
    sections, used_mechs = build(cell)

    def ion_attribute(ion, key):
        # "e" -> ena, "ci" -> nai, "co" -> nao, "i" -> ina
        return {"ci": f"{ion}i", "co": f"{ion}o"}.get(key, f"{key}{ion}")

    def set_ions(ions, secs):
        for ion, props in ions.items():
            for sec in secs:
                if h.ismembrane(f"{ion}_ion", sec=sec):
                    for key, value in props.items():
                        for seg in sec:
                            setattr(seg, ion_attribute(ion, key), value)

    set_ions(cell.get("ions", {}), sections)
    # Per-section values (rall's ion settings on a region) override the cell-wide ones.
    for sd, sec in zip(cell["sections"], sections):
        set_ions(sd.get("ions", {}), [sec])
    set_initial_concentrations(cell, sections)

    synapses = build_synapses(cell, sections, used_mechs)

    clamps = []
    for c in cell.get("iclamps", []):
        stim = h.IClamp(sections[c["section"]](c.get("x", 0.5)))
        stim.delay = c.get("delay", 0.0)
        stim.dur = c.get("dur", 0.0)
        stim.amp = c.get("amp", 0.0)
        clamps.append(stim)
        if "waveform" in c:
            # [[t, nA], ...] played into amp with linear interpolation. Vector.play extrapolates beyond its
            # points, so a point far before the first and one far after the last hold the end values.
            points = c["waveform"]
            points = [[min(points[0][0], 0.0) - 1.0, points[0][1]]] + points + [[points[-1][0] + 1e9, points[-1][1]]]
            tvec = h.Vector([p[0] for p in points])
            ivec = h.Vector([p[1] for p in points])
            ivec.play(stim._ref_amp, tvec, 1)
            clamps.extend([tvec, ivec])
    return sections, synapses, clamps, used_mechs


def set_usetable(cell, used_mechs):
    """Tables off (usetable = 0) when the description asks, so rates are computed exactly as rall does."""
    if not cell.get("usetable", True):
        for name in sorted(used_mechs):
            if hasattr(h, f"usetable_{name}"):
                setattr(h, f"usetable_{name}", 0)


def record_probe(p, sections, recs, prefix):
    """Records a probe's variable into a new vector (appended to recs); returns the probe with its column name."""
    vec = h.Vector()
    seg = sections[p["section"]](p.get("x", 0.5))
    # "variable": a range variable of the segment (e.g. "cai", "m_hh"); the voltage by default.
    # An array element is written `name[k]_mechanism` (rall's element name): `seg._ref_name_mechanism[k]`.
    variable = p.get('variable', 'v')
    element = re.fullmatch(r"(\w+)\[(\d+)\](_\w+)", variable)
    ref = f"_ref_{element.group(1)}{element.group(3)}" if element else f"_ref_{variable}"
    if not hasattr(seg, ref):
        raise SystemExit(f"run_neuron.py: probe '{p['name']}': the segment has no variable '{p.get('variable')}'")
    pointer = getattr(seg, ref)
    vec.record(pointer[int(element.group(2))] if element else pointer)
    recs.append(vec)
    return dict(p, name=prefix + p["name"])


def record_synapse_probe(p, synapses, recs, prefix):
    """Records a point process's variable (appended to recs); returns the probe with its column name."""
    k = p["synapse"]
    if not 0 <= k < len(synapses):
        raise SystemExit(f"run_neuron.py: synapse probe '{p['name']}': no synapse {k}")
    syn = synapses[k][0]
    ref = f"_ref_{p['variable']}"
    if not hasattr(syn, ref):
        raise SystemExit(f"run_neuron.py: synapse probe '{p['name']}': "
                         f"{syn.hname()} has no variable '{p['variable']}'")
    vec = h.Vector()
    vec.record(getattr(syn, ref))
    recs.append(vec)
    return dict(p, name=prefix + p["name"])


def bind_pointers(cells, built):
    """h.setpointer for every synapse's "pointers": the voltage at (section, x) of its own cell, or of the
    cell named by "cell" (cells run side by side: a gap junction between cells)."""
    by_name = {c.get("name", ""): b[0] for c, b in zip(cells, built)}
    for cell, (sections, synapses, _, _) in zip(cells, built):
        for k, sd in enumerate(cell.get("synapses", [])):
            for p in sd.get("pointers", []):
                if "connection" in p:
                    continue  # a NetCon's weight: bound by run_network.py once the NetCons exist
                secs = sections if "cell" not in p else by_name.get(p["cell"])
                if secs is None:
                    raise SystemExit(f"run_neuron.py: synapse {k}: POINTER {p['name']} reads unknown cell {p['cell']}")
                target = secs[p["section"]](p["x"])
                h.setpointer(target._ref_v, p["name"], synapses[k][0])


def main():
    if len(sys.argv) != 3:
        raise SystemExit("usage: run_neuron.py CELL.json OUT.csv")
    with open(sys.argv[1]) as f:
        doc = json.load(f)
    # One cell, or {"cells": [...]} run side by side (probe columns then named "cell.probe").
    cells = doc["cells"] if "cells" in doc else [doc]
    cell = cells[0]
    if any(c.get("v_init", -65.0) != cell.get("v_init", -65.0) for c in cells):
        raise SystemExit("run_neuron.py: the cells start from different v_init; finitialize takes one")

    h.load_file("stdrun.hoc")
    if cell.get("mod_dir"):
        load_mod_dir(cell["mod_dir"])

    built = [instantiate(c) for c in cells]
    bind_pointers(cells, built)
    used_mechs = set().union(*(b[3] for b in built))
    set_usetable(cell, used_mechs)

    dt = float(cell.get("dt", 0.025))
    tstop = float(cell["tstop"])
    interval = float(cell.get("sample_interval", dt))
    every = max(1, int(round(interval / dt)))
    nsteps = int(round(tstop / dt))

    h.cvode_active(0)
    h.secondorder = int(cell.get("secondorder", 0))
    h.celsius = float(cell.get("celsius", 6.3))
    h.dt = dt
    h.steps_per_ms = 1.0 / dt
    h.tstop = tstop

    columns, recs = [], []  # column names, in the order of the recording vectors
    several = len(cells) > 1
    for c, (sections, synapses, _, _) in zip(cells, built):
        prefix = f"{c.get('name', '')}." if several else ""
        for p in c.get("probes", []):
            columns.append(record_probe(p, sections, recs, prefix)["name"])
        for p in c.get("synapse_probes", []):
            columns.append(record_synapse_probe(p, synapses, recs, prefix)["name"])

    t0 = time.perf_counter()
    h.finitialize(float(cell.get("v_init", -65.0)))
    t1 = time.perf_counter()
    # finitialize clears the event queue, so the input events are queued
    # after it. NetCon.event(te) delivers at te itself (the NetCon delay is
    # not added); the fixed-step method delivers it at the start of the first
    # step from t with te <= t + dt/2 (see README.md).
    for _, synapses, _, _ in built:
        for _, nc, events in synapses:
            for te in events:
                nc.event(te)
    if os.environ.get("RALL_NEURON_PSOLVE"):
        # As NEURON's users run it (the benchmarks): NEURON's own time loop, not a Python loop of fadvance.
        pc = h.ParallelContext()
        pc.set_maxstep(10)
        pc.psolve(tstop)
    else:
        for _ in range(nsteps):
            h.fadvance()
    t2 = time.perf_counter()
    log(f"neuron_init_seconds={t1 - t0:.6f}")
    log(f"neuron_run_seconds={t2 - t1:.6f}")

    data = [vec.as_numpy() for vec in recs]
    with open(sys.argv[2], "w") as f:
        f.write(",".join(["t"] + columns) + "\n")
        for k in range(0, nsteps + 1, every):
            row = [repr(k * dt)] + [repr(float(d[k])) for d in data]
            f.write(",".join(row) + "\n")


if __name__ == "__main__":
    main()
