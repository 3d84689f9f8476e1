"""Batch normalisation with the semantics of the release's Sonnet 1 `snt.BatchNorm`.

Sonnet 2's `snt.BatchNorm` differs from what the I3D checkpoints were trained with: it
defaults to eps 1e-5, creates a scale, and keeps zero-debiased moving averages
(`counter`/`hidden`/`average`). The release used eps 1e-3, a learned offset and no scale,
and plain moving averages `new = decay * old + (1 - decay) * batch`. This module keeps the
release's three variables (`beta`, `moving_mean`, `moving_variance`) under the release's
names, so that loaded statistics are exactly what inference uses and training continues
them.
"""

from typing import Optional

from i3d.quiet_tf import tf  # First: TensorFlow without its start-up lines.
import sonnet as snt  # pylint: disable=g-bad-import-order

DEFAULT_EPS = 1e-3
DEFAULT_DECAY = 0.999


class BatchNorm(snt.Module):
  """Offset-only batch norm over all axes but the last, Sonnet 1 style.

  Inference (`is_training=False`) normalises with the moving statistics. Training
  normalises with the batch's mean and (biased) variance and moves the moving statistics
  towards them: `moving = decay * moving + (1 - decay) * batch`.
  """

  def __init__(self,
               eps: float = DEFAULT_EPS,
               decay: float = DEFAULT_DECAY,
               name: Optional[str] = 'batch_norm'):
    """Constructs the module.

    Args:
      eps: Added to the variance before the square root; 1e-3 as in Sonnet 1.
      decay: Moving-average decay of the statistics; 0.999 as in Sonnet 1.
      name: Module name; `batch_norm` is the name in the release's checkpoints.

    Raises:
      ValueError: If `eps` is not positive or `decay` is outside [0, 1].
    """
    super().__init__(name=name)
    if eps <= 0:
      raise ValueError(f'eps must be positive, got {eps}')
    if not 0 <= decay <= 1:
      raise ValueError(f'decay must be in [0, 1], got {decay}')
    self._eps = eps
    self._decay = decay

  @snt.once
  def _initialize(self, x: tf.Tensor):
    channels = x.shape[-1]
    self.beta = tf.Variable(tf.zeros([channels], x.dtype), name='beta')
    self.moving_mean = tf.Variable(
        tf.zeros([channels], x.dtype), trainable=False, name='moving_mean')
    self.moving_variance = tf.Variable(
        tf.ones([channels], x.dtype), trainable=False, name='moving_variance')

  def __call__(self, x: tf.Tensor, is_training: bool) -> tf.Tensor:
    """Normalises `x` of shape `[..., C]`."""
    self._initialize(x)
    if is_training:
      # Statistics in the variables' dtype: under mixed precision (bfloat16 `x`, float32
      # variables) a bfloat16 moving average would lose the 0.1% steps of decay 0.999.
      mean, variance = tf.nn.moments(tf.cast(x, self.moving_mean.dtype),
                                     axes=list(range(len(x.shape) - 1)))
      self.moving_mean.assign(
          self._decay * self.moving_mean + (1 - self._decay) * mean)
      self.moving_variance.assign(
          self._decay * self.moving_variance + (1 - self._decay) * variance)
    else:
      mean, variance = self.moving_mean, self.moving_variance
    return tf.nn.batch_normalization(
        x, tf.cast(mean, x.dtype), tf.cast(variance, x.dtype),
        offset=tf.cast(self.beta, x.dtype), scale=None, variance_epsilon=self._eps)
