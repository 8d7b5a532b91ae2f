"""rall from Python: load a model file, run it, read exact sensitivities, and fit three hh conductances with
SciPy's L-BFGS-B using rall's exact gradients.

Run from the repository root after `pip install ./python` (see docs/python.md):

    python examples/python/fit_with_scipy.py            # add --plot to draw fit_with_scipy.png (matplotlib)
"""

import pathlib
import sys
import time

import numpy as np
from scipy.optimize import minimize

import rall

HERE = pathlib.Path(__file__).resolve().parent

# 1. A model file: a ball-and-stick cell with hh, a current step and a soma probe (examples/hh_fit.toml).
model = rall.load(HERE.parent / "hh_fit.toml")
print(model, "probes:", model.probes)

# 2. A run: NumPy arrays, nothing written to disk.
run = model.run()
spikes = np.sum((run["soma"][1:] >= 0) & (run["soma"][:-1] < 0))
print(f"{len(run)} samples to {run.time[-1]} ms, {spikes} spikes, peak {run['soma'].max():.1f} mV")

# 3. Exact sensitivities of the soma voltage to three conductances (as multipliers of their values):
#    run.sensitivities[time, probe, parameter], in mV per unit multiplier.
names = ["hh.gnabar", "hh.gkbar", "hh.gl"]
run = model.run(sensitivities=[f"{n}:multiplier" for n in names])
for q, name in enumerate(run.parameters):
    print(f"max |dV/d{name}| = {np.abs(run.sensitivities[:, 0, q]).max():8.2f} mV")

# 4. The model's [fit] table as a loss with its exact gradient: problem(m) -> (loss, dloss/dm). Its targets
#    are the cell simulated at the truth multipliers (1.06, 0.95, 1.1) under two stimulus protocols.
problem = model.fit_problem()
start = time.perf_counter()
result = minimize(problem, problem.start, jac=True, method="L-BFGS-B", bounds=problem.bounds,
                  options={"ftol": 1e-15, "gtol": 1e-12})
print(f"L-BFGS-B: {result.nit} iterations, {result.nfev} loss-and-gradient evaluations, "
      f"{time.perf_counter() - start:.2f} s, loss {result.fun:.2e}")
for name, m in zip(problem.names, result.x):
    print(f"  {name:10s} multiplier {m:.8f}")

if "--plot" in sys.argv:
    import matplotlib.pyplot as plt

    fitted = problem.simulate(result.x)
    first = problem.simulate(problem.start)
    plt.figure(figsize=(8, 4))
    plt.plot(first.time, first["soma"], label="start (all multipliers 1)", color="#E69F00")
    plt.plot(fitted.time, fitted["soma"], label="fitted", color="#0072B2", lw=3)
    plt.xlabel("t [ms]")
    plt.ylabel("V [mV]")
    plt.title("hh conductances fitted with SciPy and rall's exact gradients")
    plt.legend()
    plt.tight_layout()
    plt.savefig("fit_with_scipy.png", dpi=120)
    print("wrote fit_with_scipy.png")
