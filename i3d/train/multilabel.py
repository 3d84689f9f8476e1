"""Multi-label training's loss, as pytorch-i3d's Charades trainer (`train_i3d.py`)
computes it: the network's logits before their mean over time, linearly upsampled to the
clip's frames (PyTorch's `upsample(mode='linear')`: half-pixel centres), scored per frame
against the actions under each frame (localization), and their maximum over time against
the actions anywhere in the clip (classification), each a sigmoid cross-entropy averaged
over its entries; the loss is the mean of the two (that trainer's `0.5 * loc + 0.5 *
cls`). Both terms as there: the per-frame one teaches when, the per-clip one what, and
Charades is scored on both.
"""

from i3d.quiet_tf import tf


def upsample(per_time: tf.Tensor, frames: int) -> tf.Tensor:
  """`[B, T', C]` to `[B, frames, C]` by linear interpolation with half-pixel centres
  (the ends held)."""
  resized = tf.image.resize(per_time[:, :, tf.newaxis, :], [frames, 1], 'bilinear')
  return resized[:, :, 0, :]


def example_losses(per_time_logits: tf.Tensor, targets: tf.Tensor) -> tf.Tensor:
  """Each clip's loss, `[B]`, from the logits `[B, T', C]` and 0/1 targets per frame
  `[B, T, C]`."""
  per_frame = upsample(tf.cast(per_time_logits, tf.float32), targets.shape[1])
  localization = tf.reduce_mean(
      tf.nn.sigmoid_cross_entropy_with_logits(targets, per_frame), axis=[1, 2])
  classification = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
      tf.reduce_max(targets, axis=1), tf.reduce_max(per_frame, axis=1)), axis=1)
  return 0.5 * localization + 0.5 * classification
