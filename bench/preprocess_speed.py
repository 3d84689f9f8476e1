"""Preprocessing speed on the real sample (1280x720, 25 fps): RGB frames per second
(decode, resize, crop, rescale) and TV-L1 flow frame pairs per second against the
number of workers (processes for OpenCV's TV-L1, threads for the fast one), through
`preprocess.iter_inputs`, for each `--flow_impl`. The fast implementation's compiled
code is loaded before timing.

  .venv/bin/python bench/preprocess_speed.py [--seconds 2] [--workers 1,2]
"""

import os
import sys
import time

from absl import app
from absl import flags
import cv2

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench import record  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d import preprocess  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d.preprocess import sample  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d.preprocess import tvl1_fast  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d.catalogue import FLOW_IMPLS  # pylint: disable=g-import-not-at-top,wrong-import-position

_SECONDS = flags.DEFINE_float('seconds', 2.0, 'Length of the clip to process.')
_WORKERS = flags.DEFINE_list('workers', None, 'Worker counts; default 1 .. every core.')
_IMPLS = flags.DEFINE_list('flow_impls', list(FLOW_IMPLS), 'TV-L1 implementations.')
_JSON = flags.DEFINE_string('json', None, 'Also write the figures here.')


def pairs_per_second(video, workers, impl):
  options = preprocess.Options(end=_SECONDS.value, workers=workers, progress=False,
                               flow_impl=impl)
  start = time.perf_counter()
  pairs = sum('flow' in item for item in preprocess.iter_inputs(video, ['flow'], options))
  return pairs, pairs / (time.perf_counter() - start)


def rgb_frames_per_second(video):
  options = preprocess.Options(progress=False)
  start = time.perf_counter()
  frames = sum(1 for _ in preprocess.iter_inputs(video, ['rgb'], options))
  return frames, frames / (time.perf_counter() - start)


def main(argv):
  del argv
  video = sample.sample_video()
  frames, rate = rgb_frames_per_second(video)
  print(f'RGB: {rate:.1f} frames/s ({frames} frames: decode, resize, crop, rescale)')
  rgb = {'frames': frames, 'frames_per_s': round(rate, 2)}
  counts = [int(w) for w in _WORKERS.value] if _WORKERS.value else list(
      range(1, (os.cpu_count() or 1) + 1))
  rows = []
  default_threads = cv2.getNumThreads()
  tvl1_fast.warm_up()
  for impl in _IMPLS.value:
    first = None
    for workers in counts:
      # One OpenCV worker runs in this process: held to one thread it uses one core.
      cv2.setNumThreads(1 if workers == 1 else default_threads)
      pairs, rate = pairs_per_second(video, workers, impl)
      first = first or rate
      rows.append({'flow_impl': impl, 'workers': workers, 'pairs': pairs,
                   'pairs_per_s': round(rate, 3)})
      print(f'{impl}, {workers} worker(s): {rate:.2f} pairs/s ({pairs} pairs), '
            f'{rate / first:.2f}x', flush=True)
    cv2.setNumThreads(default_threads)
    if impl == 'opencv':
      pairs, rate = pairs_per_second(video, 1, impl)
      rows.append({'flow_impl': impl, 'workers': 1, 'opencv_threads': default_threads,
                   'pairs': pairs, 'pairs_per_s': round(rate, 3)})
      print(f'opencv, 1 process with OpenCV\'s {default_threads} threads: {rate:.2f} pairs/s')
  if _JSON.value:
    record.write(_JSON.value, {'rgb': rgb, 'flow': rows})


if __name__ == '__main__':
  app.run(main)
