"""rall inside PyTorch: `torch.autograd.gradcheck` (double precision, central differences of rall's own runs)
passes on a small hh cell, and `backward()` gives rall's own loss gradient."""

import numpy as np
import pytest
import torch

import rall
import rall.torch

NAMES = ["hh.gnabar", "hh.gkbar", "hh.gl"]


@pytest.fixture
def model(root):
    model = rall.load(root / "examples" / "hh_fit.toml")
    model.t_stop = 15
    return model


def test_gradcheck_on_a_small_hh_cell(model):
    f = rall.torch.simulation(model, NAMES)
    m = torch.tensor([1.02, 0.97, 1.05], dtype=torch.float64, requires_grad=True)
    # Central differences with eps 1e-6 against rall's exact Jacobian: measured, the worst element uses 3.2 %
    # of gradcheck's allowance atol 1e-5 + rtol 1e-3 (max difference 1.3e-4 mV against sensitivities up to
    # 180 mV).
    assert torch.autograd.gradcheck(f, (m,), eps=1e-6, atol=1e-5, rtol=1e-3)


def test_backward_equals_rall_loss_gradient(model):
    f = rall.torch.simulation(model, NAMES)
    target = f(torch.tensor([1.06, 0.95, 1.1], dtype=torch.float64))[:, 0]
    m = torch.tensor([1.02, 0.97, 1.05], dtype=torch.float64, requires_grad=True)
    loss = 0.5 * torch.mean((f(m)[:, 0] - target) ** 2)
    loss.backward()
    problem = model.fit_problem(parameters=NAMES, target=(f.time, {"soma": target.numpy()}))
    value, gradient = problem(m.detach().numpy())
    # Measured: 2.8e-16 (loss) and 8.9e-17 (gradient) relative; allowed 5e-15.
    assert loss.item() == pytest.approx(value, rel=5e-15)
    assert np.max(np.abs(m.grad.numpy() - gradient)) <= 5e-15 * np.max(np.abs(gradient))
