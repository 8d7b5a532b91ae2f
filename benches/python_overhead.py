"""The Python layer's cost: a 1 s hh_tree run from Python against the same run from the `rall` command
line, and the per-call overhead of `Model.run` on a one-CV cell over 10 ms; interleaved rounds, one
thread each, ratios from the same run.

    benches/python_overhead.sh      # builds the release CLI and the package into .venv-bench-python

Usage: python_overhead.py RALL_BINARY [ROUNDS]
"""

import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import rall

ROOT = pathlib.Path(__file__).resolve().parents[1]
ONE_CV = """\
[simulation]
t_stop = 10.0
dt = 0.025

[morphology]
cylinder = [{ length = 20.0, diameter = 20.0, tag = 1 }]

[[mechanism]]
name = "hh"

[[probe]]
name = "soma"
at = "(location 0 0.5)"
"""


def cli_seconds(binary, model, out):
    """Wall time of the command as a user runs it (process start, model load, run, CSV written)."""
    start = time.perf_counter()
    subprocess.run([binary, "run", str(model), "-o", str(out), "-q"], check=True, capture_output=True)
    return time.perf_counter() - start


def python_seconds(model_path):
    """The same from Python: load and run (arrays returned, nothing written)."""
    start = time.perf_counter()
    rall.load(model_path).run()
    return time.perf_counter() - start


def main():
    binary = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    tree = ROOT / "examples" / "hh_tree.toml"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        tree_1s = tmp / "hh_tree_1s.toml"
        tree_1s.write_text(tree.read_text().replace("t_stop = 200.0", "t_stop = 1000.0"))
        assert rall.load(tree_1s).t_stop == 1000.0
        cli, py = [], []
        for _ in range(rounds):
            cli.append(cli_seconds(binary, tree_1s, tmp / "out.csv"))
            py.append(python_seconds(tree_1s))
        c, p = statistics.median(cli), statistics.median(py)
        print(f"hh_tree 1 s, median of {rounds}: CLI {c:.3f} s, Python {p:.3f} s, Python/CLI {p / c:.3f} (goal <= 1.05)")
        one = tmp / "one_cv.toml"
        one.write_text(ONE_CV)
        model = rall.load(one)
        calls = 200

        def per_call(**arguments):
            model.run(**arguments)  # the first call builds the cell; later ones reuse it
            start = time.perf_counter()
            for _ in range(calls):
                model.run(**arguments)
            return (time.perf_counter() - start) / calls * 1e3

        print(f"one-CV hh cell, 10 ms (400 steps): {per_call():.3f} ms per Model.run call")
        print(f"  with multipliers {{hh.gnabar: 1.1}}: {per_call(multipliers={'hh.gnabar': 1.1}):.3f} ms per call")
        print(f"  with a sensitivity: {per_call(sensitivities=['hh.gnabar']):.3f} ms per call")
        print(f"  t_stop = 0 (the fixed cost of a call): {per_call(t_stop=0.0):.3f} ms per call")
        start = time.perf_counter()
        for _ in range(20):
            rall.load(one).run()
        print(f"  rall.load + run (a new build every call): {(time.perf_counter() - start) / 20 * 1e3:.3f} ms per call")


if __name__ == "__main__":
    main()
