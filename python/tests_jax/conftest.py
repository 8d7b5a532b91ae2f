"""The JAX wrapper's tests run in .venv-jaxley (JAX 0.10.2), apart from the main suite."""

import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture
def root():
    return ROOT
