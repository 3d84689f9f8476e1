"""Per-frame transforms as pure functions: resizing (two recipes), crops, value scaling.

Two recipes are in use for Kinetics I3D inputs:
- `kinetics`, the release's README: the shorter side resized to 256 keeping the aspect
  ratio, bilinear.
- `mediapipe`, Google's open-sourced Kinetics graph
  (mediapipe/graphs/media_sequence/tvl1_flow_and_rgb_from_file.pbtxt): a centre crop
  that keeps the aspect ratio within [9/16, 16/9], then the height set to 256 and the
  width scaled and rounded down to an even number; INTER_AREA to shrink, INTER_CUBIC to
  enlarge.
"""

from typing import Tuple

import cv2
import numpy as np

from i3d.catalogue import IMAGE_SIZE, RECIPES

RESIZE = 256
CROP = IMAGE_SIZE
# Optical flow is truncated to [-FLOW_BOUND, FLOW_BOUND] pixels, then scaled to [-1, 1].
FLOW_BOUND = 20.0


def resize_shorter_side(frame: np.ndarray, size: int = RESIZE) -> np.ndarray:
  """Bilinear resize so that the shorter side is `size`, keeping the aspect ratio."""
  height, width = frame.shape[:2]
  scale = size / min(height, width)
  if height <= width:
    new_size = (round(width * scale), size)  # OpenCV sizes are (width, height).
  else:
    new_size = (size, round(height * scale))
  return cv2.resize(frame, new_size, interpolation=cv2.INTER_LINEAR)


def crop_aspect_ratio(frame: np.ndarray, low: float = 9 / 16,
                      high: float = 16 / 9) -> np.ndarray:
  """Centre-crops the wider (or taller) side so that width / height is in [low, high]."""
  height, width = frame.shape[:2]
  if width > high * height:
    new_width = int(high * height)
    x = (width - new_width) // 2
    return frame[:, x:x + new_width]
  if width < low * height:
    new_height = int(width / low)
    y = (height - new_height) // 2
    return frame[y:y + new_height]
  return frame


def resize_mediapipe(frame: np.ndarray, height: int = RESIZE) -> np.ndarray:
  """MediaPipe's Kinetics resize: aspect crop, height 256, even width, area/cubic."""
  frame = crop_aspect_ratio(frame)
  old_height, old_width = frame.shape[:2]
  width = int(old_width * height / old_height) // 2 * 2
  interpolation = cv2.INTER_AREA if height < old_height else cv2.INTER_CUBIC
  return cv2.resize(frame, (width, height), interpolation=interpolation)


def resize(frame: np.ndarray, recipe: str) -> np.ndarray:
  """Resizes a frame with one of `RECIPES`."""
  if recipe == 'kinetics':
    return resize_shorter_side(frame)
  if recipe == 'mediapipe':
    return resize_mediapipe(frame)
  raise ValueError(f'Unknown recipe {recipe!r}; valid recipes: {", ".join(RECIPES)}')


def centre_crop_offset(shape: Tuple[int, ...], size: int = CROP) -> Tuple[int, int]:
  """The (y, x) of the top-left corner of a centred `size` x `size` crop."""
  height, width = shape[:2]
  if height < size or width < size:
    raise ValueError(f'a frame of {height}x{width} is smaller than the {size}x{size} crop')
  return (height - size) // 2, (width - size) // 2


def random_crop_offset(shape: Tuple[int, ...], rng: np.random.Generator,
                       size: int = CROP) -> Tuple[int, int]:
  """A uniformly drawn (y, x) for a `size` x `size` crop (training-time augmentation)."""
  height, width = shape[:2]
  centre_crop_offset(shape, size)  # Checks the size.
  return int(rng.integers(0, height - size + 1)), int(rng.integers(0, width - size + 1))


def crop(frame: np.ndarray, offset: Tuple[int, int], size: int = CROP) -> np.ndarray:
  y, x = offset
  return frame[y:y + size, x:x + size]


def rgb_to_unit_range(frame: np.ndarray) -> np.ndarray:
  """Pixel values in [0, 255] (uint8, or float from a float resize) to float32 [-1, 1]."""
  return frame.astype(np.float32) / 127.5 - 1.0


def flow_to_unit_range(flow: np.ndarray) -> np.ndarray:
  """Flow in pixels, truncated to [-20, 20], to float32 [-1, 1]."""
  return np.clip(flow, -FLOW_BOUND, FLOW_BOUND).astype(np.float32) / FLOW_BOUND


def quantize_flow_mediapipe(flow: np.ndarray) -> np.ndarray:
  """Flow in pixels through MediaPipe's 8-bit storage and back, still in pixels.

  MediaPipe stores `(v + 20) / 40` clipped to [0, 1], times 255, truncated to uint8.
  """
  stored = (np.clip((flow + FLOW_BOUND) / (2 * FLOW_BOUND), 0, 1) * 255).astype(np.uint8)
  return stored.astype(np.float32) / 255 * (2 * FLOW_BOUND) - FLOW_BOUND
