#!/usr/bin/env bash
# Builds the release CLI and installs the Python package (release, maturin) into .venv-bench-python, then
# times a run from Python against the same run from the command line (benches/python_overhead.py).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p rall-cli
if [ ! -x .venv-bench-python/bin/python ]; then
  python3 -m venv .venv-bench-python
fi
.venv-bench-python/bin/pip install --quiet ./python
RAYON_NUM_THREADS=1 .venv-bench-python/bin/python benches/python_overhead.py target/release/rall "${1:-5}"
