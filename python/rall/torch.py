"""rall as a PyTorch layer: ``f = rall.torch.simulation(model, ["hh.gnabar", ...])``, then ``f(m)`` (``m`` a
float64 tensor of multipliers) is the traces ``[time, probe]`` and ``backward()`` through it uses rall's exact
sensitivities (a ``torch.autograd.Function``). Needs PyTorch (imported only here)."""

import torch

from ._layer import Layer


class _Simulate(torch.autograd.Function):
    @staticmethod
    def forward(ctx, m, layer):
        values = m.detach().cpu().numpy()
        if ctx.needs_input_grad[0]:
            traces, jacobian = layer.traces_and_jacobian(values)
            ctx.save_for_backward(torch.from_numpy(jacobian).to(m.dtype))
        else:
            traces = layer.traces(values)
        return torch.from_numpy(traces).to(m.dtype)

    @staticmethod
    def backward(ctx, cotangent):
        (jacobian,) = ctx.saved_tensors
        return torch.einsum("tp,tpq->q", cotangent, jacobian), None


def simulation(model, parameters, probes=None, t_stop=None):
    """A differentiable function of the parameters' multipliers (see `rall._layer.Layer`); its attributes
    ``time`` and ``probes`` say what the rows and columns of its result are."""
    layer = Layer(model, parameters, probes, t_stop)

    def f(m):
        return _Simulate.apply(m, layer)

    f.time = layer.time
    f.probes = layer.probes
    f.parameters = layer.names
    return f
