"""Multi-view testing: where the views are (against values worked out by hand from
MMAction2's definitions), and the classification command's views, probabilities and
accuracy against crops cut here with plain NumPy slices from the decoded frames."""

import csv
import json
import os

import numpy as np
import pytest

from i3d import catalogue
from i3d import classify
from i3d import preprocess
from i3d import provision
from i3d.catalogue import paths
from i3d.classify import beam as classify_beam
from i3d.classify import views
from i3d.preprocess import sample
from tests import commands
from tests import reference
from tests.test_checkpoint import unscoped, with_random_flow
from tests.test_classify import assert_same_results, load, resized
from tests.test_preprocess import decode_all, write_video

ENV = commands.user_env()


def test_temporal_views_are_centred_in_equal_segments():
  # 100 frames, clips of 32: 69 possible starts in 10 segments of 6.9, centres at
  # 3.45 + 6.9 k, rounded down.
  assert views.temporal_starts(100, 32, 10) == [3, 10, 17, 24, 31, 37, 44, 51, 58, 65]
  assert views.temporal_starts(100, 32, 1) == [34]
  assert views.temporal_starts(40, 32, 3) == [1, 4, 7]   # 9 starts, segments of 3.
  assert views.temporal_starts(20, 32, 4) == [0, 0, 0, 0]  # Shorter than a clip.
  with pytest.raises(ValueError):
    views.temporal_starts(100, 32, 0)


def test_spatial_views_follow_three_and_ten_crop():
  landscape = views.spatial_crops(256, 341, 3)
  assert [(c.y, c.x) for c in landscape] == [(16, 0), (16, 58), (16, 117)]
  portrait = views.spatial_crops(400, 256, 3)
  assert [(c.y, c.x) for c in portrait] == [(0, 16), (88, 16), (176, 16)]
  ten = views.spatial_crops(256, 341, 10)
  assert [tuple(c) for c in ten[:5]] == [(0, 0, False), (0, 117, False), (32, 0, False),
                                         (32, 117, False), (16, 58, False)]
  assert [tuple(c) for c in ten[5:]] == [(c.y, c.x, True) for c in ten[:5]]
  assert views.spatial_crops(256, 341, 1) == [views.Crop(16, 58)]
  with pytest.raises(ValueError, match='one of'):
    views.spatial_crops(256, 341, 5)


def test_a_mirrored_flow_crop_reverses_horizontal_motion():
  rng = np.random.default_rng(0)
  flow = rng.uniform(-1, 1, (3, 230, 240, 2)).astype(np.float32)
  clip = views.cut(flow, 1, 2, views.Crop(3, 10, mirrored=True))
  window = flow[1:3, 3:227, 10:234]
  np.testing.assert_array_equal(clip[..., 0], -window[:, :, ::-1, 0])
  np.testing.assert_array_equal(clip[..., 1], window[:, :, ::-1, 1])
  rgb = rng.uniform(-1, 1, (3, 230, 240, 3)).astype(np.float32)
  np.testing.assert_array_equal(views.cut(rgb, 0, 3, views.Crop(0, 16, mirrored=True)),
                                rgb[:, :224, 16:240][:, :, ::-1])


def test_settings_refuse_views_that_do_not_go_together():
  with pytest.raises(ValueError, match='window_frames > 0'):
    classify.Settings(temporal_views=3, window_frames=0)
  with pytest.raises(ValueError, match='needs temporal_views'):
    classify.Settings(spatial_views=3)
  with pytest.raises(ValueError, match='spatial_views one of'):
    classify.Settings(temporal_views=3, spatial_views=4)


def softmax(logits):
  e = np.exp(logits - logits.max(-1, keepdims=True))
  return e / e.sum(-1, keepdims=True)


@pytest.fixture(scope='module')
def rgb_networks():
  provision.provision()
  return classify.Networks(catalogue.make_plan('rgb', True, paths.checkpoint_dir()))


def test_thirty_views_score_the_mean_softmax_and_accuracy(rgb_networks, tmp_path):
  """10 temporal x 3 spatial views on a real video, through the command, with labels:
  every view's logits, the mean softmax and metrics.json. Views of 10 frames (MMAction2's
  protocol takes 32): where they go and how they are scored does not depend on it."""
  video = os.path.join(sample.sample_videos(), 'carphone_pristine.mp4')
  labels = tmp_path / 'classes.txt'
  labels.write_text('\n'.join(rgb_networks.labels) + '\n')
  frames = preprocess.video_to_arrays(video, ['rgb'], preprocess.Options(crop='none'))
  frames = frames['rgb'][0]
  assert frames.shape == (100, 256, 313, 3)
  # 100 frames, clips of 10: 91 possible starts in 10 segments of 9.1, centres at
  # 4.55 + 9.1 k, rounded down.
  starts = [4, 13, 22, 31, 40, 50, 59, 68, 77, 86]
  xs = [0, 44, 89]  # Start, middle and end of 313 - 224 = 89; y = (256 - 224) / 2.
  clips = np.stack([frames[t:t + 10, 16:240, x:x + 224] for t in starts for x in xs])
  logits = np.concatenate([rgb_networks('rgb', clips[i:i + 10])[0] for i in (0, 10, 20)])
  expected = softmax(logits).mean(0)
  top1 = rgb_networks.labels[int(np.argmax(expected))]
  with open(tmp_path / 'set.csv', 'w', newline='') as f:
    csv.writer(f).writerows([['path', 'label'], [video, top1]])

  result = commands.run(
      ['-m', 'i3d.classify', '--videos', str(tmp_path / 'set.csv'),
       '--labels', str(labels), '--output_dir', str(tmp_path / 'out'), '--eval_type', 'rgb',
       '--temporal_views', '10', '--spatial_views', '3', '--window_frames', '10',
       '--workers', '1', '--noplots'], env=ENV)
  assert result.returncode == 0, result.stderr
  [name] = os.listdir(tmp_path / 'out' / 'videos')
  r = load(tmp_path / 'out' / 'videos' / name)
  assert r['view_logits_rgb'].shape == (10, 3, 400)
  assert r['window_starts'].tolist() == starts
  assert r['view_crops'].tolist() == [[16, x, 0] for x in xs]
  # The command batches the views its own way; here 10 at a time.
  reference.assert_close_across_batches(r['view_logits_rgb'].reshape(30, 400), logits)
  reference.assert_close_across_batches(r['probabilities'], expected)
  reference.assert_close_across_batches(r['logits'], logits.mean(0))
  meta = json.loads(str(r['metadata']))
  assert meta['score'] == "the mean of the views' softmax probabilities"
  metrics = json.loads((tmp_path / 'out' / 'metrics.json').read_text())
  assert metrics['top1'] == 1.0 and metrics['videos_scored'] == 1
  # One view through the independent network: the library's is checked there too.
  weights = reference_weights()
  k = 3 * 7 + 2
  independent = reference.logits(clips[k:k + 1], weights)[0]
  np.testing.assert_allclose(logits[k], independent, rtol=1e-4,
                             atol=1e-4 * np.abs(independent).max())


def reference_weights():
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  reader = tf.train.load_checkpoint(
      os.path.join(paths.checkpoint_dir(), 'rgb_imagenet', 'model.ckpt'))
  return unscoped({k: reader.get_tensor(k) for k in reader.get_variable_to_shape_map()})


def test_ten_crop_joint_views_mirror_flow(rgb_networks, tmp_path):
  """Joint (a random flow checkpoint in the release's layout) with ten crops of one
  window: each view of each stream equals the independent network on a crop cut here,
  mirrored flow negated horizontally; the Beam pipeline's result equals the local one.
  (Temporal views times spatial ones are placed and scored in the thirty-view test.)"""
  checkpoints = tmp_path / 'checkpoints'
  flow_weights = unscoped(with_random_flow(checkpoints, seed=5))
  bunny = decode_all(os.path.join(sample.sample_videos(), 'bigbuckbunny.mp4'))
  folder = tmp_path / 'videos'
  folder.mkdir()
  video = write_video(str(folder / 'short.mp4'), resized(bunny[30:44]), 25, 'mp4v')
  settings = classify.Settings(checkpoint_dir=str(checkpoints), window_frames=9,
                               temporal_views=1, spatial_views=10, batch_size=6,
                               plots=False)
  summary = classify.classify_videos(classify.list_videos(str(folder)),
                                     str(tmp_path / 'o'), settings, workers=1)
  assert summary.processed == 1
  r = load(tmp_path / 'o' / 'videos' / 'short.npz')
  assert r['view_logits'].shape == (1, 10, 400) and r['view_features_flow'].shape == (
      1, 10, 1024)
  inputs = preprocess.video_to_arrays(video, ['rgb', 'flow'],
                                      preprocess.Options(crop='none'))
  rgb, flow = inputs['rgb'][0], inputs['flow'][0]
  assert flow.shape == (13, 256, 455, 2)
  assert r['window_starts'].tolist() == [2]  # The middle of 5 starts.
  for t, s in ((0, 0), (0, 8)):
    start = r['window_starts'][t]
    y, x, mirrored = r['view_crops'][s]
    assert (s >= 5) == bool(mirrored)
    flow_clip = flow[start:start + 9, y:y + 224, x:x + 224]
    rgb_clip = rgb[start:start + 9, y:y + 224, x:x + 224]
    if mirrored:
      flow_clip = flow_clip[:, :, ::-1] * np.array([-1, 1], np.float32)
      rgb_clip = rgb_clip[:, :, ::-1]
    expected_flow = reference.logits(flow_clip[None], flow_weights)[0]
    np.testing.assert_allclose(r['view_logits_flow'][t, s], expected_flow, rtol=1e-4,
                               atol=1e-4 * np.abs(expected_flow).max())
    expected_rgb = rgb_networks('rgb', rgb_clip[None])[0][0]
    reference.assert_close_across_batches(r['view_logits_rgb'][t, s], expected_rgb)
  np.testing.assert_allclose(r['view_logits'], r['view_logits_rgb'] + r['view_logits_flow'],
                             rtol=1e-6)
  np.testing.assert_allclose(r['probabilities'],
                             softmax(r['view_logits']).mean((0, 1)), rtol=1e-5, atol=1e-7)
  # The Beam pipeline runs the same views.
  classify_beam.run(classify.list_videos(str(folder)), str(tmp_path / 'beam'), settings)
  assert_same_results(tmp_path / 'o', tmp_path / 'beam', ['short'])
