"""TV-L1 optical flow between consecutive frames, as the release computed it.

Frame pairs are independent, so `FlowPool` spreads them over processes (OpenCV's TV-L1
runs mostly on one core) and hands the results back in order.
"""

import collections
import concurrent.futures
import multiprocessing
import os
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


_worker_tvl1: Optional[TVL1] = None


def _start_worker() -> None:
  global _worker_tvl1
  cv2.setNumThreads(1)  # The pool supplies the parallelism.
  _worker_tvl1 = TVL1()


def _worker_flow(previous: np.ndarray, current: np.ndarray) -> np.ndarray:
  return _worker_tvl1(previous, current)


class FlowPool:
  """TV-L1 on `workers` processes, or in this process when `workers` is 1.

  `submit` returns a future of the flow; results are identical to `TVL1()` calls.
  Use as a context manager so that the worker processes end with it.
  """

  def __init__(self, workers: Optional[int] = None):
    self.workers = workers or os.cpu_count() or 1
    if self.workers < 1:
      raise ValueError(f'workers must be at least 1, got {workers}')
    self._executor = None
    self._local = None
    if self.workers == 1:
      self._local = TVL1()
    else:
      # Spawned, not forked: the parent may hold TensorFlow's threads.
      self._executor = concurrent.futures.ProcessPoolExecutor(
          self.workers, mp_context=multiprocessing.get_context('spawn'),
          initializer=_start_worker)

  def submit(self, previous: np.ndarray, current: np.ndarray) -> concurrent.futures.Future:
    if self._executor is not None:
      return self._executor.submit(_worker_flow, previous, current)
    future = concurrent.futures.Future()
    future.set_result(self._local(previous, current))
    return future

  def close(self) -> None:
    if self._executor is not None:
      self._executor.shutdown(cancel_futures=True)

  def __enter__(self) -> 'FlowPool':
    return self

  def __exit__(self, *exc) -> None:
    self.close()


def in_order(items, pool: FlowPool):
  """Yields `items` (dicts whose 'flow' may be a future) with each future resolved,
  keeping at most about two per worker in flight: memory stays bounded."""
  pending = collections.deque()
  for item in items:
    pending.append(item)
    while len(pending) > 2 * pool.workers:
      yield _resolve(pending.popleft())
  while pending:
    yield _resolve(pending.popleft())


def _resolve(item):
  if 'flow' in item:
    finish, future = item['flow']
    item['flow'] = finish(future.result())
  return item
