"""Fitting from Python: SciPy's L-BFGS-B with rall's exact gradients recovers three hh conductances from a
trace that NEURON simulated at known values."""

import subprocess
import sys

import numpy as np
import pytest

import rall

TRUTH = {"hh.gnabar": 1.06, "hh.gkbar": 0.95, "hh.gl": 1.1}


def neuron_trace(root, model, tmp_path):
    pytest.importorskip("neuron")
    cell = tmp_path / "truth.json"
    cell.write_text(model.neuron_json(multipliers=TRUTH))
    out = tmp_path / "neuron.csv"
    subprocess.run(
        [sys.executable, str(root / "validation" / "neuron" / "run_neuron.py"), str(cell), str(out)],
        check=True,
        capture_output=True,
    )
    data = np.genfromtxt(out, delimiter=",", names=True)
    return data["t"], data["soma"]


def test_scipy_recovers_conductances_from_a_neuron_trace(root, tmp_path):
    from scipy.optimize import minimize

    model = rall.load(root / "examples" / "hh_fit.toml")
    time, soma = neuron_trace(root, model, tmp_path)
    problem = model.fit_problem(parameters=list(TRUTH), target=(time, {"soma": soma}), bounds=(0.5, 2.0))
    assert problem.names == list(TRUTH)
    assert np.array_equal(problem.start, np.ones(3))
    loss, gradient = problem(problem.start)
    assert loss > 0 and gradient.shape == (3,)
    result = minimize(
        problem,
        problem.start,
        jac=True,
        method="L-BFGS-B",
        bounds=problem.bounds,
        options={"ftol": 1e-20, "gtol": 1e-14, "maxiter": 200},
    )
    error = np.max(np.abs(result.x - np.array(list(TRUTH.values()))))
    # Measured: 3.7e-13 after 23 iterations (28 evaluations); rall and NEURON differ by 1.2e-9 mV at the
    # truth. Allowed 1e-11 (the issue asks for 1e-6).
    assert error < 1e-11, (result, error)


def test_fit_problem_of_the_model_file_and_its_gradient(root):
    model = rall.load(root / "examples" / "hh_fit.toml")
    model.t_stop = 20
    problem = model.fit_problem()
    assert problem.names == list(TRUTH)
    m = np.array([1.02, 0.97, 1.05])
    loss, gradient = problem(m)
    h = 1e-6
    for k in range(3):
        step = np.zeros(3)
        step[k] = h
        fd = (problem.loss(m + step) - problem.loss(m - step)) / (2 * h)
        # Measured: relative differences 5.9e-7, 5.1e-7, 8.9e-8; allowed 1e-5.
        assert fd == pytest.approx(gradient[k], rel=1e-5, abs=1e-9 * abs(loss))
    with pytest.raises(ValueError, match="expected 3 multipliers"):
        problem(np.ones(2))
