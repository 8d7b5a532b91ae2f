#!/usr/bin/env python3
"""Run BluePyOpt's own thalamocortical cell example (Iavarone et al. 2019 as BluePyOpt ships it) in NEURON.

Usage: tc_bluepyopt.py TC_DIR ETYPE ROW PROTOCOL OUT.csv [--tstop MS] [--dt 0.025]

TC_DIR is examples/thalamocortical-cell of the BluePyOpt 1.14.26 source distribution (fetched by
validation/corpus/fetch.sh; BluePyOpt installed by validation/neuron/install_bluepyopt.sh). The cell is the
example's own (CellEvalSetup.evaluator.create(ETYPE)) with the free parameters of row ROW of
results/ETYPE_params.csv; PROTOCOL is run as BluePyOpt runs it, with a fixed step dt (cvode off), for its
total duration or for --tstop ms. The .mod files are compiled by the nrnivmodl next to this Python in
$RALL_NRNIVMODL_CACHE/tc-bluepyopt (default ~/.cache/rall/nrnivmodl). Writes OUT.csv: t (ms), soma (mV),
every step; prints the spike count and the wall time of the run.
"""

import argparse
import csv
import fcntl
import glob
import hashlib
import os
import shutil
import subprocess
import sys
import time


def compile_mechanisms(mod_dir):
    mods = sorted(glob.glob(os.path.join(mod_dir, "*.mod")))
    digest = hashlib.sha256()
    for path in mods:
        with open(path, "rb") as f:
            digest.update(os.path.basename(path).encode() + b"\0" + f.read() + b"\0")
    root = os.environ.get("RALL_NRNIVMODL_CACHE",
                          os.path.join(os.path.expanduser("~"), ".cache", "rall", "nrnivmodl"))
    build = os.path.join(root, "tc-bluepyopt")
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, "tc-bluepyopt.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stamp = os.path.join(build, "sources.sha256")
        if glob.glob(os.path.join(build, "*", "libnrnmech.so")) and os.path.exists(stamp) \
                and open(stamp).read().strip() == digest.hexdigest():
            return build
        shutil.rmtree(build, ignore_errors=True)
        os.makedirs(os.path.join(build, "mod"))
        for path in mods:
            shutil.copy2(path, os.path.join(build, "mod"))
        nrnivmodl = os.path.join(os.path.dirname(sys.executable), "nrnivmodl")
        res = subprocess.run([nrnivmodl, "mod"], cwd=build, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
        if res.returncode != 0:
            print(res.stdout, file=sys.stderr)
            raise SystemExit("tc_bluepyopt.py: nrnivmodl failed")
        with open(stamp, "w") as f:
            f.write(digest.hexdigest() + "\n")
        return build


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tc_dir")
    ap.add_argument("etype")
    ap.add_argument("row", type=int)
    ap.add_argument("protocol")
    ap.add_argument("out")
    ap.add_argument("--tstop", type=float)
    ap.add_argument("--dt", type=float, default=0.025)
    a = ap.parse_args()
    tc_dir = os.path.abspath(a.tc_dir)
    out = os.path.abspath(a.out)
    build = compile_mechanisms(os.path.join(tc_dir, "mechanisms"))
    # The example resolves its morphology against the working folder and imports its modules flat.
    os.chdir(tc_dir)
    sys.path.insert(0, os.path.join(tc_dir, "CellEvalSetup"))
    import neuron
    neuron.load_mechanisms(build)
    import bluepyopt.ephys as ephys
    import evaluator
    ev = evaluator.create(a.etype)
    sim = ephys.simulators.NrnSimulator(cvode_active=False, dt=a.dt)
    with open(os.path.join(tc_dir, "results", f"{a.etype}_params.csv")) as f:
        rows = list(csv.reader(f, quoting=csv.QUOTE_NONNUMERIC))
    params = ev.param_dict(rows[a.row])
    protocol = ev.fitness_protocols[a.protocol]
    if a.tstop is not None:
        for stimulus in protocol.stimuli:
            stimulus.total_duration = a.tstop
    started = time.time()
    response = protocol.run(ev.cell_model, params, sim=sim, isolate=False)[f".{a.protocol}.soma.v"]
    wall = time.time() - started
    t, v = list(response["time"]), list(response["voltage"])
    spikes = sum(1 for i in range(1, len(v)) if v[i - 1] < -20.0 <= v[i])
    with open(out, "w") as f:
        f.write("t,soma\n")
        for ti, vi in zip(t, v):
            f.write(f"{ti!r},{vi!r}\n")
    print(f"{a.etype} row {a.row} {a.protocol}: {spikes} spikes in {t[-1]:.1f} ms, {wall:.1f} s")


if __name__ == "__main__":
    main()
