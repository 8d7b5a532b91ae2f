#!/usr/bin/env python3
"""Turn a NeuroML2 cell into NEURON sections the way NEURON users get them, and write the sections as JSON.

Usage: neuroml_sections.py CELL.nml OUT.json JNEUROML.jar

NEURON's Import3d reads only NeuroML v1 (MorphML); a NeuroML2 cell reaches NEURON through jNeuroML's
`-neuron` export, a hoc template of sections, 3D points and `connect` statements. This script runs that
export (java -jar JNEUROML.jar CELL.nml -neuron) into a temporary folder, loads the template's geometry
into NEURON (the procedures that insert channels and set ions are emptied, so no .mod file is compiled),
makes one cell and writes, for every section of its `all` list: its name, the index of its parent section
(null for the root), the position on the parent it connects to, its length L, its membrane area (the sum
over its segments, NEURON's frustum sum), nseg and its number of 3D points. rall's tests compare its
NeuroML reader with this (crates/rall/tests/neuroml_neuron.rs).
"""

import json
import os
import re
import subprocess
import sys
import tempfile

# Procedures of jNeuroML's template that need mechanisms or ions; their bodies are emptied.
BIOPHYSICS = ("biophys", "biophys_inhomogeneous", "set_initial_ion_properties", "set_initial_v")


def empty_procedure(hoc, name):
    """Replaces the body of `proc name() ... { ... }` with an empty one (braces counted)."""
    match = re.search(r"proc\s+%s\s*\(\s*\)[^{]*\{" % re.escape(name), hoc)
    if match is None:
        return hoc
    depth, i = 1, match.end()
    while depth > 0:
        depth += {"{": 1, "}": -1}.get(hoc[i], 0)
        i += 1
    return hoc[: match.end()] + "\n}" + hoc[i:]


def main():
    if len(sys.argv) != 4:
        raise SystemExit("usage: neuroml_sections.py CELL.nml OUT.json JNEUROML.jar")
    cell_file, out_file, jar = sys.argv[1:]
    with tempfile.TemporaryDirectory(prefix="rall-jnml-") as folder:
        run = subprocess.run(
            ["java", "-jar", jar, os.path.abspath(cell_file), "-neuron", "-outputdir", folder],
            capture_output=True,
            text=True,
        )
        hocs = [f for f in os.listdir(folder) if f.endswith(".hoc")]
        if run.returncode != 0 or len(hocs) != 1:
            raise SystemExit("jNeuroML's export of %s failed:\n%s%s" % (cell_file, run.stdout[-3000:], run.stderr))
        with open(os.path.join(folder, hocs[0])) as f:
            hoc = f.read()
        for name in BIOPHYSICS:
            hoc = empty_procedure(hoc, name)
        template = re.search(r"begintemplate\s+(\S+)", hoc).group(1)
        geometry = os.path.join(folder, "geometry_" + hocs[0])
        with open(geometry, "w") as f:
            f.write(hoc)
        from neuron import h

        h.load_file("stdlib.hoc")
        h.load_file(geometry)
    cell = getattr(h, template)()
    sections = list(cell.all)
    index = {sec.name(): i for i, sec in enumerate(sections)}
    out = []
    for sec in sections:
        parent = sec.parentseg()
        out.append({
            "name": sec.name().split(".")[-1],
            "parent": None if parent is None else index[parent.sec.name()],
            "parent_x": None if parent is None else parent.x,
            "length": sec.L,
            "area": sum(seg.area() for seg in sec),
            "nseg": sec.nseg,
            "n3d": sec.n3d(),
        })
    with open(out_file, "w") as f:
        json.dump({"cell": template, "sections": out}, f)


if __name__ == "__main__":
    main()
