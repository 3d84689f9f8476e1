"""A run's files: their names in its store (`i3d.system.store`), one video's result,
a failed video's record, and damaged files set aside.

A result appears under its final name only once complete (written to a temporary name,
then renamed), so a killed run leaves either nothing or a whole file, and "the file
exists" means "the video is done".

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
import sys
from typing import Any, Dict
import zipfile

import numpy as np

from i3d.videosets.sources import Video

VIDEOS = 'videos'
RUN_FILE = 'run.json'
# A run's temporary arrays, under its output folder while it runs.
SCRATCH = '.scratch'
# A damaged result or record is kept under its name with this added.
DAMAGED_SUFFIX = '.damaged'


def result_name(video_id: str) -> str:
  return f'{VIDEOS}/{video_id}.npz'


def failure_name(video_id: str) -> str:
  return f'{VIDEOS}/{video_id}.failed.json'


def plot_name(video_id: str) -> str:
  return f'{VIDEOS}/{video_id}.png'


def set_aside(store, name: str, problem: str, program: str = 'classify',
              then: str = 'the video is done again') -> None:
  """Moves a damaged file to `<name>.damaged` and says so in one line on stderr."""
  store.write(name + DAMAGED_SUFFIX, store.read(name) or b'')
  store.remove(name)
  print(f'{program}: {store.path(name)}: damaged ({problem}); moved to '
        f'{store.path(name)}{DAMAGED_SUFFIX}, {then}', file=sys.stderr)


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
