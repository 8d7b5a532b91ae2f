#!/usr/bin/env bash
# The parameter swing against the learning rate α: examples/homeostasis.toml (target 2 Hz, 2000 s)
# for each α, the summary of the last 500 s, and a plot of the gkbar multiplier of every run.
# Usage: validation/homeostasis/alpha_sweep.sh [OUT_DIR=out/alpha] [ALPHAS="3e-7 1e-6 3e-6 3e-5"]
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-out/alpha}"
alphas="${2:-3e-7 1e-6 3e-6 3e-5}"
mkdir -p "$out"
cargo build --release -q -p rall-cli
files=()
for a in $alphas; do
  model="$out/alpha_${a}.toml"
  sed -e "s/^learning_rate = .*/learning_rate = ${a}/" examples/homeostasis.toml > "$model"
  /usr/bin/time -f "alpha $a: %e s wall" ./target/release/rall run "$model" -o "$out/alpha_${a}.csv" -q --skip-stability-check
  echo "alpha $a"
  python3 validation/homeostasis/summarise.py "$out/alpha_${a}.csv" "$out/alpha_${a}_spikes.csv"
  files+=("$out/alpha_${a}.csv")
done
labels=$(echo $alphas | sed 's/ /,/g; s/\([^,]*\)/α = \1/g')
for p in hh_rate.gkbar hh_rate.gnabar ou_drive.gain; do
  ./target/release/rall plot "${files[@]}" --x t --x-scale 1000 --x-label "t [s]" --y "homeostasis.m[$p]" --y-label "multiplier" --labels "$labels" \
    --title "$p multiplier for several learning rates (target 2 Hz)" -o "$out/swing_${p}.png"
done
# The figure docs/homeostasis.md shows (committed): the gK multiplier of every run.
mkdir -p docs/img
cp "$out/swing_hh_rate.gkbar.png" docs/img/homeostasis_alpha_swing.png
