"""Mean average precision as the Charades evaluation computes it, per video
(`Charades_v1_classify`) and per frame (`Charades_v1_localize`, 25 equally spaced frames
of each test video).

A class's AP ranks the items by score, highest first, ties kept in the items' order (the
evaluation's `sort(-conf)` is MATLAB's stable sort), and averages the precision at the
rank of each positive. mAP is the mean over the classes with a positive; the others
have no AP (NaN) and are left out. An item without scores (a video that failed) ranks
last for every class, as the evaluation's `-inf` does.
"""

from typing import Sequence, Tuple

import numpy as np

LOCALIZATION_FRAMES = 25


def average_precision(scores: np.ndarray, positives: np.ndarray) -> float:
  """The AP of one class: `scores` and boolean `positives` over the items; NaN
  without a positive."""
  scores = np.asarray(scores, np.float64)
  if np.isnan(scores).any():
    raise ValueError('average_precision: a score is NaN')
  hits = np.asarray(positives, bool)[np.argsort(-scores, kind='stable')]
  ranks = np.flatnonzero(hits) + 1
  if not len(ranks):
    return float('nan')
  return float(np.mean(np.arange(1, len(ranks) + 1) / ranks))


def mean_average_precision(scores: np.ndarray,
                           targets: np.ndarray) -> Tuple[float, np.ndarray]:
  """mAP over the classes with a positive, and every class's AP (NaN without one), for
  `scores` and 0/1 `targets` of shape `[items, classes]`."""
  scores, targets = np.asarray(scores), np.asarray(targets)
  if scores.shape != targets.shape or scores.ndim != 2:
    raise ValueError(f'scores {scores.shape} and targets {targets.shape} must be the '
                     'same [items, classes] shape')
  per_class = np.array([average_precision(scores[:, c], targets[:, c] > 0)
                        for c in range(scores.shape[1])])
  if np.isnan(per_class).all():
    return float('nan'), per_class
  return float(np.nanmean(per_class)), per_class


def frame_times(length: float, count: int = LOCALIZATION_FRAMES) -> np.ndarray:
  """The seconds of the frames `Charades_v1_localize` scores: `j / count * length` for
  j = 0 .. count - 1 (its frames 1 .. count)."""
  return np.arange(count) / count * length


def targets_at(spans: Sequence[Tuple[int, float, float]], times: np.ndarray,
               num_classes: int) -> np.ndarray:
  """0/1 `[len(times), num_classes]`: class c at time t when a span `(c, start, end)`
  has `start <= t <= end`, as the evaluation counts a frame's actions."""
  targets = np.zeros((len(times), num_classes), np.float32)
  for index, start, end in spans:
    targets[(start <= times) & (times <= end), index] = 1
  return targets
