"""A video's prediction from its preprocessed inputs: the windows' logits and features
per stream, the joint sum, the video's logits (the mean of its windows') and top-k;
and the sliding windows over its frames. Multi-view testing (`classify.views`) keeps
every view's logits and features, and scores the video by the mean of the views'
softmax probabilities."""

import json
from typing import Dict, List, Sequence, Tuple, TYPE_CHECKING

import numpy as np

from i3d.catalogue import FPS
from i3d.classify import multilabel
from i3d.classify import views as views_lib
from i3d.classify.settings import Settings
from i3d.videosets.sources import Video

# How multi-view testing and multi-label runs score a video (said in its results'
# metadata).
VIEWS_SCORE = 'the mean of the views\' softmax probabilities'
MULTILABEL_SCORE = 'multi-label: the sigmoid of the {} of the windows\' logits'

if TYPE_CHECKING:  # Only for the annotations: the networks need TensorFlow.
  from i3d.runtime.networks import Networks  # pylint: disable=g-bad-import-order


def window_starts(num_frames: int, length: int, stride: int) -> List[int]:
  """First frames of the windows `[s, s + length)` that cover `num_frames` frames.

  Windows start every `stride` frames; when that leaves frames at the end uncovered, a
  last window ends exactly at the last frame. A video no longer than `length` (or
  `length` 0, the whole video) is one window starting at 0, of the video's length.

  Raises:
    ValueError: On a non-positive `num_frames` or `stride`, or a negative `length`.
  """
  if num_frames < 1:
    raise ValueError(f'num_frames must be positive, got {num_frames}')
  if length < 0 or stride < 1:
    raise ValueError(f'need length >= 0 and stride >= 1, got {length} and {stride}')
  if length == 0 or num_frames <= length:
    return [0]
  starts = list(range(0, num_frames - length + 1, stride))
  if starts[-1] + length < num_frames:
    starts.append(num_frames - length)
  return starts


def window_length(num_frames: int, length: int) -> int:
  """Frames in each window of a `num_frames` video: `length`, or fewer if it is short."""
  return num_frames if length == 0 else min(length, num_frames)


def classify_inputs(video: Video, inputs: Dict[str, np.ndarray], networks: 'Networks',
                    settings: Settings, notes: Sequence[str] = ()) -> Dict[str, np.ndarray]:
  """The result arrays of a video (see `classify.result`) from its preprocessed inputs
  `{modality: [1, T, 224, 224, C]}`.

  Windows are the same frames in every stream (flow has one frame fewer than RGB, so
  windows cover the shorter); with `window_frames` 0 each stream runs once over all of
  its frames, as `evaluate_sample.py` does. `notes` (what is wrong with the video but
  did not stop it) go into the metadata as `warnings`.
  """
  frames = {m: int(a.shape[1]) for m, a in inputs.items()}
  if settings.temporal_views:
    arrays, starts, length = _classify_views(inputs, networks, settings)
    probabilities = arrays.pop('probabilities')
  else:
    arrays, starts, length = _classify_windows(inputs, networks, settings)
    probabilities = softmax(arrays['logits'])
  if settings.multilabel:
    arrays['logits'] = multilabel.video_logits(arrays['window_logits'],
                                               settings.video_score)
    probabilities = multilabel.sigmoid(arrays['logits'])
  top = np.argsort(-probabilities, kind='stable')[:settings.top_k]
  metadata = {
      'id': video.id, 'path': video.path, 'label': video.label, 'frames': frames,
      'fps': FPS, 'window_length': None if settings.window_frames == 0 else length,
      'settings': settings.identity(networks.plan),
  }
  if settings.temporal_views:
    metadata['score'] = VIEWS_SCORE
  if settings.multilabel:
    metadata['score'] = MULTILABEL_SCORE.format(settings.video_score)
  if notes:
    metadata['warnings'] = list(notes)
  arrays.update(  # In this order: the .npz lists its arrays as they were added.
      window_starts=np.asarray(starts, np.int32),
      window_logits=arrays.pop('window_logits'),
      logits=arrays.pop('logits'),
      probabilities=probabilities.astype(np.float32),
      top_k_indices=top.astype(np.int32),
      top_k_probabilities=probabilities[top].astype(np.float32),
      top_k_classes=np.asarray([networks.labels[i] for i in top]),
      metadata=np.asarray(json.dumps(metadata)))
  return arrays


def _classify_windows(inputs: Dict[str, np.ndarray], networks: 'Networks',
                      settings: Settings) -> Tuple[Dict[str, np.ndarray], List[int], int]:
  """The sliding windows' arrays, their starts and length."""
  frames = {m: int(a.shape[1]) for m, a in inputs.items()}
  arrays = {}
  window_logits = frame_logits = 0
  for stream in networks.plan.streams:
    array = inputs[stream.modality]
    if settings.window_frames == 0:
      starts, length = [0], array.shape[1]
    else:
      common = min(frames.values())
      starts = window_starts(common, settings.window_frames, settings.window_stride)
      length = window_length(common, settings.window_frames)
    if settings.multilabel:
      logits, features, per_time = run_windows(networks, stream.name, array, starts,
                                               length, settings.batch_size, per_time=True)
      indices = multilabel.frame_indices(min(frames.values()))
      frame_logits = frame_logits + multilabel.frame_logits(per_time, starts, length,
                                                            indices)
    else:
      logits, features = run_windows(networks, stream.name, array, starts, length,
                                     settings.batch_size)
    arrays[f'window_logits_{stream.name}'] = logits
    arrays[f'features_{stream.name}'] = features
    arrays[f'clip_features_{stream.name}'] = features.mean(axis=0)
    window_logits = window_logits + logits
  arrays.update(window_logits=window_logits.astype(np.float32),
                logits=window_logits.mean(axis=0).astype(np.float32))
  if settings.multilabel:  # Charades' localization frames and their logits.
    arrays.update(frame_indices=indices.astype(np.int32), frame_logits=frame_logits)
  return arrays, starts, length


def _classify_views(inputs: Dict[str, np.ndarray], networks: 'Networks',
                    settings: Settings
                    ) -> Tuple[Dict[str, np.ndarray], List[int], int]:
  """Multi-view testing's arrays (`view_*` `[temporal, spatial, ...]`; the windows' are
  the temporal views with their crops averaged), the temporal views' starts and the
  clips' length. Views of one video fill the batches together."""
  common = min(int(a.shape[1]) for a in inputs.values())
  length = window_length(common, settings.window_frames)
  starts = views_lib.temporal_starts(common, length, settings.temporal_views)
  height, width = next(iter(inputs.values())).shape[2:4]
  crops = views_lib.spatial_crops(height, width, settings.spatial_views)
  arrays = {'view_crops': np.asarray(crops, np.int32)}
  view_logits = 0
  for stream in networks.plan.streams:
    logits, features = run_views(networks, stream.name, inputs[stream.modality][0],
                                 starts, length, crops, settings.batch_size)
    arrays[f'view_logits_{stream.name}'] = logits
    arrays[f'view_features_{stream.name}'] = features
    arrays[f'window_logits_{stream.name}'] = logits.mean(axis=1)
    arrays[f'features_{stream.name}'] = features.mean(axis=1)
    arrays[f'clip_features_{stream.name}'] = features.mean(axis=(0, 1))
    view_logits = view_logits + logits
  arrays.update(
      view_logits=view_logits.astype(np.float32),
      window_logits=view_logits.mean(axis=1).astype(np.float32),
      logits=view_logits.mean(axis=(0, 1)).astype(np.float32),
      probabilities=softmax(view_logits).mean(axis=(0, 1)))
  return arrays, starts, length


def run_views(networks: 'Networks', stream: str, frames: np.ndarray, starts: Sequence[int],
              length: int, crops: Sequence[views_lib.Crop],
              batch_size: int) -> Tuple[np.ndarray, np.ndarray]:
  """Logits `[T, S, num_classes]` and features `[T, S, 1024]` of the clips of `length`
  frames at `starts` cut by `crops` from frames `[T, H, W, C]` (a memory map is fine);
  batches fill across the views."""
  grid = views_lib.view_grid(starts, crops)
  logits, features = [], []
  for first in range(0, len(grid), batch_size):
    batch = np.stack([views_lib.cut(frames, starts[t], length, crops[s])
                      for t, s in grid[first:first + batch_size]])
    batch_logits, batch_features = networks(stream, batch)
    logits.append(batch_logits)
    features.append(batch_features)
  shape = (len(starts), len(crops), -1)
  return (np.concatenate(logits).reshape(shape),
          np.concatenate(features).reshape(shape))


def run_windows(networks: 'Networks', stream: str, array: np.ndarray,
                starts: Sequence[int], length: int, batch_size: int,
                per_time: bool = False) -> Tuple[np.ndarray, ...]:
  """Logits `[W, num_classes]` and features `[W, 1024]` of the windows
  `array[0, s:s + length]` of an input `[1, T, 224, 224, C]` (a memory map is fine:
  only a batch of windows is read at a time); with `per_time`, also the logits per
  time `[W, T', num_classes]`."""
  outputs = []
  for first in range(0, len(starts), batch_size):
    batch = np.stack([array[0, s:s + length] for s in starts[first:first + batch_size]])
    outputs.append(networks.call_per_time(stream, batch) if per_time else
                   networks(stream, batch))
  return tuple(np.concatenate(parts) for parts in zip(*outputs))


def softmax(logits: np.ndarray) -> np.ndarray:
  shifted = logits - logits.max(axis=-1, keepdims=True)
  exp = np.exp(shifted)
  return exp / exp.sum(axis=-1, keepdims=True)
