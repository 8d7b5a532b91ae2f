"""rall.nwb: a run written as NWB and read back by pynwb itself, each array in the units NWB defines (volts,
amperes, seconds) equal to the run's, and the stimulus equal to the step the model file describes."""

import numpy as np
import rall
import rall.nwb
from pynwb import NWBHDF5IO
from pynwb.icephys import CurrentClampSeries, CurrentClampStimulusSeries


def test_traces_stimulus_and_sensitivities_read_back_in_nwb_units(root, tmp_path):
    model = rall.load(root / "examples" / "hh_tree.toml")
    run = model.run(t_stop=20, sensitivities=True)
    path = rall.nwb.write(tmp_path / "hh_tree.nwb", run, model, identifier="hh-tree-test")
    with NWBHDF5IO(str(path), "r") as io:
        nwb = io.read()
        assert nwb.identifier == "hh-tree-test"
        soma = nwb.acquisition["soma"]
        assert isinstance(soma, CurrentClampSeries)
        assert soma.unit == "volts" and soma.conversion == 1e-3
        # The samples, exactly; the grid as a rate (dt 0.025 ms: 40 kHz) from t = 0.
        assert np.array_equal(soma.data[:], run["soma"])
        assert soma.rate == 40000.0 and soma.starting_time == 0.0
        # The model file's stimulus: 1 nA from 10 ms for 1000 ms, a step (the reference is the file's numbers).
        stimulus = nwb.stimulus["stimulus[0]"]
        assert isinstance(stimulus, CurrentClampStimulusSeries)
        assert stimulus.unit == "amperes" and stimulus.conversion == 1e-9
        expected = np.where((run.time >= 10.0) & (run.time < 1010.0), 1.0, 0.0)
        assert np.array_equal(stimulus.data[:], expected)
        # Sensitivities [time, parameter], with the parameters named.
        series = nwb.processing["rall"]["sensitivities of soma"]
        assert np.array_equal(series.data[:], run.sensitivities[:, 0, :])
        assert "hh.gnabar" in series.description and "hh.gl" in series.description
        # One cell, no spikes before the stimulus drives it: a units row with its spike times in s.
        units = nwb.units.to_dataframe()
        assert len(units) == 1
        assert np.array_equal(np.asarray(units["spike_times"].iloc[0]), run.spike_times / 1000.0)


def test_a_networks_spikes_are_units_in_seconds(root, tmp_path):
    model = rall.load(root / "examples" / "ring.toml")
    run = model.run(t_stop=100)
    assert len(run.spike_times) > 5
    path = rall.nwb.write(tmp_path / "ring.nwb", run, model)
    with NWBHDF5IO(str(path), "r") as io:
        units = io.read().units.to_dataframe()
        # Every gid a row (cells, then the spike source), named as the model names it.
        assert list(units["cell"]) == list(run.gids)
        for gid in range(len(run.gids)):
            expected = run.spike_times[run.spike_gids == gid] / 1000.0
            assert np.array_equal(np.asarray(units["spike_times"].iloc[gid]), expected), gid
