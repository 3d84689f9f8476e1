"""Charades' average precision against independent formulations: pair counting, the
precision-recall step sum (scikit-learn's definition, equal where no scores tie), and
hand-worked cases with ties."""

import itertools

import numpy as np
import pytest

from i3d.videosets import mean_ap


def by_pairs(scores, positives):
  """AP without sorting, for untied scores: each positive's precision is the positives
  scored at least as high over all items scored at least as high."""
  precisions = [sum(positives[j] for j in range(len(scores)) if scores[j] >= scores[i]) /
                sum(scores[j] >= scores[i] for j in range(len(scores)))
                for i in range(len(scores)) if positives[i]]
  return np.mean(precisions)


def by_recall_steps(scores, positives):
  """sum over thresholds (the distinct scores, high to low) of the recall gained times
  the precision there: scikit-learn's average_precision_score."""
  positives = np.asarray(positives, bool)
  total, recall = 0., 0.
  for threshold in sorted(set(scores), reverse=True):
    chosen = np.asarray(scores) >= threshold
    new_recall = (chosen & positives).sum() / positives.sum()
    total += (new_recall - recall) * (chosen & positives).sum() / chosen.sum()
    recall = new_recall
  return total


def test_untied_scores_agree_with_pair_counting_and_recall_steps():
  rng = np.random.default_rng(0)
  for size in (1, 2, 5, 12, 40):
    for _ in range(20):
      scores = rng.permutation(size) + rng.uniform(0, 0.5)
      positives = rng.random(size) < 0.4
      if not positives.any():
        positives[rng.integers(size)] = True
      got = mean_ap.average_precision(scores, positives)
      assert got == pytest.approx(by_pairs(scores, positives), abs=1e-12)
      assert got == pytest.approx(by_recall_steps(scores, positives), abs=1e-12)


def test_every_ranking_of_four_items():
  """All orders of two positives among four untied items: AP by hand."""
  expected = {(1, 2): 1., (1, 3): (1 + 2 / 3) / 2, (1, 4): (1 + 2 / 4) / 2,
              (2, 3): (1 / 2 + 2 / 3) / 2, (2, 4): (1 / 2 + 2 / 4) / 2,
              (3, 4): (1 / 3 + 2 / 4) / 2}
  for ranks in itertools.combinations(range(1, 5), 2):
    positives = np.isin(np.arange(1, 5), ranks)
    assert mean_ap.average_precision([4., 3., 2., 1.], positives) == pytest.approx(
        expected[ranks])


def test_ties_keep_the_items_order():
  """Tied scores rank in the items' order (MATLAB's stable sort), so which of two tied
  items is the positive changes the AP."""
  scores = [0.9, 0.5, 0.5, 0.1]
  assert mean_ap.average_precision(scores, [0, 1, 0, 1]) == pytest.approx((1 / 2 + 2 / 4) / 2)
  assert mean_ap.average_precision(scores, [0, 0, 1, 1]) == pytest.approx((1 / 3 + 2 / 4) / 2)
  # All tied: the precision at each positive in list order.
  assert mean_ap.average_precision([0., 0., 0.], [1, 0, 1]) == pytest.approx((1 + 2 / 3) / 2)


def test_missing_videos_rank_last_and_classes_without_positives_are_left_out():
  scores = np.array([[0.9, 0.1, 0.3], [-np.inf, -np.inf, -np.inf], [0.2, 0.8, 0.4]])
  targets = np.array([[1, 0, 0], [1, 0, 0], [0, 1, 0]])
  value, per_class = mean_ap.mean_average_precision(scores, targets)
  # Class 0: positives at ranks 1 and 3 (the failed video last); class 1: rank 1.
  assert per_class[0] == pytest.approx((1 + 2 / 3) / 2)
  assert per_class[1] == 1 and np.isnan(per_class[2])
  assert value == pytest.approx(((1 + 2 / 3) / 2 + 1) / 2)
  assert np.isnan(mean_ap.mean_average_precision(scores, 0 * targets)[0])
  with pytest.raises(ValueError, match='NaN'):
    mean_ap.average_precision([np.nan, 1.], [1, 0])


def test_localization_frames_and_their_targets():
  """Charades_v1_localize's 25 frames of a 10 s video at 0, 0.4, .. 9.6 s; a span's ends
  count."""
  times = mean_ap.frame_times(10.)
  np.testing.assert_allclose(times, np.arange(25) * 0.4)
  targets = mean_ap.targets_at([(2, 0.4, 1.2), (0, 9.0, 20.0), (2, 5.0, 5.1)], times, 3)
  assert targets.shape == (25, 3)
  np.testing.assert_array_equal(np.flatnonzero(targets[:, 2]), [1, 2, 3])
  np.testing.assert_array_equal(np.flatnonzero(targets[:, 0]), [23, 24])
  assert not targets[:, 1].any()
