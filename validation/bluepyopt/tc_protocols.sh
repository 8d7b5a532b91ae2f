#!/usr/bin/env bash
# The thalamocortical cell of BluePyOpt 1.14.26's example (e-type cAD_ltb, row 62 of its optimised models),
# imported by `rall import bluepyopt` and run by rall, against BluePyOpt's own cell in NEURON
# (validation/neuron/tc_bluepyopt.py, fixed step), for whole protocols of config/protocols/cAD_ltb.json.
# CI runs Step_200's first 1000 ms (crates/rall/tests/import_bluepyopt.rs); this script runs the whole
# protocols it is given (default: Step_200_hyp, the low-threshold burst from a hyperpolarised holding, and
# IV_-140, the rebound after a long hyperpolarising step) and prints spike counts, the largest spike-time
# difference and both wall times. Needs .venv (NEURON, BluePyOpt) and the corpus: run `bash .ci/run` once.
# Usage: validation/bluepyopt/tc_protocols.sh [PROTOCOL ...]
set -euo pipefail
cd "$(dirname "$0")/../.."
corpus="${RALL_CORPUS:-$HOME/.cache/rall/corpus}"
bash validation/corpus/fetch.sh > /dev/null
bash validation/neuron/install_bluepyopt.sh > /dev/null
folder="$corpus/bluepyopt-1.14.26/examples/thalamocortical-cell"
cargo build --release -q -p rall-cli
out="${TMPDIR:-/tmp}/rall-tc-protocols"
mkdir -p "$out"
protocols=("$@")
if [ ${#protocols[@]} -eq 0 ]; then protocols=(Step_200_hyp IV_-140); fi
for p in "${protocols[@]}"; do
  ./target/release/rall import bluepyopt "$folder" --etype cAD_ltb --row 62 --protocol "$p" -o "$out/$p.toml"
  start=$(date +%s.%N)
  ./target/release/rall run "$out/$p.toml" -o "$out/$p-rall.csv" > /dev/null
  rall_s=$(echo "$(date +%s.%N) - $start" | bc)
  .venv/bin/python validation/neuron/tc_bluepyopt.py "$folder" cAD_ltb 62 "$p" "$out/$p-neuron.csv" > "$out/$p-neuron.log"
  .venv/bin/python - "$out/$p-rall.csv" "$out/$p-neuron.csv" "$p" "$rall_s" "$out/$p-neuron.log" <<'PY'
import csv, sys

def crossings(path, column):
    rows = list(csv.DictReader(open(path)))
    t = [float(r["t"]) for r in rows]
    v = [float(r[column]) for r in rows]
    return [t[k - 1] + (t[k] - t[k - 1]) * (-20 - v[k - 1]) / (v[k] - v[k - 1])
            for k in range(1, len(v)) if v[k - 1] < -20 <= v[k]]

ours, theirs = crossings(sys.argv[1], "soma"), crossings(sys.argv[2], "soma")
log = open(sys.argv[5]).read().strip().splitlines()
wall = next((l for l in log if "seconds" in l or "wall" in l), log[-1] if log else "")
if len(ours) != len(theirs):
    print(f"{sys.argv[3]}: spike counts differ: rall {len(ours)} at {ours[:5]}..., BluePyOpt/NEURON {len(theirs)} at {theirs[:5]}...")
    sys.exit(1)
worst = max((abs(a - b) for a, b in zip(ours, theirs)), default=0.0)
print(f"{sys.argv[3]}: {len(ours)} spikes, largest spike-time difference {worst:.2e} ms; rall {float(sys.argv[4]):.1f} s; NEURON: {wall}")
PY
done
