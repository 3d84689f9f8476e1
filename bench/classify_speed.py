"""Throughput of `classify` on the folder of real videos (data/samples/videos): RGB,
the pipelined run against its parts done one after the other, window batch sizes, and
the one `tf.function` for every shape against one traced for a fixed shape; joint (RGB
and TV-L1 flow) on the two carphone videos, pipelined on 1 and on every core, against
one after the other. The flow network's weights are random (no flow checkpoint is in a
registry): its speed does not depend on them.

  .venv/bin/python bench/classify_speed.py [--json bench/results/classify_speed.json]
"""

import dataclasses
import os
import sys
import tempfile
import time

from absl import app
from absl import flags
import numpy as np
import tensorflow as tf

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench import record  # pylint: disable=g-import-not-at-top,wrong-import-position
from bench.checkpoints import flow_checkpoint_dir  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d import classify  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d.classify import prediction  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d.classify import scratch as scratch_lib  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d import releases  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d import catalogue  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d.catalogue import paths  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d.preprocess import sample  # pylint: disable=g-import-not-at-top,wrong-import-position

_JSON = flags.DEFINE_string('json', None, 'Also write the figures here.')


def timed(function, *args, **kwargs):
  start = time.perf_counter()
  value = function(*args, **kwargs)
  return value, time.perf_counter() - start


def serial_parts(videos, networks, settings):
  """Preprocessing and network time per video, one after the other in this process."""
  preprocess_s = network_s = windows = 0
  with tempfile.TemporaryDirectory() as scratch:
    for video in videos:
      (arrays_at, _), seconds = timed(scratch_lib.preprocess_to_scratch, video.path,
                                 os.path.join(scratch, video.id), networks.plan.modalities,
                                 settings.recipe)
      preprocess_s += seconds
      arrays, seconds = timed(prediction.classify_inputs, video,
                              scratch_lib.load_inputs(arrays_at), networks, settings)
      network_s += seconds
      windows += len(arrays['window_starts'])
  return preprocess_s, network_s, windows


def shape_specific_vs_any_shape(networks):
  """ms per batch of 8 x 64 frames: the run's graph (any batch and length) against a
  graph traced for exactly that shape."""
  model = releases.load_release(catalogue.RELEASES['rgb_imagenet'])
  fixed = tf.function(lambda x: model(x, is_training=False)[0], autograph=False)
  clips = np.random.default_rng(0).uniform(-1, 1, (8, 64, 224, 224, 3)).astype(np.float32)
  times = {}
  for name, forward in (('any_shape', lambda: networks('rgb', clips)),
                        ('fixed_shape', lambda: fixed(tf.constant(clips)).numpy())):
    forward()  # Tracing.
    times[name] = min(timed(forward)[1] for _ in range(2)) * 1000
  return times


def joint_runs(videos):
  """Seconds: serial preprocessing and network; pipelined runs on 1 and all cores."""
  figures = {}
  with tempfile.TemporaryDirectory() as root:
    settings = classify.Settings(checkpoint_dir=flow_checkpoint_dir(root), plots=False)
    networks = classify.Networks(settings.make_plan())
    with tempfile.TemporaryDirectory() as out:  # Warm-up: tracing, short windows.
      classify.classify_videos(videos[:1], out, dataclasses.replace(settings, window_frames=0),
                               workers=1, networks=networks, progress=False)
    preprocess_s, network_s, windows = serial_parts(videos, networks, settings)
    figures.update(serial_preprocess_s=round(preprocess_s, 1),
                   serial_network_s=round(network_s, 1), windows=windows)
    print(f'joint, one after the other: preprocessing {preprocess_s:.1f} s + network '
          f'{network_s:.1f} s = {preprocess_s + network_s:.1f} s', flush=True)
    for workers in sorted({1, os.cpu_count() or 1}):
      with tempfile.TemporaryDirectory() as out:
        _, seconds = timed(classify.classify_videos, videos, out, settings,
                           workers=workers, networks=networks, progress=False)
      figures[f'pipelined_s_workers_{workers}'] = round(seconds, 1)
      print(f'joint, pipelined, {workers} worker(s): {seconds:.1f} s', flush=True)
  return figures


def main(argv):
  del argv
  folder = sample.sample_videos()
  videos = classify.list_videos(folder)
  figures = {'videos': len(videos), 'cpus': os.cpu_count()}
  networks, seconds = timed(classify.Networks,
                            catalogue.make_plan('rgb', True, paths.checkpoint_dir()))
  figures['load_s'] = round(seconds, 2)
  runs = {}
  for batch_size in (8, 1):
    settings = classify.Settings(eval_type='rgb', batch_size=batch_size, plots=False)
    with tempfile.TemporaryDirectory() as out:
      classify.classify_videos(videos[:1], out, settings, workers=1, networks=networks,
                               progress=False)  # Warm-up: tracing.
    with tempfile.TemporaryDirectory() as out:
      _, seconds = timed(classify.classify_videos, videos, out, settings, workers=1,
                         networks=networks, progress=False)
    runs[batch_size] = seconds
    print(f'pipelined run, 1 worker, batch {batch_size}: {seconds:.1f} s for '
          f'{len(videos)} videos ({len(videos) / seconds:.3f} videos/s)', flush=True)
  settings = classify.Settings(eval_type='rgb', plots=False)
  preprocess_s, network_s, windows = serial_parts(videos, networks, settings)
  print(f'one after the other: preprocessing {preprocess_s:.1f} s + network '
        f'{network_s:.1f} s = {preprocess_s + network_s:.1f} s ({windows} windows of 64 '
        f'frames: {network_s / windows * 1000:.0f} ms each)')
  shapes = shape_specific_vs_any_shape(networks)
  print(f'8 x 64 frames: {shapes["any_shape"]:.0f} ms with the run\'s any-shape graph, '
        f'{shapes["fixed_shape"]:.0f} ms with a fixed-shape graph')
  figures.update(
      pipelined_s_batch_8=round(runs[8], 2), pipelined_s_batch_1=round(runs[1], 2),
      serial_preprocess_s=round(preprocess_s, 2), serial_network_s=round(network_s, 2),
      windows=windows, ms_per_window=round(network_s / windows * 1000, 1),
      batch_8x64_ms=({k: round(v, 1) for k, v in shapes.items()}))
  carphones = [v for v in videos if v.id.startswith('carphone')]
  figures['joint_carphones'] = joint_runs(carphones)
  if _JSON.value:
    record.write(_JSON.value, figures)


if __name__ == '__main__':
  app.run(main)
