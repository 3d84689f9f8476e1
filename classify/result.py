"""One video's result: its windows' logits and features, the video's prediction.

A result is one `.npz` (NumPy arrays only, no pickle):
  window_starts           [W] int32, first frame (at 25 fps) of each window
  window_logits           [W, C] the windows' logits (RGB + flow for joint)
  window_logits_<stream>  [W, C] per stream (rgb, flow or rgb600)
  features_<stream>       [W, 1024] Mixed_5c average-pooled over time and space
  clip_features_<stream>  [1024] their mean over the windows
  logits                  [C] the video's logits: the mean of the windows' logits
  probabilities           [C] their softmax
  top_k_indices, top_k_probabilities, top_k_classes   [k] most probable first
  metadata                a JSON string: id, path, label, frames, settings
"""

import io
import json
from typing import Any, Dict

import numpy as np

from classify import network
from classify import windows
from i3d import releases
from classify.settings import Settings
from classify.sources import Video


def classify_inputs(video: Video, inputs: Dict[str, np.ndarray],
                    networks: network.Networks, settings: Settings) -> Dict[str, np.ndarray]:
  """The result arrays of a video from its preprocessed inputs `{modality: [1, T, ...]}`.

  Windows are the same frames in every stream (flow has one frame fewer than RGB, so
  windows cover the shorter); with `window_frames` 0 each stream runs once over all of
  its frames, as `evaluate_sample.py` does.
  """
  frames = {m: int(a.shape[1]) for m, a in inputs.items()}
  arrays = {}
  window_logits = 0
  for stream in networks.streams:
    array = inputs[releases.input_modality(stream)]
    if settings.window_frames == 0:
      starts, length = [0], array.shape[1]
    else:
      common = min(frames.values())
      starts = windows.window_starts(common, settings.window_frames, settings.window_stride)
      length = windows.window_length(common, settings.window_frames)
    logits, features = network.run_windows(networks, stream, array, starts, length,
                                           settings.batch_size)
    arrays[f'window_logits_{stream}'] = logits
    arrays[f'features_{stream}'] = features
    arrays[f'clip_features_{stream}'] = features.mean(axis=0)
    window_logits = window_logits + logits
  video_logits = window_logits.mean(axis=0)
  probabilities = network.softmax(video_logits)
  top = np.argsort(-probabilities, kind='stable')[:settings.top_k]
  metadata = {
      'id': video.id, 'path': video.path, 'label': video.label, 'frames': frames,
      'fps': 25, 'window_length': None if settings.window_frames == 0 else length,
      'settings': settings.identity(),
  }
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


def to_bytes(arrays: Dict[str, np.ndarray]) -> bytes:
  buffer = io.BytesIO()
  np.savez(buffer, **arrays)
  return buffer.getvalue()


def from_bytes(data: bytes) -> Dict[str, np.ndarray]:
  with np.load(io.BytesIO(data), allow_pickle=False) as npz:
    return {name: npz[name] for name in npz.files}


def metadata(arrays: Dict[str, np.ndarray]) -> Dict[str, Any]:
  return json.loads(str(arrays['metadata']))


def failure_record(video: Video, error: BaseException) -> bytes:
  """The record of a video that could not be processed, and why."""
  return json.dumps({'id': video.id, 'path': video.path, 'label': video.label,
                     'error': str(error) or type(error).__name__}, indent=1).encode()
