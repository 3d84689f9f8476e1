"""Forward-pass speed of the RGB I3D against the machine's float32 matmul roofline.

For 79- and 64-frame 224x224 clips, batch 1 and 4: eager, `tf.function` and
`tf.function(jit_compile=True)` in float32, and `tf.function` in bfloat16; milliseconds
per clip, frames per second, and GFLOP/s from the network's own FLOP count next to
`tf.matmul`'s on large float32 matrices measured in the same run. Also the logits of
both precisions on the real sample, and `evaluate_sample.py --eval_type rgb` split into
its phases. Uses the provisioned weights.

  .venv/bin/python bench/forward.py --json bench/results/forward.json

The oneDNN kernels depend on the CPU: bench/run.sh runs this natively, then with
`ONEDNN_MAX_CPU_ISA=AVX2` (float32 as on an AVX2-only CPU) and with
`TF_ENABLE_ONEDNN_OPTS=0` (bfloat16 as CPUs without AVX512F run it: Eigen's kernels),
each file recording the machine and those settings.
"""

import json
import os
import subprocess
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
from i3d import releases  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d import catalogue  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d.preprocess import sample  # pylint: disable=g-import-not-at-top,wrong-import-position

_REPEATS = flags.DEFINE_integer('repeats', 3, 'Timed calls per configuration.')
_FRAMES = flags.DEFINE_list('frames', ['79', '64'], 'Clip lengths.')
_BATCHES = flags.DEFINE_list('batches', ['1', '4'], 'Batch sizes.')
_JSON = flags.DEFINE_string('json', None, 'Write the figures here.')
_MODES = flags.DEFINE_list('modes', ['eager', 'tf.function', 'tf.function+XLA'],
                           'float32 execution modes (bfloat16 runs as tf.function).')
_PRECISIONS = flags.DEFINE_list('precisions', ['float32', 'bfloat16'], 'Precisions.')
_PHASES = flags.DEFINE_bool('phases', True, 'Also time evaluate_sample.py by phase.')
_INPUT_NPY = flags.DEFINE_string(
    'input_npy', None, 'Write the 79-frame clip used for the logits here (for a peer).')


def best_seconds(fn, *args):
  """Best of `repeats` timed calls, after one untimed call (tracing, compilation)."""
  start = time.perf_counter()
  fn(*args)
  first = time.perf_counter() - start
  times = []
  for _ in range(_REPEATS.value):
    start = time.perf_counter()
    fn(*args)
    times.append(time.perf_counter() - start)
  return min(times), first


def evaluate_phases():
  """`evaluate_sample.py --eval_type rgb`, phase by phase, in a fresh process."""
  script = f'''
import json, os, resource, sys, time
t0 = time.perf_counter()
import numpy as np, tensorflow as tf
sys.path.insert(0, {ROOT!r})
from i3d import InceptionI3d, checkpoint
from i3d import evaluate_sample
from i3d import catalogue
from absl import flags
flags.FLAGS(['evaluate_sample.py'])
t1 = time.perf_counter()
release = catalogue.RELEASES['rgb_imagenet']
model = InceptionI3d(num_classes=400)
checkpoint.build(model, 3)
t2 = time.perf_counter()
checkpoint.load_checkpoint(model, os.path.join(catalogue.paths.checkpoint_dir(), release.name))
t3 = time.perf_counter()
rgb = evaluate_sample.load_sample(evaluate_sample._RGB_SAMPLE.value, 3)
t4 = time.perf_counter()
logits = evaluate_sample.forward(model, rgb)
t5 = time.perf_counter()
labels = catalogue.read_labels(release)
order = np.argsort(-logits)[:20]
lines = [str(logits[i]) + labels[i] for i in order]
t6 = time.perf_counter()
print(json.dumps(dict(imports=t1 - t0, model_build=t2 - t1, checkpoint_load=t3 - t2,
                      sample_load=t4 - t3, forward=t5 - t4, output=t6 - t5,
                      peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))
'''
  out = subprocess.run([sys.executable, '-c', script], check=True, capture_output=True,
                       text=True, cwd=ROOT).stdout
  return json.loads(out.splitlines()[-1])


def main(argv):
  del argv
  roofline = flops.matmul_roofline(_REPEATS.value)
  print(f'float32 matmul roofline: {roofline:.1f} GFLOP/s', flush=True)
  release = catalogue.RELEASES['rgb_imagenet']
  models = {precision: releases.load_release(release, dtype=precision)
            for precision in _PRECISIONS.value}
  all_modes = {
      'eager': lambda m: (lambda x: m(x, is_training=False)[0].numpy()),
      'tf.function': lambda m: (lambda f: lambda x: f(x).numpy())(
          tf.function(lambda x: m(x, is_training=False)[0], autograph=False)),
      'tf.function+XLA': lambda m: (lambda f: lambda x: f(x).numpy())(
          tf.function(lambda x: m(x, is_training=False)[0], autograph=False,
                      jit_compile=True)),
  }
  modes = {name: all_modes[name] for name in _MODES.value}
  rows = []
  print(f'{"frames":>6} {"batch":>5} {"precision":>9} {"mode":>16} {"ms/clip":>9} '
        f'{"frames/s":>9} {"GFLOP/s":>8} {"roofline":>8} {"1st call s":>10}')
  for frames in map(int, _FRAMES.value):
    per_clip_flops = flops.conv_flops(next(iter(models.values())), (1, frames, 224, 224, 3))
    for batch in map(int, _BATCHES.value):
      clip = tf.random.uniform((batch, frames, 224, 224, 3), -1, 1, seed=0)
      configs = [(p, mode) for p in models
                 for mode in (modes if p == 'float32' else ['tf.function'])]
      for precision, mode in configs:
        model = models[precision]
        seconds, first = best_seconds(modes[mode](model), clip)
        per_clip = seconds / batch
        gflops = per_clip_flops / per_clip / 1e9
        row = dict(frames=frames, batch=batch, precision=precision, mode=mode,
                   ms_per_clip=1e3 * per_clip, frames_per_s=frames / per_clip,
                   gflop_per_s=gflops, roofline_pct=100 * gflops / roofline,
                   first_call_s=first, gflop_per_clip=per_clip_flops / 1e9)
        rows.append(row)
        print(f'{frames:6d} {batch:5d} {precision:>9} {mode:>16} {row["ms_per_clip"]:9.0f} '
              f'{row["frames_per_s"]:9.1f} {gflops:8.1f} {row["roofline_pct"]:7.1f}% '
              f'{first:10.1f}', flush=True)

  # The real sample (its first 79 frames, the original sample's length) in both precisions.
  clip = np.load(f'{sample.provision()}_rgb.npy')[:, :79]
  labels = catalogue.read_labels(release)
  logits = {p: tf.cast(model(clip, is_training=False)[0], tf.float32).numpy()[0]
            for p, model in models.items()}
  figures = dict(roofline_gflop_per_s=roofline, forward=rows)
  if len(logits) == 2:
    top5 = {p: [labels[i] for i in np.argsort(-v)[:5]] for p, v in logits.items()}
    bf16 = dict(max_abs_logit_diff=float(np.abs(logits['float32'] - logits['bfloat16']).max()),
                logit_scale=float(np.abs(logits['float32']).max()),
                top5_float32=top5['float32'], top5_bfloat16=top5['bfloat16'],
                top5_unchanged=top5['float32'] == top5['bfloat16'])
    print(f'bfloat16 on the sample: largest logit difference '
          f'{bf16["max_abs_logit_diff"]:.4f} (logits up to {bf16["logit_scale"]:.2f}); '
          f'top-5 unchanged: {bf16["top5_unchanged"]}')
    figures['bfloat16_sample'] = bf16
  if _INPUT_NPY.value:
    np.save(_INPUT_NPY.value, clip)
    np.save(_INPUT_NPY.value.replace('.npy', '_logits.npy'), logits['float32'])
  if _PHASES.value:
    phases = evaluate_phases()
    print('evaluate_sample.py --eval_type rgb: ' +
          ', '.join(f'{k} {v:.2f} s' for k, v in phases.items() if k != 'peak_rss_mib') +
          f'; peak RSS {phases["peak_rss_mib"]:.0f} MiB')
    figures['evaluate_phases_s'] = phases
  if _JSON.value:
    record.write(_JSON.value, figures)


if __name__ == '__main__':
  app.run(main)
