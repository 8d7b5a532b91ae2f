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
    # Measured: 3.7e-13 after 23 iterations (28 evaluations), and 3.0e-11 (33 evaluations) once the compiled
    # exp used fused multiply-adds: where L-BFGS-B stops at this depth moves with the last bits of the
    # kernels, and rall and NEURON differ by 1.2e-9 mV at the truth. Allowed 1e-9, 33x the larger (the issue
    # asks for 1e-6).
    assert error < 1e-9, (result, error)


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


def test_rall_optimisers_from_python_equal_rall_fit(root, rall_cli, tmp_path):
    """`FitProblem.fit` (the [fit] table's L-BFGS) against `rall fit` on the same file: the same history."""
    model_path = root / "examples" / "hh_fit.toml"
    out = tmp_path / "fit.csv"
    subprocess.run(
        [rall_cli, "fit", str(model_path), "--iterations", "20", "-o", str(out), "-q"],
        check=True,
        capture_output=True,
    )
    cli = np.genfromtxt(out, delimiter=",", names=True)
    result = rall.load(model_path).fit_problem().fit(iterations=20)
    assert np.array_equal(result["loss"], cli["loss"])
    assert np.array_equal(result["iteration"], cli["iteration"])
    assert np.array_equal(result["multipliers"][:, 0], cli["hhgnabar"])
    import json

    best = json.loads(out.with_suffix(".json").read_text())
    assert result["best_loss"] == best["loss"] and result["best_iteration"] == best["iteration"]
    assert list(result["best_multipliers"]) == [best["multipliers"][name] for name in TRUTH]
    # L-BFGS in log space: measured 2.0e-13 from the truth after 20 iterations (loss 1e-22); allowed 1e-11.
    assert np.max(np.abs(result["best_multipliers"] - np.array(list(TRUTH.values())))) < 1e-11


def test_fit_callback_stops_and_names_are_checked(root):
    problem = rall.load(root / "examples" / "hh_fit.toml").fit_problem()
    seen = []

    def callback(iteration, loss, multipliers):
        seen.append((iteration, loss, list(multipliers)))
        return iteration < 2

    result = problem.fit(optimizer="adam", iterations=50, callback=callback)
    assert [s[0] for s in seen] == [0, 1, 2]
    assert len(result["loss"]) == 3 and result["multipliers"].shape == (3, 3)
    with pytest.raises(ValueError, match="did you mean `cmaes`"):
        problem.fit(optimizer="cma-es")


def test_optimiser_settings_from_python_equal_the_model_files(root, rall_cli, tmp_path):
    """Settings given to `FitProblem.fit` as keywords against the same settings written in `[fit]` and run by
    `rall fit`: the same history, to the bit."""
    text = (root / "examples" / "hh_fit.toml").read_text()
    cases = [
        ("cmaes", 3, {"population": 6, "step": 0.2, "seed": 3}),
        ("adam", 4, {"learning_rate": 0.05, "beta2": 0.99, "decay": 0.9}),
    ]
    problem = rall.load(root / "examples" / "hh_fit.toml").fit_problem()
    for optimizer, iterations, settings in cases:
        table = f'optimizer = "{optimizer}"\n' + "".join(f"{k} = {v}\n" for k, v in settings.items())
        path = tmp_path / f"{optimizer}.toml"
        path.write_text(text.replace('optimizer = "lbfgs"     # adam | lbfgs | cmaes\n', table))
        out = tmp_path / f"{optimizer}.csv"
        subprocess.run(
            [rall_cli, "fit", str(path), "--iterations", str(iterations), "-o", str(out), "-q"],
            check=True,
            capture_output=True,
        )
        cli = np.genfromtxt(out, delimiter=",", names=True)
        result = problem.fit(optimizer=optimizer, iterations=iterations, **settings)
        assert np.array_equal(result["loss"], cli["loss"]), optimizer
        assert np.array_equal(result["multipliers"][:, 1], cli["hhgkbar"]), optimizer
        # The defaults differ: the settings did reach the optimiser.
        default = problem.fit(optimizer=optimizer, iterations=iterations)
        assert not np.array_equal(default["loss"], result["loss"]), optimizer
    with pytest.raises(ValueError, match=r"takes no setting `learning_rte` \(did you mean `learning_rate`\?\)"):
        problem.fit(optimizer="adam", iterations=1, learning_rte=0.1)
    with pytest.raises(ValueError, match="it takes population, step, seed"):
        problem.fit(optimizer="cmaes", iterations=1, learning_rate=0.1)
    with pytest.raises(ValueError, match=r"`beta2` must be a finite number in \[0, 1\)"):
        problem.fit(optimizer="adam", iterations=1, beta2=1.0)
    with pytest.raises(ValueError, match="`population` must be a finite whole number > 0"):
        problem.fit(optimizer="cmaes", iterations=1, population=2.5)


def test_identifiability_equals_the_command_line(root, rall_cli, tmp_path):
    import json

    model_path = root / "examples" / "hh_fit.toml"
    out = tmp_path / "identify.json"
    subprocess.run(
        [rall_cli, "fit", str(model_path), "--identify-at", "truth", "--json", str(out), "-o", str(tmp_path / "f.csv"), "-q"],
        check=True,
        capture_output=True,
    )
    cli = json.loads(out.read_text())["identifiability"]
    report = rall.load(model_path).fit_problem().identifiability(np.array(list(TRUTH.values())))
    assert report["names"] == [p["name"] for p in cli["parameters"]]
    # The same computation, through JSON's shortest round-trip decimals: equal to the last bit.
    assert np.array_equal(report["curvature"], np.array(cli["curvature"]))
    assert np.array_equal(report["eigenvalues"], np.array(cli["scaled_eigenvalues"]))
    assert np.array_equal(
        report["rise_compensated_5_percent"], [p["loss_rise_5_percent_compensated"] for p in cli["parameters"]]
    )
    assert np.all(report["eigenvalues"] > 0)
