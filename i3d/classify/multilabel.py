"""Multi-label scores of a video from its windows: the video's logits (the max or the
mean of its windows'), and logits at the 25 equally spaced frames that Charades'
localization scores, each from the window covering the frame: that window's logits per
time, linearly upsampled to its frames (half-pixel centres, as multi-label training
upsamples them, `i3d.train.multilabel`), at the frame."""

from typing import Sequence

import numpy as np

from i3d.videosets import mean_ap


def frame_indices(num_frames: int, count: int = mean_ap.LOCALIZATION_FRAMES) -> np.ndarray:
  """The frames (at 25 fps) at Charades' localization times `j / count * length`:
  `floor(j * num_frames / count)`."""
  return (np.arange(count) * num_frames) // count


def covering_window(frame: int, starts: Sequence[int], length: int) -> int:
  """The window `[s, s + length)` holding `frame` whose centre is nearest it (the first
  of equals); the nearest window if none holds it."""
  starts = np.asarray(starts)
  distance = np.abs(starts + (length - 1) / 2 - frame)
  inside = (starts <= frame) & (frame < starts + length)
  return int(np.argmin(np.where(inside, distance, np.inf)) if inside.any()
             else np.argmin(distance))


def upsample(values: np.ndarray, frames: int) -> np.ndarray:
  """`[T', C]` to `[frames, C]`: linear interpolation with half-pixel centres, the ends
  held."""
  steps = len(values)
  source = np.clip((np.arange(frames) + 0.5) * steps / frames - 0.5, 0, steps - 1)
  low = np.floor(source).astype(int)
  high = np.minimum(low + 1, steps - 1)
  weight = (source - low)[:, None]
  return (1 - weight) * values[low] + weight * values[high]


def frame_logits(per_time: np.ndarray, starts: Sequence[int], length: int,
                 frames: np.ndarray) -> np.ndarray:
  """Logits `[len(frames), C]` at `frames` from the windows' logits per time
  `[W, T', C]` (windows of `length` frames at `starts`)."""
  rows = []
  for frame in frames:
    window = covering_window(int(frame), starts, length)
    offset = min(max(int(frame) - starts[window], 0), length - 1)
    rows.append(upsample(per_time[window], length)[offset])
  return np.stack(rows).astype(np.float32)


def video_logits(window_logits: np.ndarray, how: str) -> np.ndarray:
  """A video's logits from its windows' `[W, C]`: their `max` or `mean`."""
  return (window_logits.max(axis=0) if how == 'max' else
          window_logits.mean(axis=0)).astype(np.float32)


def sigmoid(logits: np.ndarray) -> np.ndarray:
  return 1 / (1 + np.exp(-logits))
