"""Networks and homeostatic control built in Python (rall.Network, rall.Cell.homeostasis) against the same
models read from the repository's model files: the same spikes and traces to the last bit; mistakes
reported at the line of the script that made them."""

import numpy as np
import pytest

import rall

THIS_FILE = __file__


def ball_and_stick():
    """examples/ring.toml's cell template, call by call."""
    return (
        rall.Cell.cylinders([{"length": 12.6157, "diameter": 12.6157, "tag": 1},
                             {"parent": 0, "length": 200.0, "diameter": 1.0, "tag": 3}])
        .discretize("max-extent", max_extent=20.0)
        .cable(cm=1.0, ra=100.0, v_init=-65.0)
        .paint("hh", "soma")
        .paint("pas", "dend", g=0.001, e=-65.0)
        .synapse("(location 1 0.5)", "ExpSyn", tau=2.0, e=0.0)
        .detect("(location 0 0.5)", threshold=10.0)
        .record("soma", "(location 0 0.5)")
    )


def ring():
    return (
        rall.Network()
        .population("ring", ball_and_stick(), 10)
        .spike_source("kick", "times", times=[9.0])
        .connect("ring", "ring", rule="one-to-one", offset=1, weight=0.01, delay=5.0)
        .connect("kick", "ring", rule="list", pairs=[[0, 0]], weight=0.04, delay=1.0)
    )


def test_the_ring_built_in_python_equals_its_model_file(root):
    built = ring().model(t_stop=120.0, dt=0.025, sample_interval=0.5).run()
    read = rall.load(root / "examples" / "ring.toml").run(t_stop=120.0)
    # The wave has gone round: every cell fired (spikes of 10 cells plus the kick's).
    assert len(set(built.spike_gids.tolist())) == 11
    assert built.gids == read.gids and built.probes == read.probes
    assert np.array_equal(built.spike_times, read.spike_times)
    assert np.array_equal(built.spike_gids, read.spike_gids)
    assert np.array_equal(built.traces, read.traces)
    assert np.array_equal(built["ring[3].soma"], read.traces[:, read.probes.index("ring[3].soma")])


def test_a_template_serves_several_populations():
    cell = ball_and_stick()
    net = (
        rall.Network()
        .population("a", cell, 2)
        .population("b", cell, 3)
        .spike_source("kick", "times", times=[1.0])
        .connect("kick", "a", weight=0.04, delay=1.0)
        .connect("a", "b", weight=0.04, delay=2.0)
    )
    text, _ = net.to_toml(t_stop=40.0)
    assert text.count("[[cell]]") == 1
    run = net.model(t_stop=40.0).run()
    assert run.gids == ["a[0]", "a[1]", "b[0]", "b[1]", "b[2]", "kick[0]"]
    # The kick reaches both cells of a, and a's spikes reach every cell of b.
    assert set(run.spike_gids.tolist()) == set(range(6))


def test_a_network_mistake_is_reported_at_the_line_that_made_it():
    net = ring()
    net.connect("ring", "rnig", weight=0.01, delay=5.0)  # the mistake
    line = test_a_network_mistake_is_reported_at_the_line_that_made_it.__code__.co_firstlineno + 2
    with pytest.raises(rall.ModelError) as error:
        net.model(t_stop=10.0)
    message = str(error.value)
    assert message.startswith(f"{THIS_FILE}:{line}: "), message
    assert "ring" in message


def test_a_network_without_populations_is_refused():
    with pytest.raises(ValueError, match="no population"):
        rall.Network().to_toml(t_stop=1.0)


def homeostatic_cell():
    """examples/homeostasis.toml, call by call."""
    return (
        rall.Cell.cylinders([{"length": 20.0, "diameter": 20.0, "tag": 1}])
        .discretize("fixed-per-branch", per_branch=1)
        .cable(v_init=-65.0)
        .paint("hh_rate")
        .paint("ou_drive", gain=0.03, mu=0.0, theta=0.1, sigma=0.7)
        .paint("lowpass_v")
        .detect("(location 0 0.5)", threshold=-10.0)
        .record("v", "(location 0 0.5)")
        .record("rate", "(location 0 0.5)", "hh_rate.f")
        .record("g", "(location 0 0.5)", "lowpass_v.g")
        .homeostasis("hh_rate.f", "lowpass_v.g", "(location 0 0.5)", target=2.0, learning_rate=1e-6,
                     forgetting=1e-4, clip=1.0,
                     parameters=["hh_rate.gnabar", "hh_rate.gkbar", "ou_drive.gain"])
    )


def test_homeostasis_built_in_python_equals_its_model_file(root):
    built = homeostatic_cell().model(t_stop=2000.0, dt=0.025, sample_interval=100.0, seed=1).run()
    read = rall.load(root / "examples" / "homeostasis.toml").run(t_stop=2000.0)
    assert built.probes == read.probes
    # The controller's columns come back beside the probes: its sensor and one multiplier per parameter.
    assert any("gnabar" in p for p in built.probes), built.probes
    assert np.array_equal(built.traces, read.traces)
    assert np.array_equal(built.spike_times, read.spike_times)
