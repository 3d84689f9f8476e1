"""Precise batch norm: every batch norm's moving mean and variance replaced by the
population statistics of a number of training batches, with the weights fixed.

After a short run at decay 0.999 the moving averages have gone only part of the way to
what the layers now compute (14% after 150 steps), and a network trained with batch
norm evaluates with statistics of weights long gone. PySlowFast (after Wu & Johnson,
"Rethinking 'Batch' in BatchNorm", 2021) recomputes them before evaluating; so does
this module, the same way: the network runs in training mode on each batch (each batch
norm normalising with its batch's statistics, as in training), and each layer's moving
mean becomes the mean of its per-batch means and its moving variance the mean of its
per-batch (biased, as this batch norm normalises with) variances. The variance of the
batch means between batches is not added, as PySlowFast does not add it.

On several replicas a batch is the replica's own, as in training; every replica gets the
same statistics (the moving averages are kept as the mean over replicas).
"""

import contextlib
from typing import Iterator, List

import numpy as np

from i3d.batch_norm import BatchNorm
from i3d.model import InceptionI3d
from i3d.quiet_tf import tf


def batch_norms(model: InceptionI3d) -> List[BatchNorm]:
  return [m for m in model.submodules if isinstance(m, BatchNorm)]


@contextlib.contextmanager
def _decay(modules: List[BatchNorm], value: float):
  """Runs with every module's moving-average decay at `value`: at decay 0 a training
  pass leaves each moving statistic equal to its batch's."""
  saved = [m._decay for m in modules]  # pylint: disable=protected-access
  for m in modules:
    m._decay = value  # pylint: disable=protected-access
  try:
    yield
  finally:
    for m, d in zip(modules, saved):
      m._decay = d  # pylint: disable=protected-access


class PreciseBatchNorm:
  """Sets a model's batch norm statistics from training batches; compiled once, for
  every update of a run."""

  def __init__(self, strategy: tf.distribute.Strategy, model: InceptionI3d):
    self._strategy = strategy
    self._modules = batch_norms(model)

    def replica_pass(clips):
      model(clips, is_training=True, dropout_keep_prob=1.0)

    @tf.function(autograph=False)
    def batch_statistics(iterator):
      """Each batch norm's batch mean and variance (the mean over replicas), left in
      its moving statistics by a training pass at decay 0; no weight changes."""
      clips, _ = next(iterator)
      strategy.run(replica_pass, args=(clips,))
      return ([m.moving_mean.read_value() for m in self._modules],
              [m.moving_variance.read_value() for m in self._modules])

    self._batch_statistics = batch_statistics

  def update(self, batches: Iterator, count: int) -> None:
    """Sets every batch norm's moving statistics to the population statistics of the
    next `count` batches of `batches`, an iterator of (distributed) `(clips, labels)`."""
    means = [np.zeros(m.moving_mean.shape, np.float64) for m in self._modules]
    variances = [np.zeros(m.moving_variance.shape, np.float64) for m in self._modules]
    for _ in range(count):
      with _decay(self._modules, 0.):  # Traced (and run) at decay 0.
        batch_means, batch_variances = self._batch_statistics(batches)
      for total, value in zip(means + variances, batch_means + batch_variances):
        total += value.numpy()
    with self._strategy.scope():
      for m, mean, variance in zip(self._modules, means, variances):
        m.moving_mean.assign(tf.cast(mean / count, m.moving_mean.dtype))
        m.moving_variance.assign(tf.cast(variance / count, m.moving_variance.dtype))
