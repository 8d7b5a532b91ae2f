#!/usr/bin/env bash
# Installs BluePyOpt 1.14.26 into the repository's .venv (made by .ci/run, NEURON 9.0.2) for
# validation/neuron/l5pc_bluepyopt.py. Idempotent: does nothing when that version already imports.
#
# Only what `import bluepyopt.ephys` and the l5pc example's l5pc_model.py / l5pc_evaluator.py import is
# installed, with --no-deps and pinned versions (11 wheels, about 7 s). A plain `pip install
# bluepyopt==1.14.26` would also bring ipyparallel, IPython, efel, scipy and neo (45 packages), none of which
# running the example's protocols needs: efel is only imported when features are computed, pebble only for
# protocol runs in a subprocess (isolate=True), ipyparallel only by bpopt_tasksdb.
#   deap (+ moocore, cffi, pycparser, platformdirs): bluepyopt/__init__.py imports bluepyopt.deapext
#   pandas (+ python-dateutil, tzdata): bluepyopt/ephys/responses.py
#   Jinja2 (+ MarkupSafe): bluepyopt/ephys/create_hoc.py, create_acc.py
set -euo pipefail
cd "$(dirname "$0")/../.."
if .venv/bin/python -c "import bluepyopt.ephys, sys; sys.exit(bluepyopt.__version__ != '1.14.26')" 2>/dev/null; then
  exit 0
fi
.venv/bin/pip install --quiet --no-deps \
  bluepyopt==1.14.26 \
  deap==1.4.4 moocore==0.3.2 cffi==2.1.1 pycparser==3.12 platformdirs==4.14.9 \
  pandas==3.1.1 python-dateutil==4.0.0 tzdata==2026.6 \
  Jinja2==3.1.6 MarkupSafe==3.0.4
.venv/bin/python -c "import bluepyopt.ephys; print('bluepyopt', bluepyopt.__version__)"
