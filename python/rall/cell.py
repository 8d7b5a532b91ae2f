"""Cells built in Python, table by table as a model file describes them (docs/model-format.md): morphology,
labels, discretisation, cable, mechanisms, synapses, stimuli, ions, probes, detectors and trainable
parameters in; a `rall.Model` out. A mistake is reported at the line of your script that made it."""

import json
import math
import os
import re
import sys

from ._rall import ModelError
from ._rall import loads as _loads

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_GENERATED = "<rall.Cell>"


def _key(name):
    return name if _BARE_KEY.match(name) else json.dumps(name)


def _value(v):
    """A TOML value: numbers, strings, booleans, lists and inline tables (NumPy scalars and arrays too)."""
    if hasattr(v, "tolist"):
        v = v.tolist()
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(str(k))} = {_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {v!r} ({type(v).__name__}) into a model")


_PACKAGE = os.path.dirname(os.path.abspath(__file__))


def _caller():
    """The first frame outside this package: the line of the user's script that called the builder."""
    frame = sys._getframe(1)
    while frame is not None and os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == _PACKAGE:
        frame = frame.f_back
    return (frame.f_code.co_filename, frame.f_lineno) if frame is not None else ("<unknown>", 0)


def _absolute(path):
    return os.path.abspath(os.fspath(path))


def _present(**values):
    return {k: v for k, v in values.items() if v is not None}


class Cell:
    """One cell. Start from a morphology file (SWC, Neurolucida ASC, NeuroML2) or from cylinders, then add
    to it; every method returns the cell, so calls chain:

        cell = (rall.Cell.cylinders([{"length": 20, "diameter": 20, "tag": 1},
                                     {"parent": 0, "length": 200, "diameter": 1}])
                .paint("hh")
                .stimulate("(location 0 0.5)", delay=10, duration=100, amplitude=0.5)
                .record("soma", "(location 0 0.5)"))
        model = cell.model(t_stop=50)
    """

    def __init__(self, morphology):
        self._tables = []  # (table name, is an array of tables, values, origin)
        self._mod_files = []
        self._add("morphology", False, morphology)

    @classmethod
    def from_file(cls, path, **options):
        """A morphology file: .swc, .asc or .nml; `options` as `[morphology]` takes them (`delete`, ...)."""
        return cls({"file": _absolute(path), **options})

    @classmethod
    def cylinders(cls, cylinders):
        """Cylinders along x, parents first: dicts with `length`, `diameter` [µm] and optionally `parent`
        (an index), `at` (where on the parent, 0-1, default 1) and `tag` (1 soma, 2 axon, 3 dend, 4 apic)."""
        return cls({"cylinder": [dict(c) for c in cylinders]})

    def label(self, name, expression):
        """A named region or locset (Arbor's label language), e.g. `label("tip", "(terminal)")`."""
        return self._add("labels", False, {name: expression})

    def discretize(self, policy, **options):
        """The CV policy: "max-extent" (max_extent=µm), "fixed-per-branch" (per_branch=n), "d-lambda"
        (d_lambda, frequency), "per-segment", "odd-per-length" (length=µm). Default: d-lambda 0.1 at 100 Hz."""
        return self._add("discretization", False, {"policy": policy, **options})

    def cable(self, region=None, *, cm=None, ra=None, v_init=None):
        """Cable properties [µF/cm², Ω·cm, mV] everywhere, or overrides on `region` (later ones win)."""
        values = _present(cm=cm, ra=ra, v_init=v_init)
        if region is None:
            return self._add("cable", False, values)
        return self._add("cable.region", True, {"region": region, **values})

    def paint(self, mechanism, region=None, *, scale=None, distance_from=None, **parameters):
        """A density mechanism on `region` (default: everywhere) with parameters; `scale` maps parameters to
        expressions of `distance` that multiply them at each CV's centre."""
        values = {"name": mechanism, **_present(region=region)}
        if parameters:
            values["parameters"] = parameters
        values.update(_present(scale=scale, distance_from=distance_from))
        return self._add("mechanism", True, values)

    def synapse(self, at, mechanism, *, events=(), weight=None, pointers=None, **parameters):
        """A point process at every location of `at`, with input events [ms] of `weight`."""
        values = {"at": at, "mechanism": mechanism}
        if parameters:
            values["parameters"] = parameters
        values["events"] = list(events)
        values.update(_present(weight=weight, pointers=pointers))
        return self._add("synapse", True, values)

    def stimulate(self, at, *, amplitude=None, delay=None, duration=None, waveform=None):
        """A current clamp [nA] at every location of `at`; `waveform` as `[[t, nA], ...]` gives a time course."""
        values = {"at": at, **_present(delay=delay, duration=duration, amplitude=amplitude, waveform=waveform)}
        return self._add("stimulus", True, values)

    def ion(self, name, region=None, *, e=None, ci=None, co=None, valence=None):
        """Initial values of ion `name` on `region`: reversal potential [mV], concentrations [mM], valence."""
        values = {"name": name, **_present(region=region, e=e, ci=ci, co=co, valence=valence)}
        return self._add("ion", True, values)

    def record(self, name, at, variable=None):
        """A probe: the membrane potential at every location of `at`, or a mechanism's `variable` ("hh.m")."""
        return self._add("probe", True, {"name": name, "at": at, **_present(variable=variable)})

    def detect(self, at, threshold=-10.0):
        """A spike detector: a spike whenever a step takes V at `at` above `threshold` [mV]."""
        return self._add("detector", True, {"at": at, "threshold": threshold})

    def trainable(self, name, region=None, *, scale="multiplier", label=None):
        """Marks a parameter for sensitivities and fits (Jaxley's make_trainable): `mechanism.parameter`,
        `cm`, `ra`, `stimulus[i].amplitude` or `synapse[i].weight`, on `region`; `model.parameters` lists them
        and `model.run(sensitivities=True)` differentiates them."""
        return self._add("parameter", True, {"name": name, **_present(region=region, scale=scale, label=label)})

    def mod_files(self, *paths):
        """The user's NMODL files, added to the catalogue."""
        self._mod_files.extend(_absolute(p) for p in paths)
        return self

    def homeostasis(self, sensor, direction, at, target, learning_rate, parameters, **options):
        """Homeostatic control (docs/homeostasis.md): moves `parameters` (names, or dicts with `name`,
        `region`, `lower`, `upper`) while the cell runs so that `sensor` (a mechanism state read as a rate
        [Hz]) reaches `target`; `options`: forgetting, clip, every. The controller's sensor, multipliers and
        running gradients come back as columns of `model.run()`."""
        return self._add("homeostasis", False, _homeostasis_table(
            sensor, direction, at, target, learning_rate, options), parameters=parameters)

    def _add(self, table, array, values, parameters=None):
        self._tables.append((table, array, values, _caller()))
        if parameters is not None:
            origin = _caller()
            for p in parameters:
                p = {"name": p} if isinstance(p, str) else dict(p)
                self._tables.append(("homeostasis.parameter", True, p, origin))
        return self

    def to_toml(self, t_stop, dt=None, sample_interval=None, **simulation):
        """The model file text of this cell with a `[simulation]` table (`simulation`: integrator, celsius,
        ...), and for each of its lines the (file, line) of the call that wrote it."""
        text = _Text()
        here = _caller()
        if self._mod_files:
            text.emit(f"mod_files = {_value(self._mod_files)}", here)
        settings = {"t_stop": t_stop, **_present(dt=dt, sample_interval=sample_interval), **simulation}
        tables = [("simulation", False, settings, here)] + self._tables
        text.tables(tables, ["parameter", "simulation", "homeostasis", "homeostasis.parameter"] + _CELL_TABLES)
        return text.finish()

    def model(self, t_stop, dt=None, sample_interval=None, **simulation):
        """The cell as a `rall.Model` (see `to_toml`). A mistake raises `rall.ModelError` at the line of the
        call that made it, with the generated model line."""
        return _load_generated(*self.to_toml(t_stop, dt, sample_interval, **simulation))


# The tables of a cell, in the order a model file gives them.
_CELL_TABLES = ["morphology", "labels", "discretization", "cable", "cable.region", "mechanism", "synapse",
                "stimulus", "ion", "probe", "detector"]


def _homeostasis_table(sensor, direction, at, target, learning_rate, options):
    return {"sensor": sensor, "direction": direction, "at": at, "target": target,
            "learning_rate": learning_rate, **options}


class _Text:
    """Model text being written, with the (file, line) of the call behind each line."""

    def __init__(self):
        self.lines, self.origins = [], []

    def emit(self, line, origin):
        self.lines.append(line)
        self.origins.append(origin)

    def tables(self, tables, order, prefix=""):
        """Writes `tables` ((name, is an array, values, origin)) in `order`, each name under `prefix`
        ("cell." inside a [[cell]] of a network)."""
        for name in order:
            entries = [t for t in tables if t[0] == name]
            if not entries:
                continue
            if entries[0][1]:
                for _, _, values, origin in entries:
                    self.emit(f"[[{prefix}{name}]]", origin)
                    self.values(values, origin)
            else:
                self.emit(f"[{prefix}{name}]", entries[0][3])
                for _, _, values, origin in entries:
                    self.values(values, origin)

    def values(self, values, origin):
        for k, v in values.items():
            self.emit(f"{_key(k)} = {_value(v)}", origin)

    def finish(self):
        return "\n".join(self.lines) + "\n", self.origins


def _load_generated(text, origins):
    """A `rall.Model` from generated model text; a mistake raises `rall.ModelError` at the line of the call
    that made it (from `origins`), with the generated model line."""
    try:
        return _loads(text, _GENERATED, os.getcwd())
    except ModelError as error:
        message = str(error)
        place = re.match(re.escape(_GENERATED) + r":(\d+):(\d+): ", message)
        if not place:
            raise
        line = int(place.group(1))
        file, lineno = origins[line - 1] if 0 < line <= len(origins) else ("<unknown>", 0)
        generated = text.splitlines()[line - 1] if 0 < line <= len(origins) else ""
        raise ModelError(
            f"{file}:{lineno}: {message[place.end():]}\n    (model line {line}: {generated})"
        ) from None
