"""The networks of a run, loaded once and reused for every clip.

Each stream (`rgb`, `flow`, `rgb600`) is a released checkpoint; `joint` is the RGB and
flow streams with their logits summed with equal weight, as in the release.
"""

from typing import Sequence, Tuple

import numpy as np
import tensorflow as tf

from i3d import releases

EVAL_TYPES = ('auto', 'rgb', 'flow', 'joint', 'rgb600')
STREAMS = releases.STREAMS
# Size of the average-pooled Mixed_5c features.
FEATURES = 1024
IMAGE_SIZE = 224


def has_checkpoint(release: releases.Release, checkpoint_dir: str) -> bool:
  try:
    releases.release_prefix(release, checkpoint_dir)
  except releases.MissingCheckpointError:
    return False
  return True


def resolve_eval_type(eval_type: str, imagenet_pretrained: bool,
                      checkpoint_dir: str) -> str:
  """`auto` is `joint` when the flow checkpoint is there and `rgb` otherwise."""
  if eval_type not in EVAL_TYPES:
    raise ValueError(f'Unknown eval_type {eval_type!r}; valid: {", ".join(EVAL_TYPES)}')
  if eval_type != 'auto':
    return eval_type
  flow = releases.release_for('flow', imagenet_pretrained)
  return 'joint' if has_checkpoint(flow, checkpoint_dir) else 'rgb'


def check_checkpoints(eval_type: str, imagenet_pretrained: bool, checkpoint_dir: str):
  """Raises MissingCheckpointError (naming the folder) unless every checkpoint that the
  eval type needs is there; returns the class names. Cheap: nothing is loaded."""
  chosen = releases.releases_of(eval_type, imagenet_pretrained)
  for release in chosen:
    releases.release_prefix(release, checkpoint_dir)
  return releases.read_labels(chosen[0])


class Networks:
  """The loaded networks of an eval type, each a compiled `tf.function`.

  Raises (on construction):
    MissingCheckpointError: If a needed checkpoint is absent (no fallback).
    CheckpointMismatchError: If a checkpoint is not the network it should be.
  """

  def __init__(self, eval_type: str, imagenet_pretrained: bool = True,
               checkpoint_dir: str = releases.DEFAULT_CHECKPOINT_DIR,
               precision: str = 'float32'):
    if eval_type not in STREAMS:
      raise ValueError(f'eval_type must be one of {", ".join(STREAMS)}, got {eval_type!r}')
    self.eval_type = eval_type
    self.streams: Tuple[str, ...] = STREAMS[eval_type]
    self.releases = releases.releases_of(eval_type, imagenet_pretrained)
    self.labels = releases.read_labels(self.releases[0])
    self._forward = {}
    for stream, release in zip(self.streams, self.releases):
      model = releases.load_release(release, checkpoint_dir, dtype=precision)
      self._forward[stream] = _compile(model, release.channels)

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


def run_windows(networks: Networks, stream: str, array: np.ndarray,
                starts: Sequence[int], length: int,
                batch_size: int) -> Tuple[np.ndarray, np.ndarray]:
  """Logits `[W, num_classes]` and features `[W, 1024]` of the windows
  `array[0, s:s + length]` of an input `[1, T, 224, 224, C]` (a memory map is fine:
  only a batch of windows is read at a time)."""
  logits, features = [], []
  for first in range(0, len(starts), batch_size):
    batch = np.stack([array[0, s:s + length] for s in starts[first:first + batch_size]])
    batch_logits, batch_features = networks(stream, batch)
    logits.append(batch_logits)
    features.append(batch_features)
  return np.concatenate(logits), np.concatenate(features)


def softmax(logits: np.ndarray) -> np.ndarray:
  shifted = logits - logits.max(axis=-1, keepdims=True)
  exp = np.exp(shifted)
  return exp / exp.sum(axis=-1, keepdims=True)
