r"""Fréchet Video Distance between two sets of videos, with the reference's recipe.

  python -m i3d.fvd --real A --generated B [--num_frames 16] [--batch_size 16] [--kvd]

A set is a `.npy`/`.npz` array `[N, T, H, W, 3]` (uint8 in [0, 255], or float with
--input_range), a folder, glob, `.txt` or `.csv` list of video files (their first
--num_frames frames, at their own rate or --fps), or statistics saved with --save_stats.
Repeating --real (or --generated) merges the sets: shards give the FVD of the whole.
Prints the settings, then `KVD: <value> +- <standard error>` when asked, then
`FVD: <value>` last. Exit status: 1 on bad input, 3 without the rgb_imagenet checkpoint,
4 on an error of the machine, 130 on Ctrl-C.
"""

import sys

from absl import app
from absl import flags
import tqdm

from i3d import flags as shared
from i3d import precision as precision_lib
from i3d.catalogue import MIN_FRAMES
from i3d.fvd import embedding
from i3d.fvd import inputs
from i3d.fvd import metric
from i3d.fvd import saved
from i3d.fvd.inputs import InputError
from i3d.system import faults
from i3d.system import files

PROGRAM = 'python -m i3d.fvd'

_REAL = flags.DEFINE_multi_string(
    'real', None, 'The reference set: an array, video files, or saved statistics; '
    'repeat to merge shards.')
_GENERATED = flags.DEFINE_multi_string(
    'generated', None, 'The set compared with it, in the same forms.')
_NUM_FRAMES = flags.DEFINE_integer(
    'num_frames', 16, f'Frames taken from the start of each video (at least {MIN_FRAMES}); '
    '0: all of an array\'s frames.', lower_bound=0)
_FPS = flags.DEFINE_float(
    'fps', None, 'Resample video files to this rate before taking their frames '
    '(default: their own rate).', lower_bound=0)
_INPUT_RANGE = flags.DEFINE_enum(
    'input_range', None, list(inputs.INPUT_RANGES),
    'Range of the values of float arrays (required for them); uint8 arrays and video '
    'files are 0-255 whatever it says.')
_BATCH_SIZE = flags.DEFINE_integer(
    'batch_size', 16, 'Videos per forward pass; the FVD does not depend on it.',
    lower_bound=1)
_KVD = flags.DEFINE_bool('kvd', False, 'Also print the Kernel Video Distance.')
_SAVE_STATS = flags.DEFINE_string(
    'save_stats', None, 'Write the --real set\'s statistics (and embeddings) to this '
    '.npz, to compare against later without its videos.')
# The reference is float32; bfloat16 moves the FVD (bench/fvd.py measures by how much).
_PRECISION = shared.precision(with_auto=False)
_CHECKPOINT_DIR = shared.checkpoint_dir()  # rgb_imagenet is used.


def open_sources(sources):
  """Saved statistics as they are; other sources as sets to embed."""
  opened = []
  for source in sources:
    if inputs.is_statistics_file(source):
      opened.append(saved.load(source))
    else:
      opened.append(inputs.open_set(source, _NUM_FRAMES.value, _FPS.value,
                                    _INPUT_RANGE.value))
  return opened


def describe(name, opened):
  parts = []
  for item in opened:
    if isinstance(item, saved.Embedded):
      parts.append(f'{item.source} (statistics of {item.statistics.count} videos, '
                   f'{item.settings.num_frames} frames)')
    else:
      parts.append(f'{item.source} ({item.count} videos, {item.num_frames} frames)')
  return f'{name}: ' + ' + '.join(parts)


def compute() -> None:
  if _NUM_FRAMES.value and _NUM_FRAMES.value < MIN_FRAMES:
    raise InputError(f'--num_frames {_NUM_FRAMES.value}: the network needs at least '
                     f'{MIN_FRAMES} frames')
  if not _GENERATED.value and not _SAVE_STATS.value:
    raise InputError('--generated is needed (or --save_stats, to save the --real set\'s '
                     'statistics only)')
  if _SAVE_STATS.value:
    files.check_writable(_SAVE_STATS.value)
  sides = {'real': open_sources(_REAL.value)}
  if _GENERATED.value:
    sides['generated'] = open_sources(_GENERATED.value)
  to_embed = [s for opened in sides.values() for s in opened
              if isinstance(s, inputs.VideoSet)]
  choice = precision_lib.choose(_PRECISION.value)
  if choice.message:
    print(f'{PROGRAM}: {choice.message}', file=sys.stderr)
  metric.check_comparable([metric.planned(item, choice.precision)
                           for opened in sides.values() for item in opened])
  embedder = (embedding.Embedder(_CHECKPOINT_DIR.value, choice.precision)
              if to_embed else None)
  for name, opened in sides.items():
    print(describe(name, opened))
  print(f'embedding: {embedding.RECIPE}, {choice.precision}, batch {_BATCH_SIZE.value}')
  keep = _KVD.value or bool(_SAVE_STATS.value)
  with tqdm.tqdm(total=sum(s.count for s in to_embed), unit='video', disable=None,
                 file=sys.stderr) as bar:
    embedded = {
        name: metric.merge([
            item if isinstance(item, saved.Embedded) else
            metric.embed_set(item, embedder, _BATCH_SIZE.value, keep, bar.update)
            for item in opened])
        for name, opened in sides.items()}
  if _SAVE_STATS.value:
    saved.save(_SAVE_STATS.value, embedded['real'])
    print(f'saved the statistics of {embedded["real"].statistics.count} videos to '
          f'{_SAVE_STATS.value}')
  if 'generated' not in embedded:
    return
  if _KVD.value:
    value, error = metric.kvd(embedded['real'], embedded['generated'])
    print(f'KVD: {value:.6f} +- {error:.6f}')
  print(f'FVD: {metric.fvd(embedded["real"], embedded["generated"]):.4f}')


def main(argv):
  if len(argv) > 1:
    sys.exit(f'{PROGRAM}: unexpected arguments {argv[1:]}')
  faults.run_command(PROGRAM, compute)


def run() -> None:
  flags.mark_flag_as_required('real')
  app.run(main)


if __name__ == '__main__':
  run()
