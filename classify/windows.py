"""Sliding windows over a video's frames."""

from typing import List


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
