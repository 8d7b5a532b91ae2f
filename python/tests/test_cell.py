"""Cells built in Python (rall.Cell) against the same cells read from the repository's model files: equal
runs and sensitivities to the last bit; mistakes reported at the line of the script that made them."""

import numpy as np
import pytest

import rall

THIS_FILE = __file__


def hh_tree():
    """examples/hh_tree.toml, call by call."""
    cylinders = [{"length": 20.0, "diameter": 20.0, "tag": 1}]
    cylinders += [{"parent": 0, "length": 200.0, "diameter": 1.0}] * 10
    return (
        rall.Cell.cylinders(cylinders)
        .discretize("max-extent", max_extent=20.0)
        .cable(ra=100.0, v_init=-65.0)
        .paint("hh")
        .stimulate("(location 0 0.5)", delay=10.0, duration=1000.0, amplitude=1.0)
        .record("soma", "(location 0 0.5)")
        .trainable("hh.gnabar")
        .trainable("hh.gkbar")
        .trainable("hh.gl")
    )


def test_hh_tree_built_in_python_equals_its_model_file(root):
    built = hh_tree().model(t_stop=30.0, dt=0.025, sample_interval=0.025)
    read = rall.load(root / "examples" / "hh_tree.toml")
    assert built.parameters == read.parameters == ["hh.gnabar", "hh.gkbar", "hh.gl"]
    a = built.run(sensitivities=True)
    b = read.run(t_stop=30.0, sensitivities=True)
    assert np.array_equal(a.traces, b.traces)
    assert np.array_equal(a.sensitivities, b.sensitivities)


def test_c4a_from_its_swc_file_equals_its_model_file(root):
    cell = (
        rall.Cell.from_file(root / "examples" / "data" / "C4A.swc")
        .label("soma_centre", "(location 0 0.5)")
        .label("axon_tip", "(location 72 1)")
        .label("far_dend_tip", "(location 70 1)")
        .discretize("max-extent", max_extent=20.0)
        .cable(cm=1.0, ra=100.0, v_init=-60.0)
        .paint("pas", "(all)", g=5e-5, e=-60.0)
        .stimulate("soma_centre", delay=50.0, duration=150.0, amplitude=0.05)
        .stimulate("far_dend_tip", delay=250.0, duration=2.0, amplitude=0.05)
    )
    for probe in ["soma", "axon_tip", "far_dend_tip"]:
        cell.record(probe, "soma_centre" if probe == "soma" else probe)
    built = cell.model(t_stop=300.0, dt=0.025, sample_interval=0.1, integrator="backward-euler")
    a = built.run()
    b = rall.load(root / "examples" / "c4a_passive.toml").run(t_stop=300.0)
    assert a.probes == b.probes
    assert np.array_equal(a.traces, b.traces)


def test_a_mistake_is_reported_at_the_line_that_made_it():
    cell = rall.Cell.cylinders([{"length": 20.0, "diameter": 20.0, "tag": 1}])
    cell.paint("hhh")  # the mistake
    line = test_a_mistake_is_reported_at_the_line_that_made_it.__code__.co_firstlineno + 2
    with pytest.raises(rall.ModelError) as error:
        cell.model(t_stop=10.0)
    message = str(error.value)
    assert message.startswith(f"{THIS_FILE}:{line}: "), message
    assert "did you mean `hh`" in message and 'name = "hhh"' in message


def test_a_bad_label_expression_is_reported_at_its_line():
    cell = rall.Cell.cylinders([{"length": 20.0, "diameter": 20.0, "tag": 1}])
    cell.label("tip", "(terminl)")  # the mistake
    line = test_a_bad_label_expression_is_reported_at_its_line.__code__.co_firstlineno + 2
    with pytest.raises(rall.ModelError, match=rf"^{THIS_FILE}:{line}: .*terminl"):
        cell.model(t_stop=10.0)


def test_values_that_toml_cannot_hold_are_refused():
    with pytest.raises(TypeError, match="cannot write"):
        rall.Cell.cylinders([{"length": object(), "diameter": 1.0}]).model(t_stop=1.0)


def test_loads_names_the_given_file(tmp_path):
    with pytest.raises(rall.ModelError, match=r"^mine\.toml:1:"):
        rall.loads("[simulaton]\nt_stop = 1.0\n", "mine.toml")
