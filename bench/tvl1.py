"""TV-L1 flow: the fast implementation against OpenCV's, on the same frames, in one run.

Speed: frame pairs per second at 256x340 and at the sample's size (Big Buck Bunny's
frames, shorter side 256), for OpenCV with its own threads, OpenCV on the project's
process pool (one process per core), and the fast implementation on one thread and on
every core (threads); each configuration in a fresh process, whose peak memory above
its start is reported. GFLOP per pair as the fast implementation counts them
(`tvl1_fast.Counts`) and the rate reached. Parity: per sample video, the end-point
difference of the two flows (mean, 99th percentile, largest, in pixels), the largest
difference of the `[-1, 1]` flow arrays, and of a flow network's logits (random
release-layout weights) on either.

  .venv/bin/python bench/tvl1.py [--pairs 12] [--json bench/results/tvl1.json]
"""

import json
import os
import resource
import subprocess
import sys
import time

from absl import app
from absl import flags
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from bench import record  # pylint: disable=g-import-not-at-top,wrong-import-position

_PAIRS = flags.DEFINE_integer('pairs', 12, 'Frame pairs per speed measurement.')
_PARITY_PAIRS = flags.DEFINE_integer('parity_pairs', 16, 'Frame pairs per sample video '
                                     'for the parity figures.')
_JSON = flags.DEFINE_string('json', None, 'Also write the figures here.')
_ONE = flags.DEFINE_string('one', None, 'Internal: measure one configuration, print JSON.')

SIZES = {'256x340': (340, 256), 'sample': None}
CONFIGS = ('opencv_threads', 'opencv_processes', 'fast_1_thread', 'fast_threads')
SAMPLES = ('bigbuckbunny.mp4', 'bikes.mp4', 'carphone_distorted.mp4',
           'carphone_pristine.mp4')


def gray_frames(name, count, size=None, first=0):
  """`count` consecutive grayscale frames, resized to `size` (W, H) or by the recipe."""
  import cv2  # pylint: disable=g-import-not-at-top
  from i3d.preprocess import flow  # pylint: disable=g-import-not-at-top
  from i3d.preprocess import sample  # pylint: disable=g-import-not-at-top
  from i3d.preprocess import transforms  # pylint: disable=g-import-not-at-top
  from i3d.preprocess import video  # pylint: disable=g-import-not-at-top
  frames = []
  for index, frame in enumerate(video.read_frames(os.path.join(sample.sample_videos(),
                                                               name))):
    if index < first:
      continue
    resized = (cv2.resize(frame, size, interpolation=cv2.INTER_LINEAR) if size else
               transforms.resize(frame, 'kinetics'))
    frames.append(flow.to_gray(resized))
    if len(frames) == count:
      break
  return frames


def measure_one(config, size_name):
  """Pairs per second of one configuration (in this fresh process)."""
  import cv2  # pylint: disable=g-import-not-at-top
  from i3d.system.pool import OrderedMap  # pylint: disable=g-import-not-at-top
  from i3d.preprocess import flow  # pylint: disable=g-import-not-at-top
  from i3d.preprocess import tvl1_fast  # pylint: disable=g-import-not-at-top
  frames = gray_frames('bigbuckbunny.mp4', _PAIRS.value + 1, SIZES[size_name], first=100)
  pairs = list(zip(frames[:-1], frames[1:]))
  cores = os.cpu_count() or 1
  tvl1_fast.warm_up()
  flow.tvl1(*pairs[0], impl='opencv')
  start_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
  counts = tvl1_fast.Counts()
  start = time.perf_counter()
  if config == 'opencv_threads':
    results = [flow.tvl1(*pair, impl='opencv') for pair in pairs]
  elif config == 'opencv_processes':
    cv2.setNumThreads(1)
    with OrderedMap(_opencv_pair, pairs, processes=cores,
                    initializer=flow.start_worker) as mapped:
      results = list(mapped)
  elif config == 'fast_1_thread':
    results = [tvl1_fast.tvl1(*pair, counts=counts) for pair in pairs]
  else:
    with OrderedMap(lambda pair: tvl1_fast.tvl1(*pair, counts=counts), pairs,
                    processes=cores, threads=True) as mapped:
      results = list(mapped)
  seconds = time.perf_counter() - start
  assert len(results) == len(pairs)
  peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - start_rss
  figures = {'pairs': len(pairs), 'pairs_per_s': round(len(pairs) / seconds, 3),
             'shape': list(frames[0].shape), 'peak_rss_growth_mib': round(peak / 1024, 1)}
  if config == 'opencv_processes':
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    figures['peak_rss_per_worker_mib'] = round(children / 1024, 1)
  if counts.pixel_iterations:
    figures['gflop_per_pair'] = round(counts.flops / len(pairs) / 1e9, 3)
    figures['gflop_per_s'] = round(counts.flops / seconds / 1e9, 2)
    figures['inner_iterations_per_pair'] = counts.iterations / len(pairs)
    figures['serial_sums'] = counts.serial_sums
  return figures


def _opencv_pair(pair):
  from i3d.preprocess import flow  # pylint: disable=g-import-not-at-top
  return flow.tvl1(*pair, impl='opencv')


def _random_flow_model():
  """The flow network with random weights in the release's layout (seeded)."""
  import pathlib  # pylint: disable=g-import-not-at-top
  import tempfile  # pylint: disable=g-import-not-at-top
  from i3d import releases  # pylint: disable=g-import-not-at-top
  from i3d.catalogue import RELEASES  # pylint: disable=g-import-not-at-top
  from tests.test_checkpoint import with_random_flow  # pylint: disable=g-import-not-at-top
  if not hasattr(_random_flow_model, 'model'):
    with tempfile.TemporaryDirectory() as folder:
      with_random_flow(pathlib.Path(folder) / 'checkpoints', seed=0)
      _random_flow_model.model = releases.load_release(
          RELEASES['flow_imagenet'], os.path.join(folder, 'checkpoints'))
  return _random_flow_model.model


def parity(name):
  """Differences between the two implementations on one sample video's pairs."""
  from i3d.quiet_tf import tf  # pylint: disable=g-import-not-at-top
  from i3d.preprocess import flow  # pylint: disable=g-import-not-at-top
  from i3d.preprocess import transforms  # pylint: disable=g-import-not-at-top
  frames = gray_frames(name, _PARITY_PAIRS.value + 1)
  fast, opencv = [], []
  for previous, current in zip(frames[:-1], frames[1:]):
    fast.append(flow.tvl1(previous, current, impl='fast'))
    opencv.append(flow.tvl1(previous, current, impl='opencv'))
  fast, opencv = np.stack(fast), np.stack(opencv)
  end_point = np.hypot(*(fast - opencv).transpose(3, 0, 1, 2))
  offset = transforms.centre_crop_offset(fast.shape[1:])
  arrays = [np.stack([transforms.flow_to_unit_range(transforms.crop(f, offset))
                      for f in flows])[np.newaxis] for flows in (fast, opencv)]
  logits = [_random_flow_model()(tf.constant(a), is_training=False)[0].numpy()
            for a in arrays]
  return {'pairs': len(fast), 'shape': list(frames[0].shape),
          'identical_pairs': int(sum(np.array_equal(a, b) for a, b in zip(fast, opencv))),
          'end_point_mean_px': float(end_point.mean()),
          'end_point_p99_px': float(np.percentile(end_point, 99)),
          'end_point_max_px': float(end_point.max()),
          'unit_range_max_diff': float(np.abs(arrays[0] - arrays[1]).max()),
          'logits_max_diff': float(np.abs(logits[0] - logits[1]).max())}


def main(argv):
  del argv
  if _ONE.value:
    config, size_name = _ONE.value.split(',')
    print(json.dumps(measure_one(config, size_name)))
    return
  figures = {'speed': {}, 'parity': {}}
  for size_name in SIZES:
    rows = {}
    for config in CONFIGS:
      output = subprocess.run(
          [sys.executable, os.path.abspath(__file__), '--one', f'{config},{size_name}',
           '--pairs', str(_PAIRS.value)], cwd=ROOT, check=True, capture_output=True,
          text=True).stdout
      rows[config] = json.loads(output.strip().splitlines()[-1])
      print(size_name, config, rows[config], flush=True)
    for config in CONFIGS:
      rows[config]['vs_opencv_threads'] = round(
          rows[config]['pairs_per_s'] / rows['opencv_threads']['pairs_per_s'], 2)
      rows[config]['vs_opencv_processes'] = round(
          rows[config]['pairs_per_s'] / rows['opencv_processes']['pairs_per_s'], 2)
    figures['speed'][size_name] = rows
  print(f'\n{"size":>10} {"configuration":>18} {"pairs/s":>8} {"x OpenCV pool":>14}')
  for size_name, rows in figures['speed'].items():
    for config, row in rows.items():
      print(f'{size_name:>10} {config:>18} {row["pairs_per_s"]:8.2f} '
            f'{row["vs_opencv_processes"]:14.2f}')
  for name in SAMPLES:
    figures['parity'][name] = parity(name)
    print(name, figures['parity'][name], flush=True)
  record.write(_JSON.value, figures)


if __name__ == '__main__':
  app.run(main)
