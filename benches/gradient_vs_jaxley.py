#!/usr/bin/env python3
"""The speed issue's gradient case, timed side by side: the hh tree (soma + 10 dendrites of 10 CVs, 200 ms,
dt 0.025 ms, backward Euler), the loss 1/2 mean((v_soma - target)^2) against validation/jaxley/target.csv and
its gradient with respect to multipliers of gNa, gK and gLeak, in rall (`rall grad`, each kernel backend) and
in Jaxley 0.14 (its jit-compiled `value_and_grad`, validation/jaxley/hh_tree_gradient.py), with each one's
plain run beside it. Every run is a fresh process, the simulators interleaved round by round; times exclude
start-up and compilation on both sides (rall: its `simulated ... in` figure; Jaxley: the best of 3 calls after
the compiling one). Only same-run ratios count: this machine is noisy.

Usage: benches/gradient_vs_jaxley.sh [ROUNDS]     (default 3; needs .venv-jaxley, which .ci/run makes)
       gradient_vs_jaxley.py RALL_BINARY JAXLEY_PYTHON [ROUNDS]
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
MODEL = os.path.join(REPO, "examples", "hh_tree.toml")
TARGET = os.path.join(REPO, "validation", "jaxley", "target.csv")
JAXLEY = os.path.join(REPO, "validation", "jaxley", "hh_tree_gradient.py")
BACKENDS = ["cranelift", "cc", "interpreter"]


def rall_seconds(rall, command, backend, work):
    args = [rall, "--backend", backend, command, MODEL, "-o", os.path.join(work, f"{command}.csv")]
    if command == "grad":
        args += ["--target", TARGET]
    out = subprocess.run(args, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{out.stderr}")
    for line in (out.stdout + out.stderr).splitlines():
        if line.startswith("simulated ") and " in " in line:
            return float(line.split(" in ")[1].split(" s")[0])
    raise SystemExit(f"{' '.join(args)}: no time in its output")


def jaxley_seconds(python):
    out = subprocess.run([python, JAXLEY, "--repeats", "3"], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"Jaxley failed:\n{out.stderr}")
    result = json.loads(out.stdout)
    return result["seconds_forward"], result["seconds_gradient"]


def main():
    rall, python = sys.argv[1], sys.argv[2]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    work = tempfile.mkdtemp(prefix="rall-gradient-bench-")
    times = {}
    # The system compiler builds each kernel once per machine: build them before timing.
    rall_seconds(rall, "grad", "cc", work)
    for r in range(rounds):
        for backend in BACKENDS:
            for command in ["run", "grad"]:
                times.setdefault((f"rall {backend}", command), []).append(rall_seconds(rall, command, backend, work))
        forward, gradient = jaxley_seconds(python)
        times.setdefault(("jaxley", "run"), []).append(forward)
        times.setdefault(("jaxley", "grad"), []).append(gradient)
        print(f"round {r + 1} of {rounds} done", file=sys.stderr)
    median = {key: statistics.median(values) for key, values in times.items()}
    print(f"hh tree, 200 ms, gradient of 3 conductance multipliers; medians of {rounds} interleaved rounds")
    print(f"{'simulator':18} {'run s':>8} {'grad s':>8} {'grad / run':>11} {'grad / Jaxley grad':>19}")
    for sim in [f"rall {b}" for b in BACKENDS] + ["jaxley"]:
        run, grad = median[(sim, "run")], median[(sim, "grad")]
        print(f"{sim:18} {run:8.3f} {grad:8.3f} {grad / run:11.2f} {grad / median[('jaxley', 'grad')]:19.2f}")


if __name__ == "__main__":
    main()
