"""TV-L1 optical flow between consecutive frames, as the release computed it.

Frame pairs are independent, so the pipeline spreads them over processes
(`i3d_assets.pool.OrderedMap`; OpenCV's TV-L1 runs mostly on one core) and takes the
results back in order.
"""

from typing import Optional

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


_process_tvl1: Optional[TVL1] = None


def tvl1(previous: np.ndarray, current: np.ndarray) -> np.ndarray:
  """`TVL1()(previous, current)` with one solver per process, made on first use."""
  global _process_tvl1
  if _process_tvl1 is None:
    _process_tvl1 = TVL1()
  return _process_tvl1(previous, current)


def start_worker() -> None:
  """Initialises a flow worker process: the pool, not OpenCV's threads, parallelises."""
  cv2.setNumThreads(1)
