#!/usr/bin/env python3
"""Read an SWC or Neurolucida ASC file with NEURON's own reader (Import3d) and write its sections as JSON.

Usage: import3d_sections.py CELL.swc|CELL.asc OUT.json

For every section Import3d instantiates: its name, its 3D points [x, y, z, diam] as NEURON stores them,
the index of its parent section (null for the root), the position on the parent it connects to, and its
membrane area with nseg = 1 (NEURON's own frustum sum). rall's tests compare its SWC reader with this.
"""

import json
import sys

from neuron import h


def main():
    if len(sys.argv) != 3:
        raise SystemExit("usage: import3d_sections.py CELL.swc|CELL.asc OUT.json")
    h.load_file("stdlib.hoc")
    h.load_file("import3d.hoc")
    reader = h.Import3d_Neurolucida3() if sys.argv[1].lower().endswith(".asc") else h.Import3d_SWC_read()
    reader.quiet = 1
    reader.input(sys.argv[1])
    h.Import3d_GUI(reader, 0).instantiate(None)
    sections = list(h.allsec())
    index = {sec.name(): i for i, sec in enumerate(sections)}
    out = []
    for sec in sections:
        sec.nseg = 1
        parent = sec.parentseg()
        out.append({
            "name": sec.name(),
            "points": [[sec.x3d(k), sec.y3d(k), sec.z3d(k), sec.diam3d(k)] for k in range(sec.n3d())],
            "parent": None if parent is None else index[parent.sec.name()],
            "parent_x": None if parent is None else parent.x,
            "area": sum(seg.area() for seg in sec),
            "length": sec.L,
        })
    with open(sys.argv[2], "w") as f:
        json.dump({"sections": out}, f)


if __name__ == "__main__":
    main()
