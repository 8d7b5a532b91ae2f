#!/usr/bin/env python3
"""The BASELINE workloads of the speed issue, timed side by side: rall with each kernel backend (Cranelift, the
default; the system compiler, RALL_BACKEND=cc, when the binary has the feature; the reference interpreter),
NEURON 9.0.2 (its own `ParallelContext.psolve` loop,
with exact rates and with its default rate tables) and Arbor 0.12.2 (its own `simulation.run`), one thread
each, every run a fresh process, the simulators interleaved round by round; prints medians, ratios and ns per
CV-step from the same run. Only same-run ratios count: this machine is noisy.

Workload: a one-CV soma (20 x 20 um) with N hh dendrites (200 x 1 um, 10 CVs each) at its distal end, hh
everywhere, 0.5 nA into the soma from t = 0, 1 s at dt 0.025 ms, backward Euler, the soma recorded every step.

Usage: benches/baseline.sh [ROUNDS] (installs NEURON and Arbor into .venv-bench, builds rall, runs this)
       baseline.py RALL_BINARY [ROUNDS]
       baseline.py --one SIMULATOR DENDRITES     (one timed run, in this process: prints `seconds=...`)
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time

T_STOP_MS = 1000.0
DT_MS = 0.025
AMPLITUDE_NA = 0.5
WORKLOADS = [("hh_tree", 10), ("hh_tree_1k", 100)]
PEERS = ["neuron-exact", "neuron-tables", "arbor"]
# rall's kernel backends: (column name, RALL_BACKEND); "rall-cc" needs a binary built with the feature.
RALL_VARIANTS = [("rall", "compiled"), ("rall-cc", "cc"), ("rall-interp", "interpreter")]


def cvs(dendrites):
    return 1 + 10 * dendrites


def rall_model(dendrites):
    """The workload as a rall model file."""
    branches = "\n".join("  { parent = 0, length = 200.0, diameter = 1.0 }," for _ in range(dendrites))
    return f"""
[simulation]
t_stop = {T_STOP_MS}
dt = {DT_MS}
[morphology]
cylinder = [
  {{ length = 20.0, diameter = 20.0, tag = 1 }},
{branches}
]
[discretization]
policy = "max-extent"
max_extent = 20.0
[[mechanism]]
name = "hh"
[[stimulus]]
at = "(location 0 0.5)"
delay = 0.0
duration = {T_STOP_MS}
amplitude = {AMPLITUDE_NA}
[[probe]]
name = "soma"
at = "(location 0 0.5)"
"""


def neuron_seconds(dendrites, tables):
    from neuron import h

    h.load_file("stdrun.hoc")
    soma = h.Section(name="soma")
    soma.L, soma.diam, soma.nseg = 20.0, 20.0, 1
    dends = []
    for k in range(dendrites):
        d = h.Section(name=f"dend{k}")
        d.L, d.diam, d.nseg = 200.0, 1.0, 10
        d.connect(soma(1))
        dends.append(d)
    for sec in [soma, *dends]:
        sec.insert("hh")
    h.usetable_hh = 1 if tables else 0
    stim = h.IClamp(soma(0.5))
    stim.delay, stim.dur, stim.amp = 0.0, T_STOP_MS, AMPLITUDE_NA
    v = h.Vector().record(soma(0.5)._ref_v)
    h.cvode_active(0)
    h.celsius = 6.3
    h.dt = DT_MS
    h.steps_per_ms = 1.0 / DT_MS
    pc = h.ParallelContext()
    pc.set_maxstep(10)  # psolve needs a maximum step; a single cell has no connections to bound it
    h.finitialize(-65.0)
    start = time.perf_counter()
    pc.psolve(T_STOP_MS)
    seconds = time.perf_counter() - start
    assert len(v) >= int(T_STOP_MS / DT_MS), len(v)
    return seconds


def arbor_seconds(dendrites):
    import arbor as A

    U = A.units
    tree = A.segment_tree()
    soma = tree.append(A.mnpos, A.mpoint(-10, 0, 0, 10), A.mpoint(10, 0, 0, 10), tag=1)
    for _ in range(dendrites):
        tree.append(soma, A.mpoint(10, 0, 0, 0.5), A.mpoint(210, 0, 0, 0.5), tag=3)
    decor = A.decor()
    decor.paint("(all)", A.density("hh"))
    decor.place("(location 0 0.5)", A.i_clamp(0 * U.ms, T_STOP_MS * U.ms, AMPLITUDE_NA * U.nA))
    cell = A.cable_cell(tree, decor, A.label_dict(), A.cv_policy_max_extent(20.0 * U.um))

    class Recipe(A.recipe):
        def __init__(self):
            A.recipe.__init__(self)
            self.props = A.neuron_cable_properties()
            self.props.set_property(tempK=(6.3 + 273.15) * U.Kelvin)

        def num_cells(self):
            return 1

        def cell_kind(self, gid):
            return A.cell_kind.cable

        def cell_description(self, gid):
            return cell

        def probes(self, gid):
            return [A.cable_probe_membrane_voltage("(location 0 0.5)", "v")]

        def global_properties(self, kind):
            return self.props

    sim = A.simulation(Recipe(), A.context(threads=1))
    handle = sim.sample((0, "v"), A.regular_schedule(DT_MS * U.ms))
    start = time.perf_counter()
    sim.run(T_STOP_MS * U.ms, DT_MS * U.ms)
    seconds = time.perf_counter() - start
    assert sim.samples(handle), "no samples"
    return seconds


def one(simulator, dendrites):
    if simulator == "arbor":
        return arbor_seconds(dendrites)
    return neuron_seconds(dendrites, tables=simulator == "neuron-tables")


def timed(cmd, env=None):
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{out.stderr}")
    for line in (out.stdout + out.stderr).splitlines():
        if line.startswith("seconds="):
            return float(line.split("=")[1])
        if line.startswith("simulated ") and " in " in line:
            return float(line.split(" in ")[1].split(" s")[0])
    raise SystemExit(f"{' '.join(cmd)}: no time in its output:\n{out.stdout}{out.stderr}")


def main():
    if sys.argv[1:2] == ["--one"]:
        print(f"seconds={one(sys.argv[2], int(sys.argv[3])):.6f}")
        return
    rall = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    work = tempfile.mkdtemp(prefix="rall-baseline-")
    # The system compiler builds each kernel once per machine: build them before timing.
    warm = os.path.join(work, "warm.toml")
    with open(warm, "w") as f:
        f.write(rall_model(1).replace(f"t_stop = {T_STOP_MS}", "t_stop = 1.0"))
    timed([rall, "run", warm, "-o", os.path.join(work, "warm.csv")], dict(os.environ, RALL_BACKEND="cc"))
    times = {}
    for name, dendrites in WORKLOADS:
        model = os.path.join(work, f"{name}.toml")
        with open(model, "w") as f:
            f.write(rall_model(dendrites))
        for r in range(rounds):
            # Interleaved: every simulator once per round, in a fresh process.
            cmd = [rall, "run", model, "-o", os.path.join(work, f"{name}.csv")]
            times.setdefault((name, "rall"), []).append(timed(cmd))
            for variant, backend in RALL_VARIANTS[1:]:
                env = dict(os.environ, RALL_BACKEND=backend)
                times.setdefault((name, variant), []).append(timed(cmd, env))
            for peer in PEERS:
                cmd = [sys.executable, os.path.abspath(__file__), "--one", peer, str(dendrites)]
                times.setdefault((name, peer), []).append(timed(cmd))
            print(f"{name}: round {r + 1} of {rounds} done", file=sys.stderr)
    steps = T_STOP_MS / DT_MS
    print(f"medians of {rounds} interleaved rounds, one thread each, 1 s at dt {DT_MS} ms")
    ours = [v for v, _ in RALL_VARIANTS]
    print(f"{'workload':12} {'simulator':14} {'seconds':>8} {'ns/CV-step':>11}" + "".join(f" {v + ' / it':>15}" for v in ours))
    for name, dendrites in WORKLOADS:
        for sim in ours + PEERS:
            s = statistics.median(times[(name, sim)])
            ns = s / (cvs(dendrites) * steps) * 1e9
            ratios = "".join(f" {statistics.median(times[(name, v)]) / s:15.2f}" for v in ours)
            print(f"{name:12} {sim:14} {s:8.3f} {ns:11.1f}{ratios}")


if __name__ == "__main__":
    main()
