#!/usr/bin/env bash
# Runs examples/homeostasis.toml for targets 1-5 Hz (2000 s each) and summarises the last 500 s.
# Usage: validation/homeostasis/run_targets.sh [OUT_DIR=out/homeostasis] [TARGETS="1 2 3 4 5"]
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-out/homeostasis}"
targets="${2:-1 2 3 4 5}"
mkdir -p "$out"
cargo build --release -q -p rall-cli
for f in $targets; do
  model="$out/target_${f}.toml"
  sed -e "s/^target = .*/target = ${f}.0/" -e 's|"data/|"../../examples/data/|' examples/homeostasis.toml > "$model"
  /usr/bin/time -f "target $f Hz: %e s wall" ./target/release/rall run "$model" -o "$out/target_${f}.csv" -q
  python3 validation/homeostasis/summarise.py "$out/target_${f}.csv" "$out/target_${f}_spikes.csv"
done
