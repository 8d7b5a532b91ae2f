#!/usr/bin/env python3
"""Write the hh_tree(10, 1.0) cell as JSON for validation/neuron/run_neuron.py.

    python3 validation/jaxley/hh_tree_neuron_json.py OUT.json [gnabar=S] [gkbar=S] [gl=S]

Each optional NAME=S multiplies that hh conductance by S on every section
(e.g. gnabar=1.00001 for a finite-difference check of the Jaxley gradient).
"""
import json
import sys

scale = {"gnabar": 1.0, "gkbar": 1.0, "gl": 1.0}
for arg in sys.argv[2:]:
    key, val = arg.split("=")
    if key not in scale:
        sys.exit(f"unknown conductance {key!r}; use gnabar, gkbar or gl")
    scale[key] = float(val)
base = {"gnabar": 0.12, "gkbar": 0.036, "gl": 0.0003}
mech = [{"name": "hh", "params": {k: base[k] * scale[k] for k in base}}]
sections = [
    {"name": "soma", "parent": None, "parent_x": 1.0, "nseg": 1,
     "points": [[0, 0, 0, 20], [20, 0, 0, 20]], "cm": 1.0, "Ra": 100.0,
     "mechanisms": mech}
]
for i in range(10):
    sections.append(
        {"name": f"dend{i}", "parent": 0, "parent_x": 1.0, "nseg": 10,
         "points": [[20, 0, 0, 1], [220, 0, 0, 1]], "cm": 1.0, "Ra": 100.0,
         "mechanisms": mech}
    )
cfg = {
    "tstop": 200.0, "dt": 0.025, "sample_interval": 0.025, "celsius": 6.3,
    "v_init": -65.0, "secondorder": 0, "mod_dir": None, "usetable": False,
    "sections": sections,
    "ions": {"na": {"e": 50.0}, "k": {"e": -77.0}},
    "iclamps": [{"section": 0, "x": 0.5, "delay": 10.0, "dur": 980.0, "amp": 1.0}],
    "probes": [{"name": "soma", "section": 0, "x": 0.5}],
}
with open(sys.argv[1], "w") as f:
    json.dump(cfg, f, indent=1)
