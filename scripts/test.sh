#!/usr/bin/env bash
# Sets everything up (scripts/setup.sh), then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python -m pytest -q tests i3d_test.py "$@"
