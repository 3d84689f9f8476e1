"""Exported models: size on disk, latency, and logits against the library's float32
network on the real sample (its first --num_frames frames).

The SavedModel runs in TensorFlow; the three TFLite files in TFLite's interpreter with
2 threads. Latency: the median of --repeats calls after one untimed call.

  .venv/bin/python bench/export.py --json bench/results/export.json
"""

import os
import subprocess
import sys
import tempfile
import time
import warnings

from absl import app
from absl import flags
import numpy as np

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
import tensorflow as tf  # pylint: disable=g-import-not-at-top,wrong-import-position

from bench import record  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d import releases  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d import catalogue  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d.catalogue import paths  # pylint: disable=g-import-not-at-top,wrong-import-position

_JSON = flags.DEFINE_string('json', None, 'Write the figures here.')
_FRAMES = flags.DEFINE_integer('num_frames', 64, 'Frames of the TFLite models and clip.')
_REPEATS = flags.DEFINE_integer('repeats', 3, 'Timed calls per model.')
_THREADS = 2


def folder_size(path):
  if os.path.isfile(path):
    return os.path.getsize(path)
  return sum(os.path.getsize(os.path.join(d, n)) for d, _, names in os.walk(path)
             for n in names)


def median_seconds(fn):
  fn()
  times = []
  for _ in range(_REPEATS.value):
    start = time.perf_counter()
    fn()
    times.append(time.perf_counter() - start)
  return float(np.median(times))


def export(out, *args):
  subprocess.run([sys.executable, '-m', 'i3d.export', '--eval_type', 'rgb',
                  '--output_dir', out, *args], cwd=ROOT, check=True)


def main(unused_argv):
  clip = np.load(os.path.join(paths.samples_dir(), 'bigbuckbunny_rgb.npy'))[:, :_FRAMES.value]
  model = releases.load_release(catalogue.RELEASES['rgb_imagenet'])
  forward = tf.function(lambda x: model(x, is_training=False)[0])
  reference = forward(tf.constant(clip)).numpy()
  figures = {'frames': _FRAMES.value, 'threads': _THREADS,
             'library_tf_function_seconds': median_seconds(lambda: forward(clip)),
             'max_abs_logit': float(np.abs(reference).max()), 'models': {}}
  with tempfile.TemporaryDirectory() as scratch:
    saved = os.path.join(scratch, 'saved_model')
    export(saved)
    serve = tf.saved_model.load(saved).signatures['serving_default']
    logits = serve(rgb=tf.constant(clip))['logits'].numpy()
    figures['models']['saved_model'] = {
        'bytes': folder_size(saved),
        'seconds': median_seconds(lambda: serve(rgb=tf.constant(clip))),
        'max_logit_difference': float(np.abs(logits - reference).max())}
    lite = os.path.join(scratch, 'tflite')
    export(lite, '--format', 'tflite', '--num_frames', str(_FRAMES.value))
    for variant in ('float32', 'float16', 'int8'):
      path = os.path.join(lite, f'rgb_{variant}.tflite')
      with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # tf.lite.Interpreter's move to LiteRT.
        runner = tf.lite.Interpreter(model_path=path,
                                     num_threads=_THREADS).get_signature_runner()
      logits = runner(rgb=clip)['logits']
      figures['models'][f'tflite_{variant}'] = {
          'bytes': folder_size(path),
          'seconds': median_seconds(lambda: runner(rgb=clip)),  # noqa: B023  # pylint: disable=cell-var-from-loop
          'max_logit_difference': float(np.abs(logits - reference).max()),
          'same_top_class': bool(logits.argmax() == reference.argmax())}
  for name, values in figures['models'].items():
    print(f'{name}: {values["bytes"] / 2**20:.1f} MiB, {values["seconds"]:.2f} s, '
          f'max logit difference {values["max_logit_difference"]:.2g}')
  print(f'library tf.function: {figures["library_tf_function_seconds"]:.2f} s')
  if _JSON.value:
    record.write(_JSON.value, figures)


if __name__ == '__main__':
  app.run(main)
