"""The original release's five checkpoints, the evaluation types built from them, and
their class lists (shipped with the package)."""

import dataclasses
import os
from typing import List

from i3d.catalogue.geometry import CHANNELS

LABEL_MAPS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'label_maps')


@dataclasses.dataclass(frozen=True)
class Release:
  """One released checkpoint.

  Attributes:
    name: Its folder name in the release's `data/checkpoints/`.
    layout: Its name layout, a key of `i3d.LAYOUTS`.
    modality: The input it takes: `rgb` or `flow`.
    num_classes: 400 (Kinetics-400) or 600 (Kinetics-600).
    label_map: The file of its class list, one name per line in logit order.
  """
  name: str
  layout: str
  modality: str
  num_classes: int
  label_map: str

  @property
  def channels(self) -> int:
    """Input channels: 3 for RGB, 2 for flow."""
    return CHANNELS[self.modality]

  @property
  def label_map_path(self) -> str:
    return os.path.join(LABEL_MAPS_DIR, self.label_map)


RELEASES = {r.name: r for r in (
    Release('rgb_imagenet', 'rgb', 'rgb', 400, 'label_map.txt'),
    Release('rgb_scratch', 'rgb', 'rgb', 400, 'label_map.txt'),
    Release('flow_imagenet', 'flow', 'flow', 400, 'label_map.txt'),
    Release('flow_scratch', 'flow', 'flow', 400, 'label_map.txt'),
    Release('rgb_scratch_kin600', 'kinetics600', 'rgb', 600, 'label_map_600.txt'),
)}

# The streams of each evaluation type: `joint` sums the RGB and flow streams' logits.
STREAMS = {'rgb': ('rgb',), 'flow': ('flow',), 'joint': ('rgb', 'flow'),
           'rgb600': ('rgb600',)}
# What `--eval_type` takes: the evaluation types, and `auto` (joint when the flow
# checkpoint is there, else rgb) where a command supports it.
EVAL_TYPES = tuple(STREAMS)
EVAL_TYPES_WITH_AUTO = ('auto',) + EVAL_TYPES
# Those of RGB streams alone (live video has no flow).
RGB_EVAL_TYPES = tuple(t for t in EVAL_TYPES if 'flow' not in STREAMS[t])


def release_for(stream: str, imagenet_pretrained: bool) -> Release:
  """The checkpoint of a stream (`rgb`, `flow` or `rgb600`).

  `rgb600` is always `rgb_scratch_kin600`, the release's only Kinetics-600 checkpoint.
  """
  if stream == 'rgb600':
    return RELEASES['rgb_scratch_kin600']
  if stream not in ('rgb', 'flow'):
    raise ValueError(f'Unknown stream {stream!r}; valid streams: rgb, flow, rgb600')
  return RELEASES[f'{stream}_{"imagenet" if imagenet_pretrained else "scratch"}']


def releases_of(eval_type: str, imagenet_pretrained: bool) -> List[Release]:
  """The checkpoints an evaluation type (a key of `STREAMS`) runs, one per stream."""
  return [release_for(stream, imagenet_pretrained) for stream in STREAMS[eval_type]]


def read_labels(release: Release) -> List[str]:
  """The release's class names in logit order.

  Raises:
    ValueError: If the label map does not have `release.num_classes` lines.
  """
  with open(release.label_map_path) as f:
    labels = [line.rstrip('\n') for line in f]
  if len(labels) != release.num_classes:
    raise ValueError(f'{release.label_map_path}: {len(labels)} classes, expected '
                     f'{release.num_classes}')
  return labels
