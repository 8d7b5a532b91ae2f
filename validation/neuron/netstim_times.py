#!/usr/bin/env python3
"""Spike times of NEURON's own NetStim for given parameter sets, as JSON.

Usage: netstim_times.py IN.json OUT.json

IN.json: {"tstop": ms, "dt": ms, "stims": [{"interval": ms, "number": n, "start": ms, "noise": x}, ...]}.
Each NetStim is recorded through a NetCon with no target; the run is NEURON's fixed step (CVode off).
OUT.json: {"times": [[t, ...], ...]}, one list per stim, in ms.
"""

import json
import sys

from neuron import h


def main():
    if len(sys.argv) != 3:
        raise SystemExit("usage: netstim_times.py IN.json OUT.json")
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    h.load_file("stdrun.hoc")
    h.cvode_active(0)
    h.dt = float(spec.get("dt", 0.025))
    keep, vectors = [], []
    for k, p in enumerate(spec["stims"]):
        stim = h.NetStim()
        for key in ("interval", "number", "start", "noise"):
            if key in p:
                setattr(stim, key, float(p[key]))
        stim.noiseFromRandom123(k, 1, 2)
        times = h.Vector()
        nc = h.NetCon(stim, None)
        nc.record(times)
        keep.append((stim, nc))
        vectors.append(times)
    h.finitialize(-65)
    h.continuerun(float(spec["tstop"]))
    with open(sys.argv[2], "w") as f:
        json.dump({"times": [list(v) for v in vectors]}, f)


if __name__ == "__main__":
    main()
