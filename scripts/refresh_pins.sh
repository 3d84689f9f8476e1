#!/usr/bin/env bash
# Rewrites constraints.txt with what the registry serves today within setup.py's ranges:
# a scratch virtual environment gets the library with every extra, unconstrained, and
# its exact versions become the pins. Run the suite on them before committing them.
#   bash scripts/refresh_pins.sh && bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
python3 -m venv "$scratch/venv"
"$scratch/venv/bin/python" -m pip install --quiet --upgrade pip
"$scratch/venv/bin/python" -m pip install --quiet '.[test,beam,dask,openvino,onnx]'
{
  echo "# The exact versions the suite passed on, for $("$scratch/venv/bin/python" -c \
    'import platform; print("CPython", platform.python_version(), "on", platform.machine())'):"
  echo "# scripts/setup.sh installs these; tests/test_pins.py fails when .venv/ drifts from"
  echo "# them. Refresh: bash scripts/refresh_pins.sh (then run bash scripts/test.sh)."
  "$scratch/venv/bin/python" -m pip freeze --all --exclude-editable | grep -v '^kinetics-i3d-tf2'
} > constraints.txt.tmp
mv constraints.txt.tmp constraints.txt
echo "constraints.txt: $(grep -vc '^#' constraints.txt) pins"
