"""rall: multicompartmental neurons with exact gradients.

Load a model file (TOML; docs/model-format.md) or build a cell with rall.Cell (a network with
rall.Network), run it, and get traces, spikes, exact sensitivities and fitting problems as NumPy arrays::

    import rall
    model = rall.load("examples/hh_tree.toml")
    run = model.run(sensitivities=["hh.gnabar:multiplier"])
    run.time, run["soma"], run.sensitivities   # [time, probe, parameter]

See docs/python.md.
"""

from os import fspath as _fspath
from os import getcwd as _getcwd

from . import _rall
from ._progress import ProgressBar
from ._rall import FitProblem, Model, ModelError, Run, SimulationError
from .cell import Cell
from .network import Network

__all__ = ["load", "loads", "Cell", "Network", "Model", "Run", "FitProblem", "ModelError", "SimulationError", "ProgressBar"]


def load(path) -> Model:
    """Reads a model file; raises rall.ModelError naming the file, line and column of what is wrong."""
    return _rall.load(_fspath(path))


def loads(text, file="<string>", base=None) -> Model:
    """Reads model text (a model file's TOML); relative paths in it are taken from `base` (default: the
    current folder), and errors name `file`."""
    return _rall.loads(text, file, _fspath(base) if base is not None else _getcwd())
