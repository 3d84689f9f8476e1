"""Shown to learn, with error bars: a 4-class camera-motion set
(`python -m i3d.train.camera_motion --classes ...`, 48 held-out clips over pictures
never trained on), trained by `python -m i3d.train` under one budget in several
configurations, each with several seeds; the held-out top-1 per evaluation step as
mean and standard deviation, as JSON and a plot.

  .venv/bin/python bench/train_motion.py --json bench/results/train_motion.json \
      --plot bench/results/train_motion.png

Each finished run is written to --json at once (with --merge, the runs already there
are kept), so a long benchmark can be stopped and continued.
"""

import os
import re
import subprocess
import sys
import tempfile

from absl import app
from absl import flags
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from bench import record  # pylint: disable=g-import-not-at-top,wrong-import-position

FINE_TUNE = ['--init', 'rgb_imagenet', '--freeze_batch_norm']
COSINE = ['--lr_schedule', 'cosine', '--warmup_steps', '10']
FLOW = ['--init', 'scratch', '--modality', 'flow']
RUNS = {
    'all_layers_constant': FINE_TUNE + ['--train_layers', 'all'],
    'all_layers_cosine': FINE_TUNE + ['--train_layers', 'all'] + COSINE,
    # pytorch-i3d's fine-tuning rate (it taught issue 29's multi-label set with 32-frame
    # clips): here, with 16 frames, seed 0 fell to chance by step 25 and stayed there
    # (loss ln 4), so the other seeds were not run.
    'all_layers_cosine_lr_0.1': FINE_TUNE + ['--train_layers', 'all', '--learning_rate',
                                             '0.1'] + COSINE,
    # Issue 29's finding: the logits of 16 frames have one time step; 32 frames, the whole
    # clip (later flags win). Seed 0 (of one run, 2026-12-01): held-out 0.5625 at step 150
    # against 16 frames' 0.583, training top-1 1.0; the other seeds were not run.
    'all_layers_cosine_32_frames': FINE_TUNE + ['--train_layers', 'all', '--num_frames',
                                                '32'] + COSINE,
    'logits_only_cosine': FINE_TUNE + ['--train_layers', 'logits'] + COSINE,
    'rgb_scratch': ['--init', 'scratch'] + COSINE,
    'rgb_scratch_precise_bn': ['--init', 'scratch', '--precise_bn_batches', '8'] + COSINE,
    'flow_scratch': FLOW + COSINE,
    'flow_scratch_precise_bn': FLOW + ['--precise_bn_batches', '8'] + COSINE,
}
CLASSES = ('PanLeft', 'PanRight', 'TiltUp', 'TiltDown')
TRAIN_PER_CLASS = 36
TEST_PER_CLASS = 12
FRAMES = 32
SIZE = (160, 120)

_JSON = flags.DEFINE_string('json', None, 'Write the figures here.')
_PLOT = flags.DEFINE_string('plot', None, 'Write the plot (PNG) here.')
_STEPS = flags.DEFINE_integer('steps', 150, 'Training steps of every run.')
_EVAL_EVERY = flags.DEFINE_integer('eval_every', 25, 'Steps between evaluations.')
_RUNS = flags.DEFINE_list('runs', list(RUNS), 'Configurations.')
_SEEDS = flags.DEFINE_list('seeds', ['0', '1', '2'], 'Training seeds of each.')
_MERGE = flags.DEFINE_bool('merge', False, 'Keep the runs already in --json.')
_DATA = flags.DEFINE_string('data', None, 'Keep the generated set (and the flow cache) '
                            'here; default: a temporary folder.')

EVAL = re.compile(r'step (\d+): eval top-1 ([\d.]+)')
TRAIN_TOP1 = re.compile(r'step (\d+)/\d+: loss [\d.]+, accuracy ([\d.]+)')
SPEED = re.compile(r'step \d+/\d+: .* ([\d.]+) clips/s')


def train(data, out, run, seed):
  command = [sys.executable, '-m', 'i3d.train', '--train_list', f'{data}/trainlist01.txt',
             '--eval_list', f'{data}/testlist01.txt', '--video_dir', data, '--labels',
             f'{data}/classInd.txt', '--output_dir', out, '--num_frames', '16',
             '--batch_size', '4', '--steps', str(_STEPS.value), '--noflip',
             '--eval_every', str(_EVAL_EVERY.value), '--save_every', str(_STEPS.value),
             '--seed', str(seed), '--flow_cache_dir', f'{data}/flow_cache', *RUNS[run]]
  lines = subprocess.run(command, cwd=ROOT, check=True, capture_output=True,
                         text=True).stdout.splitlines()
  print('\n'.join(lines), flush=True)
  curve = [(int(m.group(1)), float(m.group(2))) for m in map(EVAL.match, lines) if m]
  if not curve or curve[-1][0] != _STEPS.value:
    curve.append((_STEPS.value, float(lines[-1].split(': ')[1])))
  speeds = [float(m.group(1)) for m in map(SPEED.match, lines) if m][1:]
  return {'command': ' '.join(command[3:]).replace(data, 'D').replace(out, 'O'),
          'held_out_top1': curve,
          'train_top1': [(int(m.group(1)), float(m.group(2)))
                         for m in map(TRAIN_TOP1.match, lines) if m],
          'clips_per_second': sum(speeds) / max(len(speeds), 1)}


def spread(seeds):
  """Mean and standard deviation (over seeds, ddof 1) of the held-out top-1 per step."""
  curves = [dict(run['held_out_top1']) for run in seeds.values()]
  steps = sorted(set.intersection(*(set(c) for c in curves)))
  table = np.array([[c[s] for s in steps] for c in curves])
  deviation = table.std(axis=0, ddof=1) if len(curves) > 1 else np.zeros(len(steps))
  return [(s, float(m), float(d)) for s, m, d in zip(steps, table.mean(axis=0), deviation)]


def plot(figures, path):
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use('Agg')
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  figure, axes = plt.subplots(figsize=(7, 4.5))
  for name, run in figures['runs'].items():
    steps, mean, deviation = (np.array(v) for v in zip(*run['held_out_top1']))
    seeds = len(run['seeds'])
    line, = axes.plot(steps, mean, marker='o', label=f'{name.replace("_", " ")} '
                      f'({seeds} seed{"s" if seeds > 1 else ""})')
    axes.fill_between(steps, mean - deviation, mean + deviation, alpha=0.15,
                      color=line.get_color())
  axes.axhline(1 / len(CLASSES), color='grey', linestyle=':', label='chance')
  axes.set(xlabel='step (batch 4, 16 frames)', ylabel='held-out top-1 (mean ± sd)',
           ylim=(0, 1.02), title=f'Camera motions over unseen pictures, {len(CLASSES)} '
           'classes, 48 held-out clips')
  axes.legend(fontsize=7)
  figure.tight_layout()
  figure.savefig(path, dpi=100)


def main(unused_argv):
  from i3d.train import camera_motion  # pylint: disable=g-import-not-at-top
  with tempfile.TemporaryDirectory() as scratch:
    data = _DATA.value or os.path.join(scratch, 'motions')
    if not os.path.exists(os.path.join(data, 'classInd.txt')):
      camera_motion.generate(data, TRAIN_PER_CLASS, TEST_PER_CLASS, FRAMES, SIZE,
                             classes=CLASSES)
    figures = {'set': f'{len(CLASSES)} classes ({", ".join(CLASSES)}), '
                      f'{TRAIN_PER_CLASS} training clips '
                      'each (Big Buck Bunny pictures), 12 test clips each (bikes and '
                      'carphone pictures), 32 frames 160x120; camera_motion seed 0',
               'runs': {}}
    if _MERGE.value and _JSON.value and os.path.exists(_JSON.value):
      figures['runs'] = record.read(_JSON.value).get('runs', {})
    for run in _RUNS.value:
      entry = figures['runs'].setdefault(run, {'seeds': {}})
      for seed in _SEEDS.value:
        entry['seeds'][seed] = train(data, os.path.join(scratch, f'{run}_{seed}'), run,
                                     int(seed))
        entry['held_out_top1'] = spread(entry['seeds'])
        if _JSON.value:
          record.write(_JSON.value, figures)
  if _PLOT.value:
    plot(figures, _PLOT.value)


if __name__ == '__main__':
  app.run(main)
