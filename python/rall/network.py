"""Networks built in Python, as a model file's network tables describe them (docs/model-format.md,
"Networks"): cell templates (rall.Cell), populations of them, spike sources, connections and gap junctions
in; a `rall.Model` out, whose `run()` gives every cell's probes, the spikes (`spike_times`, `spike_gids`)
and the gids' names. A mistake is reported at the line of your script that made it."""

from .cell import _CELL_TABLES, Cell, _caller, _homeostasis_table, _load_generated, _present, _Text, _value

# Tables a template cell may carry that belong at the top of a network's model file.
_TOP_LEVEL = ("parameter", "homeostasis", "homeostasis.parameter")


class Network:
    """Populations of cell templates wired by connections; every method returns the network, so calls chain:

        net = (rall.Network()
               .population("ring", cell, 10)
               .spike_source("kick", "times", times=[9.0])
               .connect("ring", "ring", rule="one-to-one", offset=1, weight=0.01, delay=5.0)
               .connect("kick", "ring", rule="list", pairs=[[0, 0]], weight=0.04, delay=1.0))
        run = net.model(t_stop=100).run()
        run.spike_times, run.spike_gids, run.gids

    Gids run over the populations in the order they were added (cell `name[i]`), then the spike sources.
    """

    def __init__(self):
        self._templates = []  # (name, Cell, origin)
        self._tables = []  # (table name, is an array of tables, values, origin)

    def _add(self, table, array, values):
        self._tables.append((table, array, values, _caller()))
        return self

    def population(self, name, cell, count):
        """`count` copies of `cell` (a rall.Cell; its synapses are the connections' targets, its detectors
        their sources), named `name[0]` ... The same Cell object may serve several populations."""
        if not isinstance(cell, Cell):
            raise TypeError(f"population `{name}`: expected a rall.Cell, got {type(cell).__name__}")
        template = next((t for t, c, _ in self._templates if c is cell), None)
        if template is None:
            template = name
            self._templates.append((template, cell, _caller()))
        return self._add("population", True, {"name": name, "cell": template, "count": count})

    def spike_source(self, name, kind, *, count=None, **options):
        """Artificial spike sources named `name[i]`: kind "poisson" (rate [Hz], seed), "regular" (interval
        [ms]), "NetStim" (interval, number, start, noise), "times" or "VecStim" (times [ms]), "file"."""
        return self._add("spike_source", True, {"name": name, "kind": kind, **_present(count=count), **options})

    def connect(self, source, target, *, weight, delay, rule=None, synapse=None, detector=None, **options):
        """Connections from population or spike source `source` to the synapse `synapse` (an index of the
        target template's synapses, default 0) of population `target`, with `weight` (µS for ExpSyn) and
        `delay` [ms]; rule "all-to-all" (probability, seed), "fixed-indegree" (indegree, seed), "one-to-one"
        (offset) or "list" (pairs); `options` also takes allow_self and adjuster."""
        values = {"from": source, "to": target, **_present(rule=rule, synapse=synapse, detector=detector)}
        return self._add("connection", True, {**values, "weight": weight, "delay": delay, **options})

    def gap_junction(self, source, target, *, g, at=None, rule=None, **options):
        """Electrical coupling of conductance `g` [µS] between cells of populations `source` and `target`,
        paired by `rule` as connections are, at location `at` on each (or from_at / to_at in `options`)."""
        values = {"from": source, "to": target, **_present(rule=rule, at=at)}
        return self._add("gap_junction", True, {**values, "g": g, **options})

    def homeostasis(self, sensor, direction, at, target, learning_rate, parameters, **options):
        """Homeostatic control of every cell, each with its own controller (as `rall.Cell.homeostasis`)."""
        self._add("homeostasis", False, _homeostasis_table(sensor, direction, at, target, learning_rate, options))
        origin = _caller()
        for p in parameters:
            self._tables.append(("homeostasis.parameter", True, {"name": p} if isinstance(p, str) else dict(p),
                                 origin))
        return self

    def trainable(self, name, region=None, *, scale="multiplier", label=None):
        """A parameter for sensitivities (the same on every cell), as `rall.Cell.trainable`."""
        return self._add("parameter", True, {"name": name, **_present(region=region, scale=scale, label=label)})

    def to_toml(self, t_stop, dt=None, sample_interval=None, **simulation):
        """The model file text of the network with a `[simulation]` table, and for each of its lines the
        (file, line) of the call that wrote it."""
        if not self._templates:
            raise ValueError("the network has no population (add one with .population(name, cell, count))")
        text = _Text()
        here = _caller()
        mod_files = []
        for _, cell, _ in self._templates:
            mod_files += [f for f in cell._mod_files if f not in mod_files]
        if mod_files:
            text.emit(f"mod_files = {_value(mod_files)}", here)
        settings = {"t_stop": t_stop, **_present(dt=dt, sample_interval=sample_interval), **simulation}
        top = [("simulation", False, settings, here)] + self._tables
        for _, cell, _ in self._templates:
            top += [t for t in cell._tables if t[0] in _TOP_LEVEL]
        text.tables(top, ["parameter", "simulation", "homeostasis", "homeostasis.parameter"])
        for name, cell, origin in self._templates:
            text.emit("[[cell]]", origin)
            text.values({"name": name}, origin)
            text.tables([t for t in cell._tables if t[0] not in _TOP_LEVEL], _CELL_TABLES, prefix="cell.")
        text.tables(self._tables, ["population", "spike_source", "connection", "gap_junction"])
        return text.finish()

    def model(self, t_stop, dt=None, sample_interval=None, **simulation):
        """The network as a `rall.Model` (see `to_toml`). A mistake raises `rall.ModelError` at the line of
        the call that made it, with the generated model line."""
        return _load_generated(*self.to_toml(t_stop, dt, sample_interval, **simulation))
