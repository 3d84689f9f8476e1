"""TV-L1 optical flow between consecutive frames, as the release computed it."""

import cv2
import numpy as np


def to_gray(frame: np.ndarray) -> np.ndarray:
  """RGB uint8 `[H, W, 3]` to grayscale uint8 `[H, W]`."""
  return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)


class TVL1:
  """OpenCV contrib's Dual TV-L1 with its default parameters.

  One instance keeps OpenCV's solver (and its buffers) for every pair it computes.
  """

  def __init__(self):
    self._solver = cv2.optflow.DualTVL1OpticalFlow_create()

  def __call__(self, previous: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Flow `[H, W, 2]` float32 in pixels (x, y) from grayscale `previous` to `current`."""
    return self._solver.calc(previous, current, None)
