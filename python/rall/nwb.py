"""A run as a Neurodata Without Borders file (NWB 2, through pynwb): recorded traces, stimuli, spikes and
sensitivities where NWB tools look for them.

    import rall, rall.nwb
    model = rall.load("examples/hh_tree.toml")
    run = model.run(sensitivities=True)
    rall.nwb.write("hh_tree.nwb", run, model)

What goes where:

- a membrane potential probe (unit mV): `acquisition[probe]`, a CurrentClampSeries of its own electrode
  (named after the probe), data in mV with `conversion` 1e-3 (NWB reads volts);
- any other probe (a gating variable, a rate): `acquisition[probe]`, a TimeSeries in the probe's unit;
- each current clamp of the model file (as the file describes it; multipliers of a run are not applied):
  `stimulus["<cell>stimulus[k]"]`, a CurrentClampStimulusSeries, data in nA with `conversion` 1e-9;
- spikes: the units table, one row per gid (cells, then spike sources), spike times in s, the gid's name in
  the `cell` column;
- sensitivities: `processing["rall"]["sensitivities of <probe>"]`, data [time, parameter] per unit of each
  parameter (its multiplier or logarithm when so named), the parameters listed in the description.

Samples on a regular grid are stored with a rate (Hz) and a starting time, others with timestamps (s).
pynwb is imported only here: `pip install pynwb`.
"""

from datetime import datetime, timezone
from uuid import uuid4

import numpy as np


def _timing(time_ms):
    """NWB's timing arguments for samples at `time_ms`: a rate where the grid is regular, else timestamps."""
    time_s = np.asarray(time_ms, dtype=float) / 1000.0
    if len(time_s) > 1:
        steps = np.diff(time_s)
        if np.allclose(steps, steps[0], rtol=1e-9, atol=0.0):
            return {"rate": 1.0 / steps[0], "starting_time": float(time_s[0])}
    return {"timestamps": time_s}


def write(path, run, model=None, *, session_description=None, identifier=None, session_start_time=None):
    """Writes `run` (and the stimuli of `model`, the rall.Model it came from) to the NWB file `path`.

    session_description defaults to the model file's name; identifier to a new UUID; session_start_time to
    now. Returns the path.
    """
    from pynwb import NWBHDF5IO, NWBFile, TimeSeries
    from pynwb.icephys import CurrentClampSeries, CurrentClampStimulusSeries

    source = str(model.file) if model is not None else "a rall run"
    nwbfile = NWBFile(
        session_description=session_description or f"rall simulation of {source}",
        identifier=identifier or str(uuid4()),
        session_start_time=session_start_time or datetime.now(timezone.utc),
    )
    device = nwbfile.create_device(name="rall", description="simulated with rall")
    timing = _timing(run.time)
    electrodes = {}

    def electrode(name):
        if name not in electrodes:
            electrodes[name] = nwbfile.create_icephys_electrode(
                name=name, description=f"the simulated recording site `{name}`", device=device
            )
        return electrodes[name]

    traces = np.asarray(run.traces)
    for p, (probe, unit) in enumerate(zip(run.probes, run.units)):
        data = np.ascontiguousarray(traces[:, p])
        if unit == "mV":
            series = CurrentClampSeries(
                name=probe, data=data, electrode=electrode(probe), gain=1.0, conversion=1e-3, **timing
            )
        else:
            series = TimeSeries(
                name=probe,
                data=data,
                unit=unit or "1",
                description=f"rall probe `{probe}`",
                **timing,
            )
        nwbfile.add_acquisition(series)

    if model is not None:
        for s in model.stimuli(run.time):
            name = f"{s['cell']}stimulus[{s['index']}]"
            nwbfile.add_stimulus(
                CurrentClampStimulusSeries(
                    name=name,
                    data=np.asarray(s["current"]),
                    electrode=electrode(name),
                    gain=1.0,
                    conversion=1e-9,
                    stimulus_description=(
                        f"current clamp of {s['amplitude']} nA from {s['delay']} ms for {s['duration']} ms "
                        f"at {s['locations']} location(s)"
                    ),
                    **timing,
                )
            )

    gids = list(run.gids)
    if gids:
        nwbfile.add_unit_column(name="cell", description="the gid's name in the model (cells, then spike sources)")
        times_s = np.asarray(run.spike_times) / 1000.0
        spike_gids = np.asarray(run.spike_gids)
        for gid, name in enumerate(gids):
            nwbfile.add_unit(spike_times=times_s[spike_gids == gid], cell=name or f"gid {gid}")

    sensitivities = run.sensitivities
    if sensitivities is not None:
        module = nwbfile.create_processing_module(
            name="rall", description="exact sensitivities co-simulated by rall (forward mode)"
        )
        parameters = list(run.parameters)
        for p in range(sensitivities.shape[1]):
            probe = run.probes[p]
            module.add(
                TimeSeries(
                    name=f"sensitivities of {probe}",
                    data=np.ascontiguousarray(sensitivities[:, p, :]),
                    unit=f"{run.units[p] or '1'} per unit of the parameter",
                    description=f"d{probe}/dθ [time, parameter] for the parameters {parameters}",
                    **timing,
                )
            )

    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwbfile)
    return path
