"""`python -m i3d.live` on real samples, float32 and bfloat16: the sustained rate
(a 10 s file read as fast as the network takes it, every window classified) and the
latency when the sample is played in real time (--realtime, windows skipped when the
network lags).
Each figure is the command's own summary line.

  .venv/bin/python bench/stream.py --json bench/results/stream.json
"""

import os
import re
import subprocess
import sys

from absl import app
from absl import flags

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from bench import record  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d.catalogue import paths  # pylint: disable=g-import-not-at-top,wrong-import-position

_JSON = flags.DEFINE_string('json', None, 'Write the figures here.')
_PRECISIONS = flags.DEFINE_list('precisions', ['float32', 'bfloat16'], 'Precisions.')

SUMMARY = re.compile(
    r'summary: (\d+) windows classified, (\d+) skipped; (\d+) frames in ([\d.]+) s '
    r'\(([\d.]+) frames/s\)(?:; latency mean ([\d.]+) s, 95th percentile ([\d.]+) s)?')


def run(*args):
  result = subprocess.run([sys.executable, '-m', 'i3d.live', *args], cwd=ROOT,
                          capture_output=True, text=True, check=True)
  lines = result.stdout.strip().splitlines()
  numbers = SUMMARY.match(lines[-1]).groups()
  keys = ('classified', 'skipped', 'frames', 'seconds', 'frames_per_second',
          'latency_mean_s', 'latency_p95_s')
  return dict(zip(keys, (float(n) for n in numbers))), lines


def main(unused_argv):
  video = os.path.join(paths.samples_dir(), 'bigbuckbunny.mp4')
  longer = os.path.join(paths.samples_dir(), 'videos', 'bikes.mp4')
  figures = {'realtime_source': 'bigbuckbunny.mp4 (132 frames at 25 fps, 1280x720)',
             'sustained_source': 'bikes.mp4 (250 frames at 25 fps, 640x272)',
             'window_frames': 64, 'stride': 16, 'runs': {}}
  for precision in _PRECISIONS.value:
    sustained, _ = run('--source', longer, '--precision', precision)
    realtime, lines = run('--source', video, '--realtime', '--precision', precision)
    figures['runs'][precision] = {'sustained': sustained, 'realtime': realtime,
                                  'realtime_output': lines}
    print(f'{precision}: sustained {sustained["frames_per_second"]:.1f} frames/s; '
          f'realtime: {lines[-1]}')
  if _JSON.value:
    record.write(_JSON.value, figures)


if __name__ == '__main__':
  app.run(main)
