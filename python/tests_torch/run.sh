#!/usr/bin/env bash
# The PyTorch wrapper's tests, run by hand: PyTorch's PyPI wheels with their CUDA libraries take 5.4 GB and
# 2 minutes to install, too much for every CI run. Makes .venv-torch, installs the package there
# (pip install ./python) and runs python/tests_torch.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -x .venv-torch/bin/python ]; then
  python3 -m venv .venv-torch
fi
.venv-torch/bin/pip install --quiet torch numpy pytest
.venv-torch/bin/pip install --quiet ./python
.venv-torch/bin/python -m pytest -q -p no:cacheprovider python/tests_torch
