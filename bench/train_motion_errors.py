"""Where a camera-motion model's held-out errors are: by source picture (bikes or
carphone) and as a confusion table, from `python -m i3d.classify`'s `summary.csv` over
`bench/train_motion.py`'s set (its `--data`).

  .venv/bin/python bench/train_motion_errors.py --data D --classified C \
      --json bench/results/train_motion_errors.json

Each clip's picture comes from `camera_motion.plan`, the draws that wrote the set.
"""

import collections
import csv
import os
import sys

from absl import app
from absl import flags

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from bench import record  # pylint: disable=g-import-not-at-top,wrong-import-position
from bench import train_motion  # pylint: disable=g-import-not-at-top,wrong-import-position

# --data (the set) and --json (the figures) are train_motion's flags.
_CLASSIFIED = flags.DEFINE_string('classified', None, '`classify --output_dir` of a model '
                                  'trained on the set, scored on its test list.')
_MODEL = flags.DEFINE_string('model', '', 'How the model was trained, for the record.')


def sources():
  """{clip path in the set: the video its picture is a still of}."""
  from i3d.train import camera_motion  # pylint: disable=g-import-not-at-top
  clips = camera_motion.plan(train_motion.TRAIN_PER_CLASS, train_motion.TEST_PER_CLASS,
                             train_motion.SIZE, classes=train_motion.CLASSES)
  return {clip.relative: clip.source.split('.')[0] for clip in clips}


def main(unused_argv):
  data = flags.FLAGS.data
  picture_of = sources()
  right = collections.defaultdict(lambda: [0, 0])
  confusion = collections.Counter()
  with open(os.path.join(_CLASSIFIED.value, 'summary.csv')) as f:
    for row in csv.DictReader(f):
      relative = os.path.relpath(row['path'], data)
      correct = row['correct_top1'] == 'True'
      for key in (picture_of[relative], f'{picture_of[relative]} {row["label"]}'):
        right[key][0] += correct
        right[key][1] += 1
      confusion[(row['label'], row['top1'])] += 1
  def axis(name):
    return name[:3]  # Pan or Til(t).

  figures = {
      'model': _MODEL.value,
      'top1_by_picture': {key: f'{hit}/{total}' for key, (hit, total) in sorted(right.items())},
      'confusion': [[label, predicted, count]
                    for (label, predicted), count in sorted(confusion.items())],
      'right_axis': sum(count for (label, predicted), count in confusion.items()
                        if axis(label) == axis(predicted)),
      'videos': sum(confusion.values())}
  print(figures)
  if flags.FLAGS.json:
    record.write(flags.FLAGS.json, figures)


if __name__ == '__main__':
  flags.mark_flags_as_required(['data', 'classified'])
  app.run(main)
