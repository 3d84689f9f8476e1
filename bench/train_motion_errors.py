"""Where a camera-motion model's held-out errors are: by source picture (bikes or
carphone) and as a confusion table, from `python -m i3d.classify`'s `summary.csv` over
`bench/train_motion.py`'s set.

  .venv/bin/python bench/train_motion_errors.py --data D --classified C \
      --json bench/results/train_motion_errors.json

Each clip's picture is found by replaying the set's random draws in the order
`camera_motion.generate` makes them; the replay is checked against every held-out
clip's first frame, so a generator that draws differently stops it rather than
mislabelling the pictures.
"""

import collections
import csv
import os
import sys

from absl import app
from absl import flags
import cv2
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from bench import record  # pylint: disable=g-import-not-at-top,wrong-import-position

_DATA = flags.DEFINE_string('data', None, 'The set `bench/train_motion.py --data` wrote.')
_CLASSIFIED = flags.DEFINE_string('classified', None, '`classify --output_dir` of a model '
                                  'trained on it, scored on its test list.')
_JSON = flags.DEFINE_string('json', None, 'Write the figures here.')
_MODEL = flags.DEFINE_string('model', '', 'How the model was trained, for the record.')
_MPEG_LOSS = 8  # Mean grey levels between a clip's first frame and its replay, at most.


def sources(data):
  """{clip path relative to `data`: the video its picture was cut from}."""
  from i3d.train import camera_motion  # pylint: disable=g-import-not-at-top
  stills = {'train': camera_motion.pictures(camera_motion.TRAIN_VIDEOS, 12),
            'test': camera_motion.pictures(camera_motion.TEST_VIDEOS, 6)}
  with open(os.path.join(data, 'classInd.txt')) as f:
    classes = [line.split()[1] for line in f]
  counts = {}
  for split in ('train', 'test'):
    with open(os.path.join(data, f'{split}list01.txt')) as f:
      counts[split] = collections.Counter(line.split('/')[0] for line in f)
  rng = np.random.default_rng(0)  # bench/train_motion.py's set: camera_motion seed 0.
  found = {}
  for name in classes:
    for split in ('train', 'test'):
      for clip in range(counts[split][name]):
        index = int(rng.integers(len(stills[split])))
        rng.uniform(1.0, 2.5)  # The speed.
        view = camera_motion.View.start(stills[split][index], (160, 120), rng)
        if split == 'train':
          continue
        relative = f'{name}/v_{name}_g{clip + 100:02d}_c01.avi'
        _, first = cv2.VideoCapture(os.path.join(data, relative)).read()
        replayed = view.frame(stills[split][index], 1., 0., np.zeros(2))
        difference = np.abs(cv2.cvtColor(first, cv2.COLOR_BGR2RGB) - replayed.astype(float))
        if difference.mean() > _MPEG_LOSS:
          raise SystemExit(f'{relative}: the replayed draws do not give its first frame '
                           f'(mean difference {difference.mean():.1f})')
        found[relative] = camera_motion.TEST_VIDEOS[index // 6].split('.')[0]
  return found


def main(unused_argv):
  picture_of = sources(_DATA.value)
  right = collections.defaultdict(lambda: [0, 0])
  confusion = collections.Counter()
  with open(os.path.join(_CLASSIFIED.value, 'summary.csv')) as f:
    for row in csv.DictReader(f):
      relative = os.path.relpath(row['path'], _DATA.value)
      correct = row['correct_top1'] == 'True'
      for key in (picture_of[relative], f'{picture_of[relative]} {row["label"]}'):
        right[key][0] += correct
        right[key][1] += 1
      confusion[(row['label'], row['top1'])] += 1
  axis = lambda name: name[:3]  # Pan or Til(t).
  figures = {
      'model': _MODEL.value,
      'top1_by_picture': {key: f'{hit}/{total}' for key, (hit, total) in sorted(right.items())},
      'confusion': [[label, predicted, count]
                    for (label, predicted), count in sorted(confusion.items())],
      'right_axis': sum(count for (label, predicted), count in confusion.items()
                        if axis(label) == axis(predicted)),
      'videos': sum(confusion.values())}
  print(figures)
  if _JSON.value:
    record.write(_JSON.value, figures)


if __name__ == '__main__':
  flags.mark_flags_as_required(['data', 'classified'])
  app.run(main)
