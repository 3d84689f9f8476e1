"""A video's prediction from its preprocessed inputs: the windows' logits and features
per stream, the joint sum, the video's logits (the mean of its windows') and top-k."""

import json
from typing import TYPE_CHECKING, Dict, Sequence, Tuple

from i3d_catalogue import FPS
import numpy as np

from classify import windows
from classify.settings import Settings
from classify.sources import Video

if TYPE_CHECKING:  # Only for the annotations: the networks need TensorFlow.
  from classify.network import Networks  # pylint: disable=g-bad-import-order


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
  arrays = {}
  window_logits = 0
  for stream in networks.plan.streams:
    array = inputs[stream.modality]
    if settings.window_frames == 0:
      starts, length = [0], array.shape[1]
    else:
      common = min(frames.values())
      starts = windows.window_starts(common, settings.window_frames, settings.window_stride)
      length = windows.window_length(common, settings.window_frames)
    logits, features = run_windows(networks, stream.name, array, starts, length,
                                   settings.batch_size)
    arrays[f'window_logits_{stream.name}'] = logits
    arrays[f'features_{stream.name}'] = features
    arrays[f'clip_features_{stream.name}'] = features.mean(axis=0)
    window_logits = window_logits + logits
  video_logits = window_logits.mean(axis=0)
  probabilities = softmax(video_logits)
  top = np.argsort(-probabilities, kind='stable')[:settings.top_k]
  metadata = {
      'id': video.id, 'path': video.path, 'label': video.label, 'frames': frames,
      'fps': FPS, 'window_length': None if settings.window_frames == 0 else length,
      'settings': settings.identity(networks.plan),
  }
  if notes:
    metadata['warnings'] = list(notes)
  arrays.update(
      window_starts=np.asarray(starts, np.int32),
      window_logits=window_logits.astype(np.float32),
      logits=video_logits.astype(np.float32),
      probabilities=probabilities.astype(np.float32),
      top_k_indices=top.astype(np.int32),
      top_k_probabilities=probabilities[top].astype(np.float32),
      top_k_classes=np.asarray([networks.labels[i] for i in top]),
      metadata=np.asarray(json.dumps(metadata)))
  return arrays


def run_windows(networks: 'Networks', stream: str, array: np.ndarray,
                starts: Sequence[int], length: int,
                batch_size: int) -> Tuple[np.ndarray, np.ndarray]:
  """Logits `[W, num_classes]` and features `[W, 1024]` of the windows
  `array[0, s:s + length]` of an input `[1, T, 224, 224, C]` (a memory map is fine:
  only a batch of windows is read at a time)."""
  logits, features = [], []
  for first in range(0, len(starts), batch_size):
    batch = np.stack([array[0, s:s + length] for s in starts[first:first + batch_size]])
    batch_logits, batch_features = networks(stream, batch)
    logits.append(batch_logits)
    features.append(batch_features)
  return np.concatenate(logits), np.concatenate(features)


def softmax(logits: np.ndarray) -> np.ndarray:
  shifted = logits - logits.max(axis=-1, keepdims=True)
  exp = np.exp(shifted)
  return exp / exp.sum(axis=-1, keepdims=True)
