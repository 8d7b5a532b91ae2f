"""A simulation as a differentiable function of parameter multipliers: the shared part of the PyTorch and JAX
wrappers. `traces(m)` is `[time, probe]`; `traces_and_jacobian(m)` adds `d traces / d m`, `[time, probe,
parameter]`, from rall's exact forward sensitivities."""

import numpy as np


class Layer:
    """`model` run with `parameters` (names such as ``"hh.gnabar@soma"``) multiplied by `m`; the traces of
    `probes` (default: all the model's probes) over `t_stop` (default: the model's)."""

    def __init__(self, model, parameters, probes=None, t_stop=None):
        self.model = model
        self.names = list(parameters)
        if not self.names:
            raise ValueError("name at least one parameter")
        self.t_stop = t_stop
        run = model.run(t_stop=t_stop)
        self.probes = list(probes) if probes is not None else list(model.probes)
        missing = [p for p in self.probes if p not in model.probes]
        if missing:
            raise KeyError(f"no probe {missing} in the model (probes: {model.probes})")
        self._columns = [run.probes.index(p) for p in self.probes]
        self.time = run.time
        self.shape = (len(run.time), len(self.probes))

    def _multipliers(self, m):
        m = np.asarray(m, dtype=np.float64).reshape(-1)
        if m.shape != (len(self.names),):
            raise ValueError(f"expected {len(self.names)} multipliers ({self.names}), got {m.shape[0]}")
        return m

    def traces(self, m):
        m = self._multipliers(m)
        run = self.model.run(t_stop=self.t_stop, multipliers=dict(zip(self.names, m.tolist())))
        return run.traces[:, self._columns]

    def traces_and_jacobian(self, m):
        m = self._multipliers(m)
        if np.any(m == 0):
            raise ValueError("the multipliers must be non-zero (sensitivities are taken relative to them)")
        run = self.model.run(
            t_stop=self.t_stop,
            multipliers=dict(zip(self.names, m.tolist())),
            sensitivities=[f"{name}:multiplier" for name in self.names],
        )
        # A `:multiplier` lane differentiates a factor μ of the value already multiplied by m: d/dμ = m d/dm.
        jacobian = run.sensitivities[:, self._columns, :] / m
        return run.traces[:, self._columns], jacobian
