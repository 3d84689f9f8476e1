"""Shown to learn: the camera-motion set (`python -m i3d.train.camera_motion`), trained with
`python -m i3d.train` under the same budget from rgb_imagenet (all layers, then the logits
only), from scratch, and the flow stream from scratch; held-out top-1 against steps, as
JSON and a plot.

  .venv/bin/python bench/train_motion.py --json bench/results/train_motion.json \
      --plot bench/results/train_motion.png
"""

import os
import re
import subprocess
import sys
import tempfile

from absl import app
from absl import flags

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from bench import record  # pylint: disable=g-import-not-at-top,wrong-import-position

RUNS = {
    'all_layers': ['--init', 'rgb_imagenet', '--train_layers', 'all',
                   '--freeze_batch_norm'],
    'logits_only': ['--init', 'rgb_imagenet', '--train_layers', 'logits',
                    '--freeze_batch_norm'],
    'scratch': ['--init', 'scratch'],
    'flow_scratch': ['--init', 'scratch', '--modality', 'flow'],
    'flow_scratch_lr_0.01': ['--init', 'scratch', '--modality', 'flow', '--learning_rate',
                             '0.01'],
}

_JSON = flags.DEFINE_string('json', None, 'Write the figures here.')
_PLOT = flags.DEFINE_string('plot', None, 'Write the plot (PNG) here.')
_STEPS = flags.DEFINE_integer('steps', 150, 'Training steps of every run.')
_EVAL_EVERY = flags.DEFINE_integer('eval_every', 25, 'Steps between evaluations.')
_RUNS = flags.DEFINE_list('runs', list(RUNS), 'Runs.')
_MERGE = flags.DEFINE_bool('merge', False, 'Keep the other runs already in --json.')

EVAL = re.compile(r'step (\d+): eval top-1 ([\d.]+)')
SPEED = re.compile(r'step \d+/\d+: .* ([\d.]+) clips/s')


def train(data, out, run):
  command = [sys.executable, '-m', 'i3d.train', '--train_list', f'{data}/trainlist01.txt',
             '--eval_list', f'{data}/testlist01.txt', '--video_dir', data, '--labels',
             f'{data}/classInd.txt', '--output_dir', out, '--num_frames', '16',
             '--batch_size', '4', '--steps', str(_STEPS.value), '--noflip',
             '--eval_every', str(_EVAL_EVERY.value), '--save_every', str(_STEPS.value),
             *RUNS[run]]
  lines = subprocess.run(command, cwd=ROOT, check=True, capture_output=True,
                         text=True).stdout.splitlines()
  print('\n'.join(lines), flush=True)
  curve = [(int(m.group(1)), float(m.group(2))) for m in map(EVAL.match, lines) if m]
  curve.append((_STEPS.value, float(lines[-1].split(': ')[1])))
  speeds = [float(m.group(1)) for m in map(SPEED.match, lines) if m][1:]
  return {'command': ' '.join(command[1:]), 'held_out_top1': curve,
          'clips_per_second': sum(speeds) / max(len(speeds), 1)}


def plot(figures, path):
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use('Agg')
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  figure, axes = plt.subplots(figsize=(6, 4))
  for name, run in figures['runs'].items():
    steps, top1 = zip(*run['held_out_top1'])
    axes.plot(steps, top1, marker='o', label=name.replace('_', ' '))
  axes.axhline(1 / 8, color='grey', linestyle=':', label='chance')
  axes.set(xlabel='step (batch 4, 16 frames)', ylabel='held-out top-1', ylim=(0, 1),
           title='Camera motions over unseen pictures, 8 classes')
  axes.legend()
  figure.tight_layout()
  figure.savefig(path, dpi=100)


def main(unused_argv):
  from i3d.train import camera_motion  # pylint: disable=g-import-not-at-top
  with tempfile.TemporaryDirectory() as scratch:
    data = os.path.join(scratch, 'motions')
    camera_motion.generate(data, 12, 6, 32, (160, 120))
    figures = {'set': '8 classes, 12 training clips each (Big Buck Bunny pictures), 6 '
                      'test clips each (bikes and carphone pictures), 32 frames 160x120',
               'runs': {}}
    if _MERGE.value and _JSON.value and os.path.exists(_JSON.value):
      figures['runs'] = record.read(_JSON.value)['runs']
    for run in _RUNS.value:
      figures['runs'][run] = train(data, os.path.join(scratch, run), run)
  if _PLOT.value:
    plot(figures, _PLOT.value)
  if _JSON.value:
    record.write(_JSON.value, figures)


if __name__ == '__main__':
  app.run(main)
