"""The networks of a run, loaded once and reused for every clip.

Each stream (`rgb`, `flow`, `rgb600`) is a released checkpoint; `joint` is the RGB and
flow streams with their logits summed with equal weight, as in the release.
"""

from typing import Tuple

import numpy as np

from i3d import releases
from i3d.catalogue import IMAGE_SIZE, Plan
from i3d.quiet_tf import tf


class Networks:
  """The loaded networks of a plan, each a compiled `tf.function`.

  Raises (on construction):
    CheckpointMismatchError: If a checkpoint is not the network it should be.
  """

  def __init__(self, plan: Plan, precision: str = 'float32'):
    self.plan = plan
    self.eval_type = plan.eval_type
    self.streams: Tuple[str, ...] = tuple(s.name for s in plan.streams)
    self.labels = list(plan.labels)
    self._forward = {}
    for stream in plan.streams:
      model = releases.load_stream(stream, dtype=precision)
      self._forward[stream.name] = _compile(model, stream.release.channels)

  @property
  def num_classes(self) -> int:
    return len(self.labels)

  def __call__(self, stream: str, clips: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Logits `[B, num_classes]` and features `[B, 1024]`, float32, of clips
    `[B, T, 224, 224, C]` in [-1, 1] (T >= 9)."""
    logits, features = self._forward[stream](tf.constant(clips, tf.float32))
    return logits.numpy(), features.numpy()


def _compile(model, channels: int):
  """The model as one graph for any batch and clip length: logits (averaged over time,
  as the release does) and Mixed_5c average-pooled over time and space."""

  def forward(clips):
    logits, end_points = model(clips, is_training=False)
    mixed_5c = tf.cast(end_points['Mixed_5c'], tf.float32)  # (B, T/8, 7, 7, 1024)
    return tf.cast(logits, tf.float32), tf.reduce_mean(mixed_5c, axis=[1, 2, 3])

  spec = tf.TensorSpec([None, None, IMAGE_SIZE, IMAGE_SIZE, channels], tf.float32)
  return tf.function(forward, input_signature=[spec], autograph=False)
