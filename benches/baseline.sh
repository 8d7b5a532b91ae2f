#!/usr/bin/env bash
# The speed issue's BASELINE: rall against NEURON 9.0.2 (psolve; exact rates and default tables) and Arbor
# 0.12.2 (simulation.run), one thread each, interleaved rounds (benches/baseline.py). Installs NEURON and Arbor
# from PyPI into .venv-bench (not used by CI), builds rall in release mode with the system-compiler backend,
# prints medians and ratios for each of rall's kernel backends.
# Usage: benches/baseline.sh [ROUNDS]   (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
if ! .venv-bench/bin/python -c "import arbor, neuron, sys; sys.exit((arbor.__version__, neuron.__version__) != ('0.12.2', '9.0.2'))" 2>/dev/null; then
  python3 -m venv .venv-bench
  .venv-bench/bin/pip install --quiet --upgrade pip
  .venv-bench/bin/pip install --quiet neuron==9.0.2 arbor==0.12.2
fi
cargo build --release -q -p rall-cli --features system-compiler
.venv-bench/bin/python benches/baseline.py target/release/rall "${1:-5}" 2> >(grep -v -e DISPLAY -e "No graphics" >&2)
