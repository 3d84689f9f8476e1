"""The networks of a run, loaded once and reused for every clip.

Each stream (`rgb`, `flow`, `rgb600`) is a released checkpoint; `joint` is the RGB and
flow streams with their logits summed with equal weight, as in the release.
"""

from typing import Dict, Tuple

import numpy as np

from i3d import releases
from i3d.catalogue import IMAGE_SIZE, Plan
from i3d.quiet_tf import tf


class Networks:
  """The loaded networks of a plan, each a compiled `tf.function`.

  Raises (on construction):
    CheckpointMismatchError: If a checkpoint is not the network it should be.
  """

  def __init__(self, plan: Plan, precision: str = 'float32', per_time: bool = False):
    """`per_time`: also the logits per time (`call_per_time`), for multi-label runs."""
    self.plan = plan
    self.per_time = per_time
    self.eval_type = plan.eval_type
    self.streams: Tuple[str, ...] = tuple(s.name for s in plan.streams)
    self.labels = list(plan.labels)
    self._forward = {}
    self._per_time = {}
    for stream in plan.streams:
      model = releases.load_stream(stream, dtype=precision)
      self._forward[stream.name] = compile_forward(model, stream.release.channels)
      if per_time:
        self._per_time[stream.name] = compile_forward(model, stream.release.channels,
                                                      per_time=True)

  @property
  def num_classes(self) -> int:
    return len(self.labels)

  def __call__(self, stream: str, clips: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Logits `[B, num_classes]` and features `[B, 1024]`, float32, of clips
    `[B, T, 224, 224, C]` in [-1, 1] (T >= 9)."""
    outputs = self._forward[stream](tf.constant(clips, tf.float32))
    return outputs['logits'].numpy(), outputs['features'].numpy()

  def call_per_time(self, stream: str,
                    clips: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """As `__call__`, with the logits before their mean over time `[B, T', classes]`
    (`InceptionI3d.per_time_logits`) third; the first are their mean."""
    outputs = self._per_time[stream](tf.constant(clips, tf.float32))
    return (outputs['logits'].numpy(), outputs['features'].numpy(),
            outputs['per_time_logits'].numpy())


def forward_outputs(model, clips: tf.Tensor, per_time: bool = False) -> Dict[str, tf.Tensor]:
  """`logits` (averaged over time, as the release does), `features` (Mixed_5c
  average-pooled over time and space) and, with `per_time`, `per_time_logits` (the
  logits before that mean: the logits are then their mean, in one pass), float32."""
  if per_time:
    per_time_logits, end_points = model.per_time_logits(clips, is_training=False)
    per_time_logits = tf.cast(per_time_logits, tf.float32)
    logits = tf.reduce_mean(per_time_logits, axis=1)
  else:
    logits, end_points = model(clips, is_training=False)
    logits = tf.cast(logits, tf.float32)
  mixed_5c = tf.cast(end_points['Mixed_5c'], tf.float32)  # (B, T/8, 7, 7, 1024)
  outputs = {'logits': logits, 'features': tf.reduce_mean(mixed_5c, axis=[1, 2, 3])}
  if per_time:
    outputs['per_time_logits'] = per_time_logits
  return outputs


def compile_forward(model, channels: int, per_time: bool = False):
  """`forward_outputs` as one graph for any batch and clip length (input `clips`)."""
  spec = tf.TensorSpec([None, None, IMAGE_SIZE, IMAGE_SIZE, channels], tf.float32,
                       name='clips')
  return tf.function(lambda clips: forward_outputs(model, clips, per_time),
                     input_signature=[spec], autograph=False)
