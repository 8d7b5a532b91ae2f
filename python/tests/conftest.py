"""Shared fixtures: the repository's root and the command-line binary the Python results are compared with."""

import os
import pathlib
import shutil

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture
def root():
    return ROOT


@pytest.fixture
def rall_cli():
    """The `rall` binary: $RALL_CLI (set by the cargo test that runs this suite), else one on PATH."""
    path = os.environ.get("RALL_CLI") or shutil.which("rall")
    if not path:
        pytest.skip("no rall binary (set RALL_CLI)")
    return path
