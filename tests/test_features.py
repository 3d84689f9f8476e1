"""python -m i3d.features on a cut of a sample video: the snippet rule, ActionFormer's
THUMOS preset (two streams, a random flow checkpoint in the release's layout) and ten
crops, each row against the independent network on frames cut here with NumPy."""

import csv
import json
import os

import numpy as np
import pytest
import tensorflow as tf

from i3d import catalogue
from i3d import classify
from i3d import features
from i3d import preprocess
from i3d import provision
from i3d.catalogue import paths
from i3d.features import settings
from i3d.preprocess import sample
from tests import commands
from tests import reference
from tests.test_checkpoint import unscoped, with_random_flow
from tests.test_classify import resized
from tests.test_preprocess import decode_all, write_video
from tests.test_views import reference_weights

ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='3')


def test_snippets_start_every_stride_while_a_whole_one_fits():
  assert features.snippet_starts(100, 16, 4) == list(range(0, 85, 4))  # 22 snippets.
  assert features.snippet_starts(30, 16, 4) == [0, 4, 8, 12]  # Frames 28, 29: none.
  assert features.snippet_starts(16, 16, 4) == [0]
  assert features.snippet_starts(12, 16, 4) == [0]  # Shorter: one of all its frames.


@pytest.fixture(scope='module')
def clip_30fps(tmp_path_factory):
  """Big Buck Bunny's frames 40 to 70 written at 30 fps (1 s; the sample is 25 fps)."""
  folder = tmp_path_factory.mktemp('videos')
  bunny = decode_all(os.path.join(sample.sample_videos(), 'bigbuckbunny.mp4'))
  return write_video(str(folder / 'bunny30.mp4'), resized(bunny[40:70]), 30, 'mp4v')


@pytest.fixture(scope='module')
def networks():
  provision.provision()
  return classify.Networks(catalogue.make_plan('rgb', True, paths.checkpoint_dir()))


def pooled(clip, weights):
  return tf.reduce_mean(reference.mixed_5c(clip[None], weights), [1, 2, 3])[0].numpy()


def run_features(*args):
  return commands.run(['-m', 'i3d.features', *args], env=ENV)


def test_actionformer_preset_is_two_stream_16_frames_stride_4_at_the_videos_rate(
    clip_30fps, tmp_path):
  checkpoints = tmp_path / 'checkpoints'
  flow_weights = unscoped(with_random_flow(checkpoints, seed=7))
  out = tmp_path / 'out'
  args = ['--videos', os.path.dirname(clip_30fps), '--output_dir', str(out),
          '--checkpoint_dir', str(checkpoints), '--workers', '1']
  result = run_features('--preset', 'actionformer_thumos', *args)
  assert result.returncode == 0, result.stderr
  array = np.load(out / 'bunny30.npy')
  # 30 frames at 30 fps, 29 flow frames: starts 0, 4, 8, 12 (a 5th would need frame 32).
  assert array.shape == (4, 2048) and array.dtype == np.float32
  with open(out / 'features.csv', newline='') as f:
    [row] = list(csv.DictReader(f))
  assert (row['id'], row['file'], row['frames'], row['snippets']) == (
      'bunny30', 'bunny30.npy', '29', '4')
  assert float(row['fps']) == pytest.approx(30, abs=0.01)
  assert [float(s) for s in row['start_times'].split()] == pytest.approx(
      [0, 4 / 30, 8 / 30, 12 / 30], abs=1e-5)

  frames = preprocess.video_to_arrays(clip_30fps, ['rgb', 'flow'],
                                      preprocess.Options(fps=preprocess.NATIVE))
  rgb, flow = frames['rgb'][0], frames['flow'][0]
  assert rgb.shape[0] == 30 and flow.shape[0] == 29
  rgb_weights = reference_weights()
  for k in (0, 3):
    start = 4 * k
    expected = np.concatenate([pooled(rgb[start:start + 16], rgb_weights),
                               pooled(flow[start:start + 16], flow_weights)])
    np.testing.assert_allclose(array[k], expected, rtol=1e-4,
                               atol=1e-4 * np.abs(expected).max())

  again = run_features('--preset', 'actionformer_thumos', *args)
  assert again.returncode == 0 and again.stdout.startswith('0 processed, 1 already done')
  refused = run_features('--preset', 'actionformer_thumos', '--snippet_stride', '8', *args)
  assert refused.returncode == 1
  assert refused.stderr.strip().splitlines()[-1] == (
      'features: --preset actionformer_thumos sets --snippet_stride; leave it out')


def test_fps_is_bounded_to_rates_that_mean_something(clip_30fps, tmp_path):
  # --fps 1e9 once streamed a 4-second video's frames to scratch until the disk was full.
  result = run_features('--videos', os.path.dirname(clip_30fps), '--output_dir',
                        str(tmp_path / 'out'), '--fps', '1e9')
  assert result.returncode == 1
  assert result.stderr.strip().splitlines() == [
      "features: --fps must be frames per second in (0, 240] or 'native', got 1000000000.0"]
  assert not (tmp_path / 'out').exists()
  for text in ('inf', 'nan', '0', '-25', '240.5'):
    with pytest.raises(ValueError, match=r'^--fps must be frames per second in \(0, 240\]'):
      settings.parse_fps(text)
  with pytest.raises(ValueError, match="^--fps: expected frames per second or 'native'"):
    settings.parse_fps('fast')
  assert [settings.parse_fps(t) for t in ('240', '0.5', 'native')] == [240.0, 0.5, 'native']


def test_two_streams_without_the_flow_checkpoint_are_refused(clip_30fps, tmp_path):
  provision.provision()  # RGB's: the flow checkpoint is in no registry.
  result = run_features('--videos', os.path.dirname(clip_30fps), '--output_dir',
                        str(tmp_path / 'out'), '--streams', 'two_stream')
  assert result.returncode == 3
  [line] = result.stderr.strip().splitlines()
  assert line.startswith('features: ') and 'flow_imagenet' in line
  assert not (tmp_path / 'out' / 'run.json').exists()


def test_ten_crops_per_snippet(clip_30fps, networks, tmp_path):
  settings = features.FeatureSettings(snippet_frames=9, snippet_stride=10,
                                      spatial_views=10, batch_size=7)
  summary = features.extract_videos(classify.list_videos(os.path.dirname(clip_30fps)),
                                    str(tmp_path), settings, workers=1, networks=networks)
  assert summary.processed == 1
  array = np.load(tmp_path / 'bunny30.npy')
  assert array.shape == (2, 10, 1024)  # 25 frames at 25 fps: starts 0 and 10.
  meta = json.loads((tmp_path / 'meta' / 'bunny30.json').read_text())
  assert meta['snippet_starts'] == [0, 10] and meta['frames'] == {'rgb': 25}
  frames = preprocess.video_to_arrays(clip_30fps, ['rgb'],
                                      preprocess.Options(crop='none'))['rgb'][0]
  assert frames.shape[1:] == (256, 455, 3)
  # Crop 3 is the bottom right; 6 the top right's mirror.
  clips = np.stack([frames[10:19, 32:256, 231:455], frames[0:9, 0:224, 231:455][:, :, ::-1]])
  expected = networks('rgb', clips)[1]
  # Batched with the other crops in the command, two at a time here.
  reference.assert_close_across_batches(array[1, 3], expected[0])
  reference.assert_close_across_batches(array[0, 6], expected[1])


def test_shards_write_their_share_and_the_last_the_index(clip_30fps, networks, tmp_path):
  from i3d.system.shards import Shard  # pylint: disable=g-import-not-at-top
  folder = tmp_path / 'videos'
  folder.mkdir()
  for name in ('p', 'q', 'r'):
    os.symlink(clip_30fps, folder / f'{name}.mp4')
  videos = classify.list_videos(str(folder))
  settings = features.FeatureSettings(snippet_frames=9, snippet_stride=16)
  owner = {v.id: [i for i in (0, 1) if Shard(i, 2).holds(v.id)][0] for v in videos}
  assert sorted(owner.values()) == [0, 0, 1]  # p, q, r: a share each side.
  out = tmp_path / 'out'
  first = features.extract_videos(videos, str(out), settings, workers=1, networks=networks,
                                  shard=Shard(0, 2))
  assert first.processed == 2 and not (out / 'features.csv').exists()
  second = features.extract_videos(videos, str(out), settings, workers=1,
                                   networks=networks, shard=Shard(1, 2))
  assert second.processed == 1
  with open(out / 'features.csv', newline='') as f:
    assert [r['id'] for r in csv.DictReader(f)] == ['p', 'q', 'r']


def test_a_full_disk_is_the_machines_error_and_the_rerun_finishes(clip_30fps, networks,
                                                                 tmp_path):
  """In-process (the command maps a `MachineError` to exit status 4, tested for
  classification from the outside): nothing is written off, and the rerun finishes."""
  from i3d.system import faults  # pylint: disable=g-import-not-at-top
  from tests.test_faults import tiny_disk  # pylint: disable=g-import-not-at-top
  out = tmp_path / 'disk' / 'out'
  videos = classify.list_videos(os.path.dirname(clip_30fps))
  settings = features.FeatureSettings(snippet_frames=9)
  with tiny_disk(tmp_path / 'disk') as remount:  # 3 MB: less than the scratch arrays.
    with pytest.raises(faults.MachineError, match='No space left on device'):
      features.extract_videos(videos, str(out), settings, workers=1, networks=networks)
    assert not (out / 'meta').exists() or not os.listdir(out / 'meta')  # Nothing written off.
    remount('size=400m')
    again = features.extract_videos(videos, str(out), settings, workers=1,
                                    networks=networks)
    assert (again.processed, again.skipped, again.failed) == (1, 0, 0)
    assert not [n for n in os.listdir(out) if n.startswith('.scratch') or n.endswith('.tmp')]
