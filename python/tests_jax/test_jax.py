"""rall inside JAX: `jax.grad` through `rall.jax.simulation` equals the loss gradient rall computes itself
(`FitProblem`, checked against central differences in tests/test_fit.py), eagerly and under `jax.jit`."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import rall
import rall.jax

jax.config.update("jax_enable_x64", True)

NAMES = ["hh.gnabar", "hh.gkbar", "hh.gl"]


@pytest.fixture
def model(root):
    model = rall.load(root / "examples" / "hh_fit.toml")
    model.t_stop = 20
    return model


def test_jax_gradient_equals_rall_loss_gradient(model):
    f = rall.jax.simulation(model, NAMES)
    assert f.probes == ["soma"] and f.parameters == NAMES
    target = f(jnp.array([1.06, 0.95, 1.1]))[:, 0]

    def loss(m):
        return 0.5 * jnp.mean((f(m)[:, 0] - target) ** 2)

    m = jnp.array([1.02, 0.97, 1.05])
    value, gradient = jax.value_and_grad(loss)(m)
    problem = model.fit_problem(parameters=NAMES, target=(f.time, {"soma": np.asarray(target)}))
    rall_value, rall_gradient = problem(np.asarray(m))
    # Measured: the losses agree to 1.9e-16 and the gradients to 3.5e-16 relative (summation order), eagerly
    # and under jit; allowed 1e-14.
    assert value == pytest.approx(rall_value, rel=1e-14)
    assert np.max(np.abs(np.asarray(gradient) - rall_gradient)) <= 1e-14 * np.max(np.abs(rall_gradient))
    jitted = jax.jit(jax.grad(loss))(m)
    assert np.max(np.abs(np.asarray(jitted) - rall_gradient)) <= 1e-14 * np.max(np.abs(rall_gradient))


def test_vjp_of_every_sample_equals_the_sensitivities(model):
    f = rall.jax.simulation(model, NAMES)
    m = jnp.array([1.0, 1.0, 1.0])
    traces, pullback = jax.vjp(f, m)
    run = model.run(sensitivities=[f"{n}:multiplier" for n in NAMES])
    assert np.array_equal(np.asarray(traces)[:, 0], run["soma"])
    k = len(run) // 2
    cotangent = jnp.zeros_like(traces).at[k, 0].set(1.0)
    (row,) = pullback(cotangent)
    # At m = 1 the multiplier lanes are d/dm exactly: the same numbers.
    assert np.array_equal(np.asarray(row), run.sensitivities[k, 0, :])
