"""The OpenVINO back-end (`--backend openvino`): the TensorFlow networks' outputs in
float32, int8 that keeps the sample videos' answers, precision set explicitly, and
folders that keep to the back-end they were started with."""

import json
import os

import numpy as np
import pytest

from i3d import catalogue
from i3d import provision
from i3d import runtime
from i3d.runtime import networks as network
from i3d.precision import PrecisionError
from i3d.runtime import int8
from i3d.runtime import openvino_networks
from tests import commands
from tests.conftest import ROOT
from tests.test_export import SAMPLE

VIDEOS = os.path.join(ROOT, 'data', 'samples', 'videos')
# Few clips keep the test short; the default (256) is what bench/backends.py measures.
TEST_CALIBRATION_CLIPS = '8'


def test_int8_runs_on_openvino_only_and_tensorflow_folders_keep_their_claim():
  with pytest.raises(ValueError, match='int8 runs on --backend openvino only'):
    runtime.check('tensorflow', 'int8')
  with pytest.raises(ValueError, match="Unknown backend 'onnx'"):
    runtime.check('onnx', 'float32')
  runtime.check('openvino', 'int8')
  assert runtime.identity('tensorflow', 'float32', (), 256) == {}
  assert runtime.identity('openvino', 'bfloat16', (), 256) == {'backend': 'openvino'}
  assert runtime.identity('openvino', 'int8', ('/v/a.mp4', '/w/b.avi'), 64) == {
      'backend': 'openvino', 'calibration': {'videos': ['a.mp4', 'b.avi'], 'clips': 64}}


def test_calibration_clips_are_spread_evenly_over_the_videos_together():
  # Starts 0..68 of a 100-frame video, then 0..8 of a 40-frame one: 78 in all, six
  # clips at the centres of six equal parts (6.5, 19.5, ..., 71.5), rounded down.
  assert int8.clip_starts([100, 40], 6, 32) == [(0, 6), (0, 19), (0, 32), (0, 45),
                                                (0, 58), (1, 2)]
  # A video shorter than a clip has one start.
  assert int8.clip_starts([10], 3, 32) == [(0, 0)] * 3


def test_openvino_precision_is_explicit(monkeypatch):
  monkeypatch.setattr(openvino_networks, 'has_bfloat16', lambda: False)
  assert openvino_networks.choose('auto')[0] == 'float32'
  assert openvino_networks.choose('int8') == ('int8', None)
  with pytest.raises(PrecisionError, match='no bfloat16 units'):
    openvino_networks.choose('bfloat16')
  monkeypatch.setattr(openvino_networks, 'has_bfloat16', lambda: True)
  assert openvino_networks.choose('auto')[0] == 'bfloat16'
  assert openvino_networks.HINTS == {'float32': 'f32', 'bfloat16': 'bf16', 'int8': 'f32'}


def test_openvino_networks_equal_tensorflows_in_float32():
  provision.provision()
  plan = catalogue.make_plan('rgb', True, os.path.join(ROOT, 'data', 'checkpoints'))
  clips = np.load(SAMPLE)[:, :24]
  clips = np.concatenate([clips, clips[:, ::-1]])
  expected = network.Networks(plan, per_time=True).call_per_time('rgb', clips)
  got = openvino_networks.OpenVinoNetworks(plan, per_time=True).call_per_time('rgb', clips)
  for name, want, have in zip(('logits', 'features', 'per_time_logits'), expected, got):
    assert have.shape == want.shape and have.dtype == np.float32, name
    np.testing.assert_allclose(have, want, rtol=1e-4, atol=1e-4 * np.abs(want).max(),
                               err_msg=name)


def classify(output, *extra, cache=None, videos=VIDEOS):
  env = dict(os.environ, I3D_CACHE_DIR=str(cache)) if cache else None
  return commands.run(
      ['-m', 'i3d.classify', '--videos', str(videos), '--eval_type', 'rgb',
       '--output_dir', str(output), '--noplots', *extra], timeout=900, env=env)


def top_classes(output):
  """`{video id: (top-1, top-5 list)}` of a run's summary."""
  lines = (output / 'summary.csv').read_text().splitlines()
  header = lines[0].split(',')
  rows = [line.split(',') for line in lines[1:]]
  return {row[0]: (row[header.index('top1')], row[header.index('top5')].split('|'))
          for row in rows}


def test_classify_in_int8_calibrates_once_and_keeps_a_confident_answer(tmp_path):
  """int8 through the command: calibrated on real video (8 clips here, to be quick),
  cached, recorded, and refused where it cannot run. What int8 keeps of float32's
  answers over all four sample videos and their windows, with the default 256 clips, is
  measured by bench/backends.py (bench/results/backends.json: float32's top-1 on three
  of four videos and logits within 1.1). Here Big Buck Bunny, whose float32 top-1 leads
  its runner-up by 2.9 logits, keeps it (0.60 the largest logit difference measured
  here), and the logits stay within the bench's bound. (The cache's reuse is tested in
  test_a_damaged_int8_cache_is_named_and_calibrated_again.)"""
  provision.provision()
  videos = tmp_path / 'videos'
  videos.mkdir()
  os.symlink(os.path.join(VIDEOS, 'bigbuckbunny.mp4'), videos / 'bigbuckbunny.mp4')
  reference = classify(tmp_path / 'tensorflow', '--window_frames', '0', videos=videos)
  assert reference.returncode == 0, reference.stderr
  quantized = classify(tmp_path / 'int8', '--window_frames', '0', '--backend', 'openvino',
                       '--precision', 'int8', '--calibration_clips', TEST_CALIBRATION_CLIPS,
                       videos=videos, cache=tmp_path / 'cache')  # Quantized now.
  assert quantized.returncode == 0, quantized.stderr
  assert 'int8: calibrating rgb on' in quantized.stderr
  assert len(list((tmp_path / 'cache' / 'int8').iterdir())) == 1
  expected = top_classes(tmp_path / 'tensorflow')
  got = top_classes(tmp_path / 'int8')
  assert list(got) == list(expected) == ['bigbuckbunny']
  assert got['bigbuckbunny'][0] == expected['bigbuckbunny'][0] == 'feeding birds'
  logits = {run: np.stack([np.load(tmp_path / run / 'videos' / f'{v}.npz')['logits']
                           for v in sorted(expected)]) for run in ('tensorflow', 'int8')}
  assert np.abs(logits['int8'] - logits['tensorflow']).max() < 1.2
  recorded = json.loads((tmp_path / 'int8' / 'run.json').read_text())
  assert recorded['backend'] == 'openvino' and recorded['precision'] == 'int8'
  assert recorded['calibration'] == {'clips': int(TEST_CALIBRATION_CLIPS), 'videos': [
      'bigbuckbunny.mp4', 'bikes.mp4', 'carphone_distorted.mp4', 'carphone_pristine.mp4']}
  # A folder keeps to its back-end, and int8 needs OpenVINO: one line each, nothing run.
  refused = classify(tmp_path / 'tensorflow', '--window_frames', '0', '--backend',
                     'openvino', videos=videos)
  assert refused.returncode == 1
  assert 'made with other settings' in refused.stderr and 'openvino' in refused.stderr
  refused = classify(tmp_path / 'other', '--precision', 'int8', videos=videos)
  assert refused.returncode == 1
  assert refused.stderr.strip().splitlines()[-1].endswith(
      'precision int8 runs on --backend openvino only')
  assert not (tmp_path / 'other').exists()


def test_features_and_live_on_openvino_equal_tensorflows(tmp_path):
  provision.provision()
  bunny = os.path.join(VIDEOS, 'bigbuckbunny.mp4')
  features, windows = {}, {}
  for backend in ('tensorflow', 'openvino'):
    out = tmp_path / backend
    done = commands.run(
        ['-m', 'i3d.features', '--videos', bunny[:-4] + '.*', '--output_dir',
         str(out / 'features'), '--snippet_frames', '32', '--snippet_stride', '50',
         '--backend', backend], timeout=900)
    assert done.returncode == 0, done.stderr
    features[backend] = np.load(out / 'features' / 'bigbuckbunny.npy')
    done = commands.run(
        ['-m', 'i3d.live', '--source', bunny, '--window_frames', '16',
         '--stride', '58', '--output', str(out / 'live.jsonl'), '--backend', backend],
        timeout=900)
    assert done.returncode == 0, done.stderr
    windows[backend] = [json.loads(line) for line in open(out / 'live.jsonl')]
  assert features['tensorflow'].shape == (3, 1024)  # 132 frames: starts 0, 50, 100.
  np.testing.assert_allclose(features['openvino'], features['tensorflow'], rtol=1e-4,
                             atol=1e-5)
  assert [w['start_frame'] for w in windows['openvino']] == [
      w['start_frame'] for w in windows['tensorflow']] == [0, 58, 116]
  for got, expected in zip(windows['openvino'], windows['tensorflow']):
    np.testing.assert_allclose(got['logits'], expected['logits'], rtol=1e-4,
                               atol=1e-4 * np.abs(expected['logits']).max())


def test_a_damaged_int8_cache_is_named_and_calibrated_again(tmp_path, monkeypatch, capsys):
  """A cut `model.bin` in the cache gave OpenVINO's bare "Incorrect weights in bin file!"
  traceback. The cache logic here, around a tiny OpenVINO model (no calibration)."""
  import openvino  # pylint: disable=g-import-not-at-top
  from openvino import opset13 as ops  # pylint: disable=g-import-not-at-top
  from i3d.runtime import convert  # pylint: disable=g-import-not-at-top
  source = ops.parameter([1, 64], np.float32, name='x')
  weights = ops.constant(np.arange(64 * 64, dtype=np.float32).reshape(64, 64))
  tiny = openvino.Model([ops.matmul(source, weights, False, False)], [source], 'tiny')
  monkeypatch.setenv('I3D_CACHE_DIR', str(tmp_path))
  monkeypatch.setattr(int8, '_key', lambda *args: 'key')
  monkeypatch.setattr(int8, 'calibration_clips', lambda *args: [])
  calibrated = []
  monkeypatch.setattr(int8, 'quantize', lambda model, clips: calibrated.append(1) or model)
  folder = tmp_path / 'int8' / 'key'
  folder.mkdir(parents=True)
  convert.save_openvino(tiny, str(folder / 'model.xml'))
  data = (folder / 'model.bin').read_bytes()
  (folder / 'model.bin').write_bytes(data[:len(data) // 2])
  calibration = int8.Calibration(('a.mp4',), 4)
  model = int8.quantized(lambda: tiny, 'prefix', 'rgb', False, calibration)
  assert calibrated == [1]
  message = capsys.readouterr().err
  assert f'int8: {folder}: a damaged quantized model (' in message
  assert message.splitlines()[0].endswith('; calibrating again')
  assert (folder / 'model.bin').read_bytes() == data  # Written anew, whole.
  assert model.get_parameters()[0].get_friendly_name() == 'x'
  # The next run reads it from the cache.
  int8.quantized(lambda: tiny, 'prefix', 'rgb', False, calibration)
  assert calibrated == [1]


def test_a_failed_calibration_leaves_a_folder_that_takes_other_settings(tmp_path):
  # Its run.json once refused the corrected rerun as "other settings", with no result.
  provision.provision()
  videos = tmp_path / 'videos'
  videos.mkdir()
  os.symlink(os.path.join(VIDEOS, 'bikes.mp4'), videos / 'bikes.mp4')
  (tmp_path / 'bad.mp4').write_text('not a video\n')
  failed = commands.run(
      ['-m', 'i3d.classify', '--videos', str(videos), '--eval_type', 'rgb',
       '--output_dir', str(tmp_path / 'out'), '--noplots', '--backend', 'openvino',
       '--precision', 'int8', '--calibration', str(tmp_path / 'bad.mp4')], timeout=600,
      env=dict(os.environ, I3D_CACHE_DIR=str(tmp_path / 'cache')))
  assert failed.returncode == 1, failed.stderr
  assert f'{tmp_path / "bad.mp4"}: not a video' in failed.stderr.strip().splitlines()[-1]
  claimed = json.loads((tmp_path / 'out' / 'run.json').read_text())
  assert claimed['precision'] == 'int8'
  again = commands.run(  # On TensorFlow in float32: other settings, an empty folder.
      ['-m', 'i3d.classify', '--videos', str(videos), '--eval_type', 'rgb',
       '--output_dir', str(tmp_path / 'out'), '--noplots', '--window_frames', '9',
       '--window_stride', '1000'], timeout=600)
  assert again.returncode == 0, again.stderr
  assert (tmp_path / 'out' / 'videos' / 'bikes.npz').exists()
  assert json.loads((tmp_path / 'out' / 'run.json').read_text())['precision'] == 'float32'
  # Once it holds a result, other settings are refused as before.
  refused = commands.run(
      ['-m', 'i3d.classify', '--videos', str(videos), '--eval_type', 'rgb',
       '--output_dir', str(tmp_path / 'out'), '--noplots'], timeout=600)
  assert refused.returncode == 1 and 'made with other settings' in refused.stderr
