"""Multi-label training's pieces against independent formulations: the upsampling
(PyTorch's linear interpolation written out), the two sigmoid losses (the cross-entropy
written out), the network's logits per time (their mean is the usual output), and the
targets per frame of a training clip (worked by hand)."""

import numpy as np
import pytest
import tensorflow as tf

from i3d.model import InceptionI3d
from i3d.train import data
from i3d.train import multilabel
from i3d.train import camera_motion
from i3d.train.recipe import Recipe
from i3d.videosets.sources import Video


def linear_upsample(values, size):
  """PyTorch's `upsample(mode='linear', align_corners=False)` along axis 0."""
  length = len(values)
  out = []
  for i in range(size):
    source = max((i + 0.5) * length / size - 0.5, 0)
    low = min(int(np.floor(source)), length - 1)
    high = min(low + 1, length - 1)
    weight = source - low
    out.append((1 - weight) * values[low] + weight * values[high])
  return np.array(out)


def cross_entropy(labels, logits):
  p = 1 / (1 + np.exp(-logits))
  return -(labels * np.log(p) + (1 - labels) * np.log(1 - p))


def test_upsampling_is_pytorchs_linear_interpolation():
  rng = np.random.default_rng(0)
  for steps, frames in ((1, 16), (2, 16), (3, 24), (7, 64), (4, 5)):
    values = rng.normal(size=(steps, 3))
    got = multilabel.upsample(tf.constant(values[None], tf.float32), frames).numpy()[0]
    np.testing.assert_allclose(got, linear_upsample(values, frames), rtol=1e-5, atol=1e-6)


def test_losses_are_the_mean_of_the_per_frame_and_per_clip_cross_entropies():
  rng = np.random.default_rng(1)
  per_time = rng.normal(size=(2, 3, 4)) * 3
  targets = (rng.random(size=(2, 24, 4)) < 0.3).astype(np.float32)
  got = multilabel.example_losses(tf.constant(per_time, tf.float32),
                                  tf.constant(targets)).numpy()
  for b in range(2):
    per_frame = linear_upsample(per_time[b], 24)
    localization = cross_entropy(targets[b], per_frame).mean()
    classification = cross_entropy(targets[b].max(0), per_frame.max(0)).mean()
    assert got[b] == pytest.approx(0.5 * localization + 0.5 * classification, rel=1e-5)


def test_per_time_logits_average_to_the_networks_logits():
  tf.random.set_seed(0)
  model = InceptionI3d(num_classes=5)
  clips = tf.random.uniform([2, 24, 224, 224, 3], -1, 1, seed=1)
  logits, _ = model(clips, is_training=False)
  per_time = model.per_time_logits(clips, is_training=False)
  assert per_time.shape == (2, 2, 5)  # ceil(24 / 8) - 1 times.
  np.testing.assert_allclose(tf.reduce_mean(per_time, 1), logits, rtol=1e-5, atol=1e-6)


def test_a_training_clips_targets_follow_its_frames(tmp_path):
  """A 20-frame video, clips of 30 frames: the clip starts at frame 0 and loops, so its
  frame k is the video's k mod 20, at (k mod 20) / 25 s; an action from 0.4 s to 0.6 s
  covers frames 10 to 15 of each pass."""
  path = str(tmp_path / 'v.avi')
  rng = np.random.default_rng(0)
  frames = [rng.integers(0, 255, (60, 80, 3), np.uint8) for _ in range(20)]
  camera_motion.write_avi(path, frames)
  recipe = Recipe(classes=('a', 'b'), num_frames=30, multilabel=True, flip=False)
  loader = data.ClipLoader([Video('v', path)], recipe.classes, recipe,
                           spans=[[(1, 0.4, 0.6)]])
  clip, targets = loader.example(0)
  assert clip.shape == (30, 224, 224, 3) and targets.shape == (30, 2)
  expected = [k for k in range(30) if 10 <= k % 20 <= 15]
  np.testing.assert_array_equal(np.flatnonzero(targets[:, 1]), expected)
  assert not targets[:, 0].any()
  with pytest.raises(ValueError, match='spans of every video'):
    data.ClipLoader([Video('v', path)], recipe.classes, recipe)
