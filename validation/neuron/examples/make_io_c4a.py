#!/usr/bin/env python3
"""Write a run_neuron.py JSON for the inferior-olive cell on the C4A morphology.

Usage: make_io_c4a.py OUT.json [--start] [--max-length 20] [--tstop 1000]

The morphology is read with NEURON's Import3d (SWC tags: 1 soma, 2 axon,
3 dendrite) and written out section by section as 3D points, so the JSON
carries exactly the geometry NEURON built. Import3d drops C4A's lone axon
sample; as in docs/models/inferior-olive.md the axon is added back as a
4 um stub (diameter 4 um, from the root sample (0,0,0) to (0,0,4)) at the
soma root. Mechanisms: io_soma / io_dend / io_axon from mechanisms/ at the
target conductances (or the fit's start conductances with --start). nseg is
ceil(L / max_length) per section. cm 1, Ra 100, v_init -60, dt 0.025.
"""

import argparse
import json
import math
import os

from neuron import h

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
SWC = os.environ.get("RALL_C4A_SWC", os.path.join(REPO, "..", "shared", "data", "C4A.swc"))

START = {
    "io_soma": {"g_CaL": 0.0015, "g_Kdr_s": 0.003, "g_K_s": 0.0015},
    "io_dend": {"g_K_Ca": 0.030, "g_CaH": 0.009},
    "io_axon": {"g_Na_a": 0.020, "g_K_a": 0.020},
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--start", action="store_true", help="use the fit's start conductances")
    ap.add_argument("--max-length", type=float, default=20.0)
    ap.add_argument("--tstop", type=float, default=1000.0)
    ap.add_argument("--swc", default=SWC)
    args = ap.parse_args()

    h.load_file("stdrun.hoc")
    h.load_file("import3d.hoc")
    reader = h.Import3d_SWC_read()
    reader.input(os.path.abspath(args.swc))
    h.Import3d_GUI(reader, False).instantiate(None)

    roots = [s for s in h.allsec() if s.parentseg() is None]
    assert len(roots) == 1, "expected a single root section"
    order, index = [], {}
    queue = [roots[0]]
    while queue:  # breadth first: parents before children
        sec = queue.pop(0)
        index[sec.name()] = len(order)
        order.append(sec)
        queue.extend(sec.children())

    def mech_of(name):
        if name.startswith("soma"):
            return "io_soma"
        if name.startswith("axon"):
            return "io_axon"
        return "io_dend"

    def section(name, parent, parent_x, points):
        length = sum(math.dist(a[:3], b[:3]) for a, b in zip(points, points[1:]))
        mech = mech_of(name)
        params = START[mech] if args.start else {}
        return {
            "name": name, "parent": parent, "parent_x": parent_x,
            "nseg": max(1, math.ceil(length / args.max_length)),
            "points": points, "cm": 1.0, "Ra": 100.0,
            "mechanisms": [{"name": mech, "params": params}],
        }

    sections = []
    for sec in order:
        pts = [[h.x3d(i, sec=sec), h.y3d(i, sec=sec), h.z3d(i, sec=sec), h.diam3d(i, sec=sec)]
               for i in range(int(sec.n3d()))]
        ps = sec.parentseg()
        parent = None if ps is None else index[ps.sec.name()]
        sections.append(section(sec.name(), parent, 1.0 if ps is None else ps.x, pts))
    root = index[roots[0].name()]
    sections.append(section("axon_stub", root, 0.0, [[0.0, 0.0, 0.0, 4.0], [0.0, 0.0, 4.0, 4.0]]))

    cell = {
        "tstop": args.tstop, "dt": 0.025, "sample_interval": 0.025, "celsius": 6.3,
        "v_init": -60.0, "secondorder": 0,
        "mod_dir": os.path.join(REPO, "mechanisms"), "usetable": False,
        "sections": sections, "iclamps": [],
        "probes": [{"name": "soma", "section": root, "x": 0.5}],
    }
    with open(args.out, "w") as f:
        json.dump(cell, f)
    nseg = sum(s["nseg"] for s in sections)
    print(f"wrote {args.out}: {len(sections)} sections, {nseg} segments")


if __name__ == "__main__":
    main()
