#!/usr/bin/env bash
# Fetches the third-party model files the corpus tests read (never committed): the source distributions of
# BluePyOpt 1.14.26 (its examples, among them l5pc: the Hay et al. 2011 L5 pyramidal cell's .mod files,
# morphology and configuration) and PyNN 0.13.0 (its NEURON .mod files) from PyPI into a cache outside the
# repository, $RALL_CORPUS (default ~/.cache/rall/corpus).
# Needs the repository's .venv (made by .ci/run) for pip. Prints the folder.
set -euo pipefail
cd "$(dirname "$0")/../.."
corpus="${RALL_CORPUS:-$HOME/.cache/rall/corpus}"
mkdir -p "$corpus"
if [ ! -d "$corpus/bluepyopt-1.14.26/examples/l5pc/mechanisms" ]; then
  .venv/bin/pip download --quiet --no-deps --no-binary :all: bluepyopt==1.14.26 -d "$corpus"
  tar -xzf "$corpus/bluepyopt-1.14.26.tar.gz" -C "$corpus"
fi
if [ ! -d "$corpus/pynn-0.13.0/pyNN" ]; then
  .venv/bin/pip download --quiet --no-deps --no-binary :all: PyNN==0.13.0 -d "$corpus"
  tar -xzf "$corpus/pynn-0.13.0.tar.gz" -C "$corpus"
fi
echo "$corpus"
