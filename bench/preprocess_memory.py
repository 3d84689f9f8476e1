"""Peak memory of `python -m preprocess` against the video's length.

Loops the real sample (5.3 s) into longer videos and preprocesses each in a fresh
process, reading the child's peak resident set size. Bounded memory means the peak
does not grow with the length.

  .venv/bin/python bench/preprocess_memory.py [--seconds 10,120] [--modalities rgb]
"""

import os
import subprocess
import sys
import tempfile
import time

from absl import app
from absl import flags
import cv2

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench import record  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d.preprocess import sample  # pylint: disable=g-import-not-at-top,wrong-import-position

_SECONDS = flags.DEFINE_list('seconds', ['10', '120'], 'Video lengths to measure.')
_MODALITIES = flags.DEFINE_string('modalities', 'rgb', 'Passed to python -m preprocess.')
_JSON = flags.DEFINE_string('json', None, 'Also write the figures here.')


def looped_video(seconds: float, path: str) -> None:
  """The sample repeated to `seconds` at 25 fps, 1280x720 (mp4v)."""
  capture = cv2.VideoCapture(sample.sample_video())
  frames = []
  while True:
    ok, frame = capture.read()
    if not ok:
      break
    frames.append(frame)
  writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), 25,
                           (frames[0].shape[1], frames[0].shape[0]))
  for i in range(round(seconds * 25)):
    writer.write(frames[i % len(frames)])
  writer.release()


def peak_rss_mib(command) -> float:
  """Peak RSS of a command run in a child that runs nothing else first."""
  wrapper = ('import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True);'
             ' print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)')
  out = subprocess.run([sys.executable, '-c', wrapper, *command], check=True,
                       capture_output=True, text=True).stdout
  return int(out.split()[-1]) / 1024


def main(argv):
  del argv
  rows = []
  with tempfile.TemporaryDirectory() as scratch:
    for seconds in map(float, _SECONDS.value):
      video = os.path.join(scratch, f'loop{seconds:g}.mp4')
      looped_video(seconds, video)
      start = time.time()
      peak = peak_rss_mib([sys.executable, '-m', 'preprocess', '--video', video,
                           '--out_prefix', os.path.join(scratch, 'out'), '--nogif',
                           '--modalities', _MODALITIES.value])
      elapsed = time.time() - start
      output = os.path.getsize(os.path.join(scratch, f'out_{_MODALITIES.value.split(",")[0]}.npy'))
      rows.append({'seconds': seconds, 'frames': round(seconds * 25),
                   'modalities': _MODALITIES.value, 'peak_rss_mib': round(peak, 1),
                   'output_mib': round(output / 2**20, 1), 'wall_s': round(elapsed, 1)})
      print(f'{seconds:6g} s video, {_MODALITIES.value}: peak RSS {peak:7.1f} MiB, '
            f'output {output / 2**20:8.1f} MiB, {elapsed:6.1f} s', flush=True)
  if _JSON.value:
    record.write(_JSON.value, {'rows': rows})


if __name__ == '__main__':
  app.run(main)
