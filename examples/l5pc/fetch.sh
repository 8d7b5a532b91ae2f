#!/usr/bin/env bash
# Links BluePyOpt 1.14.26's L5PC example (its morphology, .mod files and configuration; never committed)
# next to this model file as `bluepyopt/`, fetching BluePyOpt's source distribution into the cache first
# (validation/corpus/fetch.sh, needs the repository's .venv). Then:
#   cargo run --release -p rall-cli -- run examples/l5pc/l5pc_step3.toml -o out/l5pc_step3.csv --plot out/l5pc_step3.png
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
corpus="$(bash "$here/../../validation/corpus/fetch.sh")"
ln -sfn "$corpus/bluepyopt-1.14.26/examples/l5pc" "$here/bluepyopt"
echo "$here/bluepyopt -> $corpus/bluepyopt-1.14.26/examples/l5pc"
