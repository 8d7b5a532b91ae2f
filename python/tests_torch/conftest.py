"""The PyTorch wrapper's tests, apart from the main suite: they need PyTorch."""

import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture
def root():
    return ROOT
