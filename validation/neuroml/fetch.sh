#!/usr/bin/env bash
# Fetches what the NeuroML2 comparison (crates/rall/tests/neuroml_neuron.rs) reads, never committed, into a
# cache outside the repository, $RALL_CORPUS (default ~/.cache/rall/corpus):
# - pyNeuroML 1.3.22's source distribution (LGPL-3.0): its example and test cells (.cell.nml, with the
#   channel files they include);
# - jNeuroML 0.14.0, the jar inside pyNeuroML 1.3.22's wheel: the `-neuron` export the reference is made with
#   (pyNeuroML itself is not installed);
# - a Java runtime to run it (Debian's default-jre-headless) if `java` is missing.
# Needs the repository's .venv (made by .ci/run) for pip. Prints the folder.
set -euo pipefail
cd "$(dirname "$0")/../.."
corpus="${RALL_CORPUS:-$HOME/.cache/rall/corpus}"
mkdir -p "$corpus"
pip=.venv/bin/pip
[ -x "$pip" ] || pip="pip3"
if [ ! -f "$corpus/pyneuroml-1.3.22/examples/test_data/pyr_4_sym.cell.nml" ]; then
  "$pip" download --quiet --no-deps --no-binary :all: pyneuroml==1.3.22 -d "$corpus" >&2
  tar -xzf "$corpus/pyneuroml-1.3.22.tar.gz" -C "$corpus"
fi
jar="$corpus/jneuroml-0.14.0/jNeuroML-0.14.0-jar-with-dependencies.jar"
if [ ! -f "$jar" ]; then
  wheel_dir="$corpus/pyneuroml-wheel"
  "$pip" download --quiet --no-deps --only-binary :all: pyneuroml==1.3.22 -d "$wheel_dir" >&2
  mkdir -p "$(dirname "$jar")"
  unzip -o -q -j "$wheel_dir/pyneuroml-1.3.22-py3-none-any.whl" \
    'pyneuroml/lib/jNeuroML-0.14.0-jar-with-dependencies.jar' -d "$(dirname "$jar")"
fi
if ! command -v java >/dev/null; then
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >&2
fi
echo "$corpus"
