r"""Fréchet Video Distance between two sets of videos, with the reference's recipe.

  python -m i3d.fvd --real A --generated B [--num_frames 16] [--batch_size 16] [--kvd]
  python -m i3d.fvd --protocol fvd2048_16f --real A --generated B [--seed 0] [--draws 3]

A set is a `.npy`/`.npz` array `[N, T, H, W, 3]` (uint8 in [0, 255], or float with
--input_range), a folder, glob, `.txt` or `.csv` list of video files (their first
--num_frames frames, at their own rate or --fps), or statistics saved with --save_stats.
Repeating --real (or --generated) merges the sets: shards give the FVD of the whole.
--protocol draws clips as a published protocol does (i3d/fvd/protocols.py), --draws times
with seeds --seed, --seed + 1, ...; each distinct clip is embedded once.
Prints the settings, then `KVD: <value> +- <standard error>` when asked (or each draw's
FVD and their mean and standard deviation), then `FVD: <value>` last (the mean over the
draws). Exit status: 1 on bad input, 3 without the rgb_imagenet checkpoint,
4 on an error of the machine, 130 on Ctrl-C.
"""

import sys

import dataclasses

from absl import app
from absl import flags
import numpy as np
import tqdm

from i3d import flags as shared
from i3d import precision as precision_lib
from i3d.catalogue import MIN_FRAMES
from i3d.fvd import drawn as drawn_lib
from i3d.fvd import inputs
from i3d.fvd import protocols
from i3d.fvd import recipes
from i3d.fvd import saved
from i3d.fvd.inputs import InputError
from i3d.system import faults
from i3d.system import shards
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
_PROTOCOL = flags.DEFINE_enum(
    'protocol', None, list(protocols.PROTOCOLS),
    'Draw clips as a published protocol does (StyleGAN-V\'s): its clips, frames and '
    'stride, one random clip per drawn video; sets frames, so not with --num_frames.')
_CLIPS = flags.DEFINE_integer(
    'clips', None, 'With --protocol: clips per set and draw instead of the protocol\'s '
    '(the result is then not the protocol\'s, and the output says so).', lower_bound=2)
_SEED = flags.DEFINE_integer(
    'seed', 0, 'Seed of the clips drawn (--protocol, --frames_from random); draw k '
    'uses seed + k.', lower_bound=0)
_DRAWS = flags.DEFINE_integer(
    'draws', 1, 'With --protocol: the FVD of this many draws, their mean and standard '
    'deviation.', lower_bound=1)
_RESIZE = flags.DEFINE_enum(
    'resize', recipes.DEFAULT_RESIZE, list(recipes.RESIZES),
    'How frames are resized to 224x224: tf1_bilinear (the reference\'s), or as other '
    'implementations do: half_pixel_bilinear (PyTorch align_corners=False, StyleGAN-V\'s '
    'port), area.')
_SHARD = shared.shard()
_FRAMES_FROM = flags.DEFINE_enum(
    'frames_from', 'start', list(protocols.FRAMES_FROM),
    'Without --protocol, which --num_frames frames of a longer video: start (its first), '
    'uniform (spread over the whole video), random (consecutive, from a start drawn with '
    '--seed).')


def open_sources(sources, side):
  """Saved statistics as they are; other sources as sets to embed."""
  opened = []
  for source in sources:
    if inputs.is_statistics_file(source):
      loaded = saved.load(source)
      if isinstance(loaded, saved.Drawn):
        raise InputError(f'{source}: statistics of protocol {loaded.protocol}; use them '
                         f'with --protocol {loaded.protocol}')
      opened.append(loaded)
    else:
      videos = inputs.open_set(source, _NUM_FRAMES.value, _FPS.value, _INPUT_RANGE.value,
                               shards.parse(_SHARD.value))
      if _FRAMES_FROM.value != 'start':
        videos = inputs.Selected(videos, _FRAMES_FROM.value, _SEED.value, side)
      opened.append(videos)
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


def check_outputs() -> None:
  """Something to compute or save, and a place to save it, before any work."""
  if not _GENERATED.value and not _SAVE_STATS.value:
    raise InputError('--generated is needed (or --save_stats, to save the --real set\'s '
                     'statistics only)')
  if _SAVE_STATS.value:
    files.check_writable(_SAVE_STATS.value)


def compute() -> None:
  if _SHARD.value and (_PROTOCOL.value or _GENERATED.value or not _SAVE_STATS.value):
    raise InputError('--shard saves one shard\'s statistics (--save_stats, no --generated, '
                     'no --protocol: a protocol draws from the whole set); pass the '
                     'shards\' files together as --real to merge them')
  if _PROTOCOL.value:
    compute_protocol()
    return
  for flag in (_CLIPS, _DRAWS):
    if flags.FLAGS[flag.name].present:
      raise InputError(f'--{flag.name} needs --protocol')
  if _NUM_FRAMES.value and _NUM_FRAMES.value < MIN_FRAMES:
    raise InputError(f'--num_frames {_NUM_FRAMES.value}: the network needs at least '
                     f'{MIN_FRAMES} frames')
  check_outputs()
  sides = {'real': open_sources(_REAL.value, 'real')}
  if _GENERATED.value:
    sides['generated'] = open_sources(_GENERATED.value, 'generated')
  to_embed = [s for opened in sides.values() for s in opened
              if isinstance(s, inputs.VideoSet)]
  choice = precision_lib.choose(_PRECISION.value)
  if choice.message:
    print(f'{PROGRAM}: {choice.message}', file=sys.stderr)
  # Here, not at the top: TensorFlow loads only once the flags and inputs are good
  # (`--help`, a bad flag and a missing file answer at once).
  from i3d.fvd import embedding  # pylint: disable=g-import-not-at-top
  from i3d.fvd import metric  # pylint: disable=g-import-not-at-top
  recipe = recipes.recipe(_RESIZE.value)
  metric.check_comparable([
      item if isinstance(item, saved.Embedded) else
      with_frames_from(metric.planned(item, choice.precision, recipe))
      for opened in sides.values() for item in opened])
  embedder = (embedding.Embedder(_CHECKPOINT_DIR.value, choice.precision, _RESIZE.value)
              if to_embed else None)
  for name, opened in sides.items():
    print(describe(name, opened))
  print(f'embedding: {recipes.RECIPE}, {choice.precision}, batch {_BATCH_SIZE.value}')
  keep = _KVD.value or bool(_SAVE_STATS.value)
  with tqdm.tqdm(total=sum(s.count for s in to_embed), unit='video', disable=None,
                 file=sys.stderr) as bar:
    embedded = {
        name: metric.merge([
            item if isinstance(item, saved.Embedded) else with_frames_from(
                metric.embed_set(item, embedder, _BATCH_SIZE.value, keep, bar.update))
            for item in opened])
        for name, opened in sides.items()}
  if _SAVE_STATS.value:
    shard = shards.parse(_SHARD.value)
    if shard is not None:  # Recorded, so that merging refuses duplicates and gaps.
      embedded['real'] = dataclasses.replace(embedded['real'],
                                             shard=(shard.index, shard.count))
    saved.save(_SAVE_STATS.value, embedded['real'])
    print(f'saved the statistics of {embedded["real"].statistics.count} videos to '
          f'{_SAVE_STATS.value}')
  if 'generated' not in embedded:
    return
  if _KVD.value:
    value, error = metric.kvd(embedded['real'], embedded['generated'])
    print(f'KVD: {value:.6f} +- {error:.6f}')
  print(f'FVD: {metric.fvd(embedded["real"], embedded["generated"]):.4f}')


def with_frames_from(item):
  """A set planned or embedded in this run, its settings naming --frames_from."""
  if _FRAMES_FROM.value == 'start':
    return item
  return dataclasses.replace(
      item, settings=dataclasses.replace(item.settings, frames_from=_FRAMES_FROM.value))


def compute_protocol() -> None:
  """FVD under --protocol, over --draws draws."""
  protocol = protocols.PROTOCOLS[_PROTOCOL.value]
  for flag in (_NUM_FRAMES, _FRAMES_FROM, _KVD):
    if flags.FLAGS[flag.name].present:
      raise InputError(f'--{flag.name}: not with --protocol, which sets the clips')
  for flag, values in (('real', _REAL.value), ('generated', _GENERATED.value or [])):
    if len(values) > 1:
      raise InputError(f'--{flag}: one set with --protocol (its clips are drawn from '
                       'the whole set)')
  check_outputs()
  note = ''
  if _CLIPS.value and _CLIPS.value != protocol.clips:
    protocol = dataclasses.replace(protocol, clips=_CLIPS.value)
    note = ' (--clips: not the protocol\'s number)'
  seeds = [_SEED.value + k for k in range(_DRAWS.value)]
  choice = precision_lib.choose(_PRECISION.value)
  if choice.message:
    print(f'{PROGRAM}: {choice.message}', file=sys.stderr)
  recipe = recipes.recipe(_RESIZE.value)
  planned = saved.Drawn('this run', saved.Settings(protocol.frames, choice.precision, recipe),
                        protocol.name, protocol.clips, tuple(seeds), ())
  sides = {}
  for name, sources in (('real', _REAL.value), ('generated', _GENERATED.value or [])):
    if not sources:
      continue
    source = sources[0]
    if inputs.is_statistics_file(source):
      loaded = saved.load(source)
      if not isinstance(loaded, saved.Drawn):
        raise InputError(f'{source}: statistics of no protocol ({loaded.settings.num_frames} '
                         f'frames from each video), but this run uses {protocol.name}')
      mismatch = loaded.mismatch(planned)
      if mismatch:
        raise InputError(mismatch)
      sides[name] = loaded.for_seeds(seeds)
    else:
      sides[name] = inputs.open_set(source, protocol.frames, _FPS.value, _INPUT_RANGE.value)
  print(f'protocol: {protocol.describe()}{note}; seeds {seeds[0]}'
        f'{f" to {seeds[-1]}" if len(seeds) > 1 else ""}')
  draws = {}
  for name, item in sides.items():
    if isinstance(item, saved.Drawn):
      print(f'{name}: {item.source} (statistics of {item.clips} clips per draw)')
      continue
    draws[name] = drawn_lib.draw_set(item, name, protocol, seeds)
    first = draws[name][0]
    replacement = (f'; fewer than {protocol.clips} clips: videos drawn with replacement'
                   if first.with_replacement else '')
    print(f'{name}: {item.source} ({item.count} videos, {first.eligible} holding the '
          f'{protocol.span} frames of a clip{replacement})')
  print(f'embedding: {recipe}, {choice.precision}, batch {_BATCH_SIZE.value}')
  # Here, as in `compute`: TensorFlow once the flags and inputs are good.
  from i3d.fvd import embedding  # pylint: disable=g-import-not-at-top
  embedder = (embedding.Embedder(_CHECKPOINT_DIR.value, choice.precision, _RESIZE.value)
              if draws else None)
  total = sum(len(protocols.distinct_clips(d)) for d in draws.values())
  with tqdm.tqdm(total=total, unit='clip', disable=None, file=sys.stderr) as bar:
    for name, set_draws in draws.items():
      sides[name] = drawn_lib.embed_draws(sides[name], set_draws, protocol, embedder,
                                          _BATCH_SIZE.value, bar.update)
  if _SAVE_STATS.value:
    saved.save_drawn(_SAVE_STATS.value, sides['real'])
    print(f'saved the statistics of {len(seeds)} draw(s) of {protocol.clips} clips to '
          f'{_SAVE_STATS.value}')
  if 'generated' not in sides:
    return
  values = drawn_lib.distances(sides['real'], sides['generated'])
  for seed, value in zip(seeds, values):
    print(f'FVD of the draw of seed {seed}: {value:.4f}')
  if len(values) > 1:
    print(f'FVD over {len(values)} draws: mean {np.mean(values):.4f}, standard deviation '
          f'{np.std(values, ddof=1):.4f}')
  print(f'FVD: {np.mean(values):.4f}')


def main(argv):
  if len(argv) > 1:
    sys.exit(f'{PROGRAM}: unexpected arguments {argv[1:]}')
  faults.run_command(PROGRAM, compute)


def run() -> None:
  flags.mark_flag_as_required('real')
  app.run(main)


if __name__ == '__main__':
  run()
