#!/usr/bin/env bash
# The IO tuning head-to-head of issue 5: examples/io_fit.toml (12 conductances, 1000 ms, soma sampled
# every 1 ms) fitted by its Adam (log space, learning rate 0.2 decaying by 0.99 per step, beta2 0.99,
# curriculum 100 ms -> 1000 ms over 40 iterations), by CMA-ES (population 20, step 0.1), by L-BFGS
# (log space) and by Levenberg-Marquardt (log space, curriculum over 20 iterations), then their losses
# against wall time and against simulations in two plots.
# Usage: validation/fitting/io_head_to_head.sh [OUT_DIR=out/io_fit]
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-out/io_fit}"
mkdir -p "$out"
cargo build --release -q -p rall-cli
variant() { # name, then sed expressions
  local name="$1"; shift
  sed "$@" examples/io_fit.toml | sed "s|\"data/|\"$PWD/examples/data/|" > "$out/$name.toml"
}
variant adam -e 's/^iterations = .*/iterations = 300/'
variant cmaes -e 's/^optimizer = .*/optimizer = "cmaes"/' -e 's/^space = .*/space = "multiplier"/' -e 's/^iterations = .*/iterations = 50/' -e '/^curriculum/d'
variant lbfgs -e 's/^optimizer = .*/optimizer = "lbfgs"/' -e 's/^iterations = .*/iterations = 80/' -e '/^curriculum/d'
variant lm -e 's/^optimizer = .*/optimizer = "levenberg-marquardt"/' -e 's/^iterations = .*/iterations = 60/' \
  -e 's/^curriculum = .*/curriculum = [100.0, 20]/'
for name in adam cmaes lbfgs lm; do
  ./target/release/rall fit "$out/$name.toml" -o "$out/$name.csv" --plot "$out/$name" -q
done
files=("$out/adam.csv" "$out/cmaes.csv" "$out/lbfgs.csv" "$out/lm.csv")
./target/release/rall plot "${files[@]}" --x seconds --x-label "wall time [s]" --y loss --log-y --labels "Adam,CMA-ES,L-BFGS,Levenberg-Marquardt" \
  --title "IO cell, 12 conductances: loss against wall time" -o "$out/loss_vs_time.png"
./target/release/rall plot "${files[@]}" --x simulations --x-label "simulations" --y loss --log-y --labels "Adam,CMA-ES,L-BFGS,Levenberg-Marquardt" \
  --title "IO cell, 12 conductances: loss against simulations (a gradient run counts once)" -o "$out/loss_vs_simulations.png"
# The figure docs/model-format.md shows.
mkdir -p docs/img
cp "$out/loss_vs_time.png" docs/img/io_fit_head_to_head.png
