"""The published tuning experiment from Python: the inferior-olive cell on C4A (examples/io_fit.toml) starts
at the fit's start conductances and is tuned, as 12 multipliers, against the soma voltage of the target
conductances, with rall's Levenberg-Marquardt in log space (the file's curriculum: 100 ms at first, the full
1000 ms after 40 iterations); then what the trace says about each conductance.

    python examples/python/io_fit.py            # 60 iterations, about a minute on two cores
    python examples/python/io_fit.py --quick    # 3 iterations over 100 ms (what the test suite runs)
"""

import pathlib
import sys
import time

import rall

quick = "--quick" in sys.argv
model = rall.load(pathlib.Path(__file__).resolve().parents[1] / "io_fit.toml")
if quick:
    model.t_stop = 100.0
problem = model.fit_problem()  # [fit]: 12 conductances, bounds, log space, the target at the truth
truth = problem.truth  # the multipliers the target was simulated at

start = time.perf_counter()


def progress(iteration, loss, multipliers):
    if iteration % 10 == 0:
        print(f"  iteration {iteration:3d}  loss {loss:.3e}  ({time.perf_counter() - start:.1f} s)")
    return True


result = problem.fit("levenberg-marquardt", iterations=3 if quick else 60, callback=progress)
print(f"best loss {result['best_loss']:.3e} at iteration {result['best_iteration']}, "
      f"{time.perf_counter() - start:.1f} s")
for name, m, t in zip(problem.names, result["best_multipliers"], truth):
    print(f"  {name:24s} {m:10.6f}  (truth {t:.6f})")

report = problem.identifiability(result["best_multipliers"])
print("loss rise when one conductance is 5 % off, alone / with the others compensating:")
for name, alone, compensated in zip(report["names"], report["rise_alone_5_percent"],
                                    report["rise_compensated_5_percent"]):
    print(f"  {name:24s} {alone:10.3e} / {compensated:10.3e}")
