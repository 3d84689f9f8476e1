#!/usr/bin/env bash
# Sets everything up (scripts/setup.sh), lints (Ruff, ruff.toml: any finding fails), then
# runs every test: one pytest-xdist worker a core, each taking whole files (their module
# fixtures are built once), the slowest files first (tests/conftest.py), the slowest
# tests listed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/python -m pytest -q -n auto --dist loadfile --no-loadscope-reorder \
  --durations=15 tests i3d_test.py "$@"
