"""Preprocessing speed on the real sample (1280x720, 25 fps): RGB frames per second
(decode, resize, crop, rescale) and TV-L1 flow frame pairs per second against the
number of worker processes, through `preprocess.iter_inputs`.

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
import preprocess  # pylint: disable=g-import-not-at-top,wrong-import-position
from preprocess import sample  # pylint: disable=g-import-not-at-top,wrong-import-position

_SECONDS = flags.DEFINE_float('seconds', 2.0, 'Length of the clip to process.')
_WORKERS = flags.DEFINE_list('workers', None, 'Worker counts; default 1 .. every core.')
_JSON = flags.DEFINE_string('json', None, 'Also write the figures here.')


def pairs_per_second(video, workers):
  options = preprocess.Options(end=_SECONDS.value, workers=workers, progress=False)
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
  for workers in counts:
    # One worker runs in this process: with OpenCV held to one thread it uses one core.
    cv2.setNumThreads(1 if workers == 1 else default_threads)
    pairs, rate = pairs_per_second(video, workers)
    rows.append({'workers': workers, 'pairs': pairs, 'pairs_per_s': round(rate, 3)})
    print(f'{workers} worker(s): {rate:.2f} pairs/s ({pairs} pairs), '
          f'{rate / rows[0]["pairs_per_s"]:.2f}x', flush=True)
  cv2.setNumThreads(default_threads)
  pairs, rate = pairs_per_second(video, 1)
  rows.append({'workers': 1, 'opencv_threads': default_threads, 'pairs': pairs,
               'pairs_per_s': round(rate, 3)})
  print(f'1 process with OpenCV\'s {default_threads} threads: {rate:.2f} pairs/s')
  if _JSON.value:
    record.write(_JSON.value, {'rgb': rgb, 'flow': rows})


if __name__ == '__main__':
  app.run(main)
