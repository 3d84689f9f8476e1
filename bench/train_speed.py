"""Training speed: clips per second of `python -m i3d.train`'s step (forward, backward and
SGD on every layer, the data already in memory), and its FLOP rate against the
float32 matmul roofline that bench/forward.py measures.

FLOPs per step: 3x the forward convolutions' (the backward pass computes the gradients
of the inputs and of the kernels, each as much as the forward), the usual estimate.
bfloat16 is mixed precision (`--precision bfloat16`); clips of 9 to 16 frames are
refused in bfloat16 where TensorFlow's kernel is wrong (`train.network.check_precision`)
and skipped here.

  .venv/bin/python bench/train_speed.py --json bench/results/train_speed.json
"""

import itertools
import os
import sys
import time

from absl import app
from absl import flags
import numpy as np

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
import tensorflow as tf  # pylint: disable=g-import-not-at-top,wrong-import-position

from bench import flops  # pylint: disable=g-import-not-at-top,wrong-import-position
from bench import record  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d.train import steps  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d.train.recipe import Recipe  # pylint: disable=g-import-not-at-top,wrong-import-position

_JSON = flags.DEFINE_string('json', None, 'Write the figures here.')
_CONFIGS = flags.DEFINE_list('configs', ['4x16', '4x24', '2x64'], 'Batch x frames.')
_PRECISIONS = flags.DEFINE_list('precisions', ['float32', 'bfloat16'], 'Precisions.')
_STEPS = flags.DEFINE_integer('steps', 3, 'Timed steps per configuration.')


def measure(batch, frames, freeze, precision):
  recipe = Recipe(classes=tuple(f'c{i}' for i in range(8)), num_frames=frames,
                  batch_size=batch, freeze_batch_norm=freeze, precision=precision)
  strategy = tf.distribute.MirroredStrategy(['/cpu:0'])
  state, _ = steps.make_state(strategy, recipe)
  rng = np.random.default_rng(0)
  clips = rng.uniform(-1, 1, (batch, frames, 224, 224, 3)).astype(np.float32)
  labels = rng.integers(0, 8, batch).astype(np.int32)
  dataset = strategy.experimental_distribute_dataset(
      tf.data.Dataset.from_tensors((clips, labels)).repeat())
  iterator = iter(dataset)
  step = steps.train_step_fn(strategy, state, recipe)
  step(iterator)  # Tracing.
  start = time.perf_counter()
  for _ in range(_STEPS.value):
    step(iterator)[0].numpy()
  seconds = (time.perf_counter() - start) / _STEPS.value
  forward = flops.conv_flops(state.model, (batch, frames, 224, 224, 3))
  return {'batch': batch, 'frames': frames, 'precision': precision,
          'batch_norm': 'frozen' if freeze else 'trained',
          'seconds_per_step': seconds, 'clips_per_second': batch / seconds,
          'gflops_per_second': 3 * forward / seconds / 1e9}


def main(unused_argv):
  roofline = flops.matmul_roofline()
  figures = {'matmul_roofline_gflops': roofline, 'runs': []}
  for config in _CONFIGS.value:
    batch, frames = (int(n) for n in config.split('x'))
    for precision, freeze in itertools.product(_PRECISIONS.value, (True, False)):
      try:
        run = measure(batch, frames, freeze, precision)
      except ValueError as e:  # bfloat16 refused for this clip length.
        print(f'batch {batch} x {frames} frames, {precision}: skipped ({e})')
        continue
      run['fraction_of_roofline'] = run['gflops_per_second'] / roofline
      figures['runs'].append(run)
      print(f'batch {batch} x {frames} frames, {precision}, batch norm {run["batch_norm"]}: '
            f'{run["clips_per_second"]:.2f} clips/s, {run["gflops_per_second"]:.0f} '
            f'GFLOP/s ({100 * run["fraction_of_roofline"]:.0f}% of the matmul roofline '
            f'{roofline:.0f})', flush=True)
  if _JSON.value:
    record.write(_JSON.value, figures)


if __name__ == '__main__':
  app.run(main)
