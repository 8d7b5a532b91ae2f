"""rall: multicompartmental neurons with exact gradients.

Load a model file (TOML; docs/model-format.md), run it, and get traces, exact sensitivities and fitting
problems as NumPy arrays::

    import rall
    model = rall.load("examples/hh_tree.toml")
    run = model.run(sensitivities=["hh.gnabar:multiplier"])
    run.time, run["soma"], run.sensitivities   # [time, probe, parameter]

See docs/python.md.
"""

from os import fspath as _fspath

from . import _rall
from ._progress import ProgressBar
from ._rall import FitProblem, Model, ModelError, Run, SimulationError

__all__ = ["load", "Model", "Run", "FitProblem", "ModelError", "SimulationError", "ProgressBar"]


def load(path) -> Model:
    """Reads a model file; raises rall.ModelError naming the file, line and column of what is wrong."""
    return _rall.load(_fspath(path))
