"""A cell built in Python, the steps of Jaxley's first tutorials in rall: build a cell, insert channels,
stimulate, record, make parameters trainable, compute exact gradients, optimise.

Run from anywhere after `pip install ./python` (see docs/python.md):

    python examples/python/build_and_train.py        # add --plot for build_and_train.png (matplotlib)
"""

import sys

import numpy as np

import rall

# 1. A ball-and-stick cell: a 20 µm soma and a 200 µm dendrite of 1 µm, cut into 20 µm compartments.
cell = rall.Cell.cylinders([
    {"length": 20.0, "diameter": 20.0, "tag": 1},             # tag 1: the soma
    {"parent": 0, "length": 200.0, "diameter": 1.0},          # tag 3: dendrite (the default)
]).discretize("max-extent", max_extent=20.0).cable(ra=100.0, v_init=-65.0)

# 2. Channels: Hodgkin-Huxley in the soma, passive dendrite (NEURON's hh.mod and pas.mod, built in).
cell.paint("hh", "soma").paint("pas", "dend", g=1e-4, e=-65.0)

# 3. A current step into the soma, and voltage recordings at the soma and the dendrite's tip.
cell.stimulate("(location 0 0.5)", delay=5.0, duration=30.0, amplitude=0.3)
cell.record("soma", "(location 0 0.5)").record("tip", "(location 1 1)")

# 4. Trainable parameters (Jaxley's make_trainable): as multipliers of their values.
cell.trainable("hh.gnabar", "soma").trainable("hh.gkbar", "soma").trainable("pas.g", "dend")

model = cell.model(t_stop=40.0, dt=0.025)
print(model, "probes:", model.probes, "trainable:", model.parameters)

# 5. A run with exact sensitivities of both recordings to the three parameters.
run = model.run(sensitivities=True)
print(f"soma peak {run['soma'].max():.1f} mV, tip peak {run['tip'].max():.1f} mV")
print("sensitivities [time, probe, parameter]:", run.sensitivities.shape)

# 6. A target: the same cell with other conductances (here simulated; in practice a recording).
truth = {"hh.gnabar@soma": 1.2, "hh.gkbar@soma": 0.8, "pas.g@dend": 1.5}
target = model.run(multipliers=truth)

# 7. The loss 1/2 mean((V - target)^2) over both probes, its exact gradient, and an optimiser: rall's
#    Levenberg-Marquardt (or SciPy's minimize(problem, problem.start, jac=True)).
problem = model.fit_problem(
    parameters=list(truth), target=(target.time, {"soma": target["soma"], "tip": target["tip"]}), bounds=(0.2, 5.0)
)
loss, gradient = problem(problem.start)
print(f"loss at the start {loss:.3f}, gradient {np.array2string(gradient, precision=3)}")
result = problem.fit("levenberg-marquardt", iterations=30)
for name, m in zip(problem.names, result["best_multipliers"]):
    print(f"  {name:16s} fitted {m:.6f} (truth {truth[name]})")
print(f"loss {result['best_loss']:.2e} after {len(result['loss'])} iterations")

if "--plot" in sys.argv:
    import matplotlib.pyplot as plt

    fitted = problem.simulate(result["best_multipliers"])
    start = problem.simulate(problem.start)
    fig, axes = plt.subplots(2, 1, sharex=True, figsize=(8, 5))
    for ax, probe in zip(axes, ["soma", "tip"]):
        ax.plot(target.time, target[probe], color="black", lw=4, label="target")
        ax.plot(start.time, start[probe], color="#E69F00", label="start")
        ax.plot(fitted.time, fitted[probe], color="#0072B2", ls="--", label="fitted")
        ax.set_ylabel(f"V {probe} [mV]")
    axes[0].legend()
    axes[1].set_xlabel("t [ms]")
    fig.tight_layout()
    fig.savefig("build_and_train.png", dpi=120)
    print("wrote build_and_train.png")
