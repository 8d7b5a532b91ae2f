#!/usr/bin/env bash
# The speed issue's gradient case against Jaxley 0.14: the hh tree's 200 ms soma-trace loss and its gradient
# (3 conductance multipliers) in rall (each kernel backend) and in Jaxley's jit-compiled value_and_grad
# (benches/gradient_vs_jaxley.py). Needs .venv-jaxley (made by .ci/run); not run by CI.
# Usage: benches/gradient_vs_jaxley.sh [ROUNDS]   (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
if ! .venv-jaxley/bin/python -c "import jaxley" 2>/dev/null; then
  echo "benches/gradient_vs_jaxley.sh: needs Jaxley in .venv-jaxley (bash .ci/run installs it)" >&2
  exit 1
fi
cargo build --release -q -p rall-cli --features system-compiler
python3 benches/gradient_vs_jaxley.py target/release/rall .venv-jaxley/bin/python "${1:-3}"
