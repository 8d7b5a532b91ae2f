"""rall as a JAX function with a custom VJP: ``f = rall.jax.simulation(model, ["hh.gnabar", ...])``, then
``f(m)`` is the traces ``[time, probe]`` at multipliers ``m`` and ``jax.grad`` / ``jax.vjp`` through it use
rall's exact sensitivities. Works eagerly and under ``jax.jit`` (through ``jax.pure_callback``); enable
``jax_enable_x64`` for double precision. Needs JAX (imported only here)."""

import jax
import jax.numpy as jnp
import numpy as np

from ._layer import Layer


def simulation(model, parameters, probes=None, t_stop=None):
    """A differentiable function of the parameters' multipliers (see `rall._layer.Layer`); its attributes
    ``time`` and ``probes`` say what the rows and columns of its result are."""
    layer = Layer(model, parameters, probes, t_stop)
    dtype = jnp.float64 if jax.config.jax_enable_x64 else jnp.float32
    traces_shape = jax.ShapeDtypeStruct(layer.shape, dtype)
    jacobian_shape = jax.ShapeDtypeStruct(layer.shape + (len(layer.names),), dtype)

    def run(m):
        return np.asarray(layer.traces(m), dtype=dtype)

    def run_with_jacobian(m):
        traces, jacobian = layer.traces_and_jacobian(m)
        return np.asarray(traces, dtype=dtype), np.asarray(jacobian, dtype=dtype)

    @jax.custom_vjp
    def f(m):
        return jax.pure_callback(run, traces_shape, m, vmap_method="sequential")

    def forward(m):
        traces, jacobian = jax.pure_callback(
            run_with_jacobian, (traces_shape, jacobian_shape), m, vmap_method="sequential"
        )
        return traces, jacobian

    def backward(jacobian, cotangent):
        return (jnp.einsum("tp,tpq->q", cotangent, jacobian),)

    f.defvjp(forward, backward)
    f.time = layer.time
    f.probes = layer.probes
    f.parameters = layer.names
    return f
