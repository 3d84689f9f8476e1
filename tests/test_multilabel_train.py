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
from tests import commands


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
  per_time, end_points = model.per_time_logits(clips, is_training=False)
  assert end_points['Mixed_5c'].shape == (2, 3, 7, 7, 1024)
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


def test_classifys_upsampling_and_frames():
  """classify's numpy upsampling equals training's TensorFlow one; Charades' 25 frames
  of a 100-frame video are every fourth; a frame is scored by the window holding it
  whose centre is nearest."""
  from i3d.classify import multilabel as scores  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(2)
  for steps, frames in ((1, 16), (3, 24), (7, 64)):
    values = rng.normal(size=(steps, 4)).astype(np.float32)
    expected = multilabel.upsample(tf.constant(values[None]), frames).numpy()[0]
    np.testing.assert_allclose(scores.upsample(values, frames), expected, rtol=1e-5,
                               atol=1e-6)
  np.testing.assert_array_equal(scores.frame_indices(100), np.arange(0, 100, 4))
  windows = np.array([[1., -2.], [3., -4.]])
  np.testing.assert_array_equal(scores.video_logits(windows, 'max'), [3, -2])
  np.testing.assert_array_equal(scores.video_logits(windows, 'mean'), [2, -3])
  np.testing.assert_array_equal(scores.frame_indices(10)[:6], [0, 0, 0, 1, 1, 2])
  # Windows of 64 at 0, 32, 64 (frames 0..127), centres 31.5, 63.5, 95.5: frame 47 is
  # in the first two, 15.5 and 16.5 from their centres; frame 48, 16.5 and 15.5.
  assert [scores.covering_window(f, [0, 32, 64], 64)
          for f in (0, 40, 47, 48, 100, 127)] == [0, 0, 0, 1, 2, 2]
  per_time = np.stack([np.full((7, 2), w, np.float32) for w in range(3)])
  per_time[1, :, 1] = np.arange(7)  # Window 1's class 1 rises over time.
  got = scores.frame_logits(per_time, [0, 32, 64], 64, np.array([0, 56, 100]))
  np.testing.assert_allclose(got[:, 0], [0, 1, 2])
  # Frame 56 is window 1's frame 24: (24 + 0.5) * 7 / 64 - 0.5 = 2.1797 steps in.
  assert got[1, 1] == pytest.approx((24 + 0.5) * 7 / 64 - 0.5, rel=1e-5)


def test_command_trains_on_charades_csvs_and_classify_scores_the_same_map(tmp_path):
  """The generated multi-label set in Charades' format: `python -m i3d.train` prints
  `eval mAP: <v>` last; `classify --model_dir` on the held-out CSV writes the same mAP,
  logits at Charades' 25 frames in each result, and a localization mAP equal to one
  computed here from those logits and the CSV's spans."""
  import json  # pylint: disable=g-import-not-at-top
  from i3d import provision  # pylint: disable=g-import-not-at-top
  from i3d.videosets import mean_ap  # pylint: disable=g-import-not-at-top
  from i3d.videosets import multilabel as sets  # pylint: disable=g-import-not-at-top
  provision.provision()
  data = tmp_path / 'charades'
  camera_motion.generate_multilabel(str(data), 4, 4, 24, (112, 84), seed=3,
                                    classes=('PanLeft', 'ZoomIn', 'TiltUp'))
  common = ['--video_dir', str(data), '--labels', str(data / 'classes.txt')]
  trained = commands.run(
      ['-m', 'i3d.train', '--train_list', str(data / 'charades_train.csv'),
       '--eval_list', str(data / 'charades_test.csv'), '--output_dir', str(tmp_path / 'run'),
       '--num_frames', '9', '--batch_size', '2', '--steps', '2', '--freeze_batch_norm',
       '--noflip', *common], timeout=900)
  assert trained.returncode == 0, trained.stderr
  last = trained.stdout.strip().splitlines()[-1]
  assert last.startswith('eval mAP: ')
  assert '(multi-label)' in trained.stdout
  summary = json.loads((tmp_path / 'run' / 'train.json').read_text())
  assert summary['settings']['multilabel'] and summary['metrics']['mAP'] == float(
      last.split(': ')[1])

  scored = commands.run(
      ['-m', 'i3d.classify', '--videos', str(data / 'charades_test.csv'),
       '--model_dir', str(tmp_path / 'run'), '--window_frames', '0', '--output_dir',
       str(tmp_path / 'scored'), '--noplots', *common], timeout=600)
  assert scored.returncode == 0, scored.stderr
  metrics = json.loads((tmp_path / 'scored' / 'metrics.json').read_text())
  assert metrics['mAP'] == pytest.approx(summary['metrics']['mAP'], abs=1e-9)
  names = ['c000', 'c001', 'c002']
  actions, _, _ = sets.read_multilabel(str(data / 'charades_test.csv'), class_names=names)
  frame_scores, frame_targets = [], []
  for item in actions:
    with np.load(tmp_path / 'scored' / 'videos' / f'{item.id}.npz') as result:
      assert result['frame_logits'].shape == (25, 3)
      np.testing.assert_array_equal(result['frame_indices'], np.arange(25) * 24 // 25)
      frame_scores.append(result['frame_logits'])
    for j in range(25):
      t = j / 25 * item.length
      frame_targets.append([any(c == k and s <= t <= e for k, s, e in item.spans)
                            for c in range(3)])
  expected, _ = mean_ap.mean_average_precision(np.concatenate(frame_scores),
                                               np.array(frame_targets, float))
  assert metrics['localization_mAP'] == pytest.approx(expected, abs=1e-9)
  per_class = (tmp_path / 'scored' / 'per_class.csv').read_text().splitlines()
  assert per_class[0] == 'label,videos,ap,localization_ap' and len(per_class) == 4
