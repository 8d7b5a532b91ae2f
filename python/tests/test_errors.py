"""Bad input raises Python exceptions that carry rall's file:line:col diagnostics, and Ctrl-C stops a long
run without harming the interpreter."""

import os
import signal
import threading
import time

import numpy as np
import pytest

import rall

CELL = """\
[simulation]
t_stop = 10.0
dt = 0.025

[morphology]
cylinder = [{ length = 20.0, diameter = 20.0, tag = 1 }]

[[mechanism]]
name = "{mechanism}"
region = "{region}"

[[probe]]
name = "soma"
at = "(location 0 0.5)"
"""


def write(tmp_path, mechanism="hh", region="soma"):
    path = tmp_path / "cell.toml"
    path.write_text(CELL.replace("{mechanism}", mechanism).replace("{region}", region))
    return path


def test_unknown_mechanism_names_file_and_line(tmp_path):
    path = write(tmp_path, mechanism="hhh")
    with pytest.raises(rall.ModelError) as error:
        rall.load(path)
    message = str(error.value)
    assert f"{path}:9:" in message and "hhh" in message and "did you mean" in message


def test_unknown_region_names_file_and_line(tmp_path):
    path = write(tmp_path, region="somma")
    with pytest.raises(rall.ModelError, match=r"cell\.toml:10:.*somma"):
        rall.load(path)


def test_unknown_parameter_is_refused_before_running(tmp_path):
    model = rall.load(write(tmp_path))
    with pytest.raises(rall.ModelError, match="gnabarr"):
        model.run(sensitivities=["hh.gnabarr"])
    with pytest.raises(rall.ModelError, match="unknown scale"):
        model.run(sensitivities=["hh.gnabar:multipler"])
    with pytest.raises(TypeError):
        model.run(sensitivities=3)


def test_keyboard_interrupt_stops_a_long_run(tmp_path):
    # Python leaves SIGINT ignored when its parent ignored it (as a shell does for a background job such as
    # `bash .ci/run &`): give it Python's own handler, as an interactive session has.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        model = rall.load(write(tmp_path))
        timer = threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT))
        timer.start()
        start = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            model.run(t_stop=1e7)  # hours of simulated time
        assert time.monotonic() - start < 30
        # The interpreter and the model still work.
        assert np.isfinite(model.run(t_stop=5)["soma"]).all()
    finally:
        signal.signal(signal.SIGINT, previous)


def test_progress_is_reported(tmp_path):
    model = rall.load(write(tmp_path))
    seen = []
    model.run(t_stop=10, progress=seen.append)
    assert seen and seen[-1] == 1.0 and seen == sorted(seen)
