#!/usr/bin/env bash
# rall's exact gradient against Jaxley's (automatic differentiation) for the hh tree of
# examples/hh_tree.toml: loss ½ mean((v_soma - (-60 + 5 sin(t/7)))²) over 200 ms (8001 samples),
# gradients with respect to multipliers of gNa, gK and gLeak. Prints both and their relative
# differences, and both tools' wall times; exits 1 if they differ by more than 3e-9 relative.
# Needs .venv-jaxley (see README.md); CI runs the same comparison in
# crates/rall-cli/tests/jaxley_agreement.rs.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp -d)
cargo build --release -q -p rall-cli
start=$(date +%s.%N)
target/release/rall grad examples/hh_tree.toml -o "$out/rall.csv" -q \
  --target validation/jaxley/target.csv --json "$out/rall.json" > /dev/null
rall_seconds=$(echo "$(date +%s.%N) - $start" | bc)
.venv-jaxley/bin/python validation/jaxley/hh_tree_gradient.py > "$out/jaxley.json"
python3 - "$out/rall.json" "$out/jaxley.json" "$rall_seconds" <<'PY'
import json, sys
rall, jax = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
names = {"hh.gnabar": "gNa", "hh.gkbar": "gK", "hh.gl": "gLeak"}
print(f"loss: rall {rall['loss']:.12g}, Jaxley {jax['loss']:.12g}")
worst = 0.0
for ours, theirs in names.items():
    a, b = rall["gradient"][ours], jax["grad_multiplier"][theirs]
    worst = max(worst, abs(a - b) / abs(b))
    print(f"dL/d(multiplier of {theirs}): rall {a:.12g}, Jaxley {b:.12g}, relative difference {abs(a - b) / abs(b):.1e}")
print(f"wall time: rall grad (whole command, simulation + 3 sensitivities) {float(sys.argv[3]):.3f} s; "
      f"Jaxley value_and_grad {jax['seconds_gradient']:.3f} s (after compilation), forward {jax['seconds_forward']:.3f} s")
# The same limit as crates/rall-cli/tests/jaxley_agreement.rs (measured 4.7e-11 at most).
if not worst < 3e-9:
    sys.exit(f"compare.sh: the gradients differ by {worst:.1e} relative (limit 3e-9)")
PY
