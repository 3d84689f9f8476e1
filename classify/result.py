"""One video's result as a file, and a failed video's record.

A result (made by `classify.prediction`) is one `.npz` (NumPy arrays only, no pickle):
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
import zipfile
from typing import Any, Dict

import numpy as np

from classify.sources import Video


def to_bytes(arrays: Dict[str, np.ndarray]) -> bytes:
  """A result's `.npz` bytes (NumPy arrays only, uncompressed)."""
  buffer = io.BytesIO()
  np.savez(buffer, **arrays)
  return buffer.getvalue()


def from_bytes(data: bytes) -> Dict[str, np.ndarray]:
  """A result's arrays from its `.npz` bytes (no pickle)."""
  with np.load(io.BytesIO(data), allow_pickle=False) as npz:
    return {name: npz[name] for name in npz.files}


def metadata(arrays: Dict[str, np.ndarray]) -> Dict[str, Any]:
  """A result's metadata: id, path, label, frames, settings."""
  return json.loads(str(arrays['metadata']))


# What reading a damaged result raises (a cut or overwritten zip, a missing array, bad
# JSON in the metadata).
DAMAGED = (zipfile.BadZipFile, ValueError, KeyError, EOFError, OSError)


def failure_record(video: Video, error: BaseException) -> bytes:
  """The record of a video that could not be processed, and why."""
  return json.dumps({'id': video.id, 'path': video.path, 'label': video.label,
                     'error': str(error) or type(error).__name__}, indent=1).encode()
