#!/usr/bin/env python3
"""Run a network described in JSON (rall's `neuron_network_json`) through NEURON; write the spikes as CSV.

Usage: run_network.py NETWORK.json SPIKES.csv

Every cell is built as run_neuron.py builds one cell. Spike detectors become
NetCons watching the membrane potential at the detector's location with its
threshold (one per connection, plus one that records the cell's spikes), or
NetCons from a point process whose net_event spikes are the cell's (an
ARTIFICIAL_CELL);
the artificial spike sources' trains are queued with NetCon.event at the
arrival time (spike time + delay) after finitialize. Fixed step, CVode off.
The output has the header `t,gid` and one row per spike, sources included.
The wall time of the time-stepping loop is printed as `neuron_run_seconds=...`.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_neuron import bind_pointers, instantiate, load_mod_dir, set_usetable  # noqa: E402

from neuron import h  # noqa: E402


def main():
    import json

    if len(sys.argv) != 3:
        raise SystemExit("usage: run_network.py NETWORK.json SPIKES.csv")
    with open(sys.argv[1]) as f:
        net = json.load(f)
    h.load_file("stdrun.hoc")
    if net.get("mod_dir"):
        load_mod_dir(net["mod_dir"])

    keep = []
    built = []
    used = set()
    instances = []
    for cell in net["cells"]:
        sections, synapses, clamps, used_mechs = instantiate(cell)
        used |= used_mechs
        keep.append((sections, synapses, clamps))
        built.append((cell, sections, [s[0] for s in synapses]))
        instances.append((sections, synapses, clamps, used_mechs))
    bind_pointers(net["cells"], instances)
    set_usetable(net["cells"][0] if net["cells"] else {}, used)

    def netcon_from(gid, k, target):
        """A NetCon from detector k of cell gid: a threshold on the voltage at a location, or (with "synapse")
        the net_event spikes of that point process (an ARTIFICIAL_CELL's spikes)."""
        cell, sections, syns = built[gid]
        d = cell["detectors"][k]
        if "synapse" in d:
            return h.NetCon(syns[d["synapse"]], target)
        sec = sections[d["section"]]
        nc = h.NetCon(sec(d["x"])._ref_v, target, sec=sec)
        nc.threshold = d["threshold"]
        return nc

    ncells = len(built)
    spikes_t, spikes_gid = h.Vector(), h.Vector()
    recorders = []
    for gid, (cell, _, _) in enumerate(built):
        for k in range(len(cell.get("detectors", []))):
            nc = netcon_from(gid, k, None)
            nc.record(spikes_t, spikes_gid, gid)
            recorders.append(nc)

    netcons = []
    by_connection = []  # the NetCons of each connection
    queued = []  # (NetCon, arrival time) of source spikes
    for c in net["connections"]:
        target_syns = built[c["target"]][2]
        by_connection.append([])
        for s in c["synapses"]:
            syn = target_syns[s]
            if c["source"] < ncells:
                nc = netcon_from(c["source"], c["detector"], syn)
                nc.delay = c["delay"]
                nc.weight[0] = c["weight"]
                netcons.append(nc)
            else:
                nc = h.NetCon(None, syn)
                nc.weight[0] = c["weight"]
                netcons.append(nc)
                times = net["sources"][c["source"] - ncells]["times"]
                queued.extend((nc, t + c["delay"]) for t in times)
            by_connection[-1].append(nc)

    # A weight adjuster's POINTER is its connection's NetCon weight, as PyNN binds it
    # (`setpointer wa.wsyn, nc.weight`).
    for cell, (_, _, syns) in zip(net["cells"], built):
        for k, sd in enumerate(cell.get("synapses", [])):
            for p in sd.get("pointers", []):
                if "connection" in p:
                    h.setpointer(by_connection[p["connection"]][0]._ref_weight[0], p["name"], syns[k])

    dt = float(net.get("dt", 0.025))
    tstop = float(net["tstop"])
    h.cvode_active(0)
    h.secondorder = 0
    h.celsius = float(net.get("celsius", 6.3))
    h.dt = dt
    h.steps_per_ms = 1.0 / dt
    h.tstop = tstop
    v_init = float(net["cells"][0].get("v_init", -65.0)) if net["cells"] else -65.0

    t0 = time.perf_counter()
    h.finitialize(v_init)
    for nc, te in queued:
        nc.event(te)
    for _ in range(int(round(tstop / dt))):
        h.fadvance()
    t1 = time.perf_counter()
    print(f"neuron_run_seconds={t1 - t0:.6f}", file=sys.stderr)

    rows = [(t, int(g)) for t, g in zip(spikes_t, spikes_gid)]
    for k, s in enumerate(net["sources"]):
        rows.extend((t, ncells + k) for t in s["times"])
    rows.sort()
    with open(sys.argv[2], "w") as f:
        f.write("t,gid\n")
        for t, g in rows:
            f.write(f"{t!r},{g}\n")


if __name__ == "__main__":
    main()
