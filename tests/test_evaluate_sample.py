"""evaluate_sample.py and multi_evaluate.sh, on the real weights and on every layout."""

import os
import re
import subprocess

import cv2
import numpy as np
import pytest
import tensorflow as tf

from i3d import provision
from i3d.catalogue.releases import LABEL_MAPS_DIR
from i3d.preprocess import sample
from tests import commands
from tests import reference
from tests.conftest import RELEASES, ROOT
from tests.test_checkpoint import release_weights, unscoped, write_tf1

ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='3')


def evaluate(*args):
  return commands.run(['evaluate_sample.py', *args], env=ENV)


def parse(output):
  """`(norm, [(probability, logit, name)])` from the release's printout."""
  lines = output.splitlines()
  match = re.fullmatch(r'Norm of logits: (\d+\.\d{6})', lines[0])
  assert match, lines[0]
  assert lines[1:3] == ['', 'Top classes and probabilities']
  rows = []
  for line in lines[3:]:
    probability, logit, name = line.split(' ', 2)
    rows.append((float(probability), float(logit), name))
  return float(match.group(1)), rows


def labels(num_classes):
  name = 'label_map.txt' if num_classes == 400 else 'label_map_600.txt'
  return open(os.path.join(LABEL_MAPS_DIR, name)).read().splitlines()


def check_printout(output, logits, top_k):
  """The printout shows these logits: norm, softmax, order, names."""
  norm, rows = parse(output)
  assert len(rows) == top_k
  np.testing.assert_allclose(norm, np.linalg.norm(logits), rtol=1e-5)
  probabilities = np.exp(logits - logits.max())
  probabilities /= probabilities.sum()
  names = labels(len(logits))
  order = np.argsort(-logits)[:top_k]
  assert [r[2] for r in rows] == [names[i] for i in order]
  np.testing.assert_allclose([r[1] for r in rows], logits[order], rtol=1e-4,
                             atol=1e-4 * np.abs(logits).max())
  np.testing.assert_allclose([r[0] for r in rows], probabilities[order], rtol=1e-3,
                             atol=1e-6)


def test_real_weights_on_the_real_sample(tmp_path):
  """The README's main job: RGB, real TF-Hub weights, the Big Buck Bunny sample."""
  checkpoint_dir = provision.provision()
  prefix = sample.provision()
  result = evaluate('--eval_type', 'rgb', '--save_logits', str(tmp_path / 'l.npy'))
  assert result.returncode == 0, result.stderr
  saved = np.load(tmp_path / 'l.npy')
  assert saved.shape == (400,) and saved.dtype == np.float32
  # An independent formulation of the network on the checkpoint's tensors.
  reader = tf.train.load_checkpoint(os.path.join(checkpoint_dir, 'model.ckpt'))
  weights = unscoped({k: reader.get_tensor(k) for k in reader.get_variable_to_shape_map()})
  expected = reference.logits(np.load(f'{prefix}_rgb.npy'), weights)[0]
  np.testing.assert_allclose(saved, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())
  check_printout(result.stdout, expected, 20)
  # A confident prediction: the real weights, not random ones, are in use.
  assert parse(result.stdout)[1][0][0] > 0.3


@pytest.fixture(scope='module')
def all_releases(tmp_path_factory):
  """All five checkpoints, random values, in their real layouts; small random samples."""
  root = tmp_path_factory.mktemp('releases')
  weights = {}
  for seed, release in enumerate(sorted(RELEASES)):
    weights[release] = release_weights(release, seed)
    write_tf1(weights[release], str(root / 'checkpoints' / release),
              f'/cns/li-d/home/someone/ckpoints/{release}/model.ckpt')
  rng = np.random.default_rng(7)
  samples = {}
  for modality, channels in (('rgb', 3), ('flow', 2)):
    samples[modality] = rng.uniform(-1, 1, (1, 10, 224, 224, channels)).astype(np.float32)
    np.save(root / f'{modality}.npy', samples[modality])
  return root, weights, samples


# The releases each of multi_evaluate.sh's outputs sums the logits of.
SUMMED = {'imagenet_rgb': ['rgb_imagenet'], 'no_imagenet_rgb': ['rgb_scratch'],
          'imagenet_flow': ['flow_imagenet'], 'no_imagenet_flow': ['flow_scratch'],
          'imagenet_joint': ['rgb_imagenet', 'flow_imagenet'],
          'no_imagenet_joint': ['rgb_scratch', 'flow_scratch'],
          'no_imagenet_rgb600': ['rgb_scratch_kin600']}


def run_multi_evaluate(out_dir, checkpoint_dir, root):
  return subprocess.run(
      ['bash', 'multi_evaluate.sh', '--checkpoint_dir', str(checkpoint_dir),
       '--rgb_sample', str(root / 'rgb.npy'), '--flow_sample', str(root / 'flow.npy'),
       '--top_k', '600'],
      cwd=ROOT, env=commands.python_shim_env(dict(ENV, OUT_DIR=str(out_dir))),
      capture_output=True, text=True, check=False)


def test_every_combination_loads_the_right_checkpoints(all_releases, tmp_path):
  root, weights, samples = all_releases
  result = run_multi_evaluate(tmp_path / 'out', root / 'checkpoints', root)
  assert result.returncode == 0, result.stdout + result.stderr
  names = sorted(os.listdir(tmp_path / 'out'))
  assert names == sorted(f'{n}.txt' for n in (
      'imagenet_rgb', 'no_imagenet_rgb', 'imagenet_flow', 'no_imagenet_flow',
      'imagenet_joint', 'no_imagenet_joint', 'no_imagenet_rgb600'))
  # The independent network once per release.
  each = {r: reference.logits(samples['flow' if r.startswith('flow') else 'rgb'],
                              unscoped(w))[0] for r, w in weights.items()}
  for name in names:
    logits = sum(each[r] for r in SUMMED[name[:-4]])
    check_printout(open(tmp_path / 'out' / name).read(), logits, len(logits))


def test_joint_logits_are_the_sum_of_the_streams(all_releases, tmp_path):
  root, _, _ = all_releases
  saved = {}
  for eval_type in ('rgb', 'flow', 'joint'):
    result = evaluate('--eval_type', eval_type, '--checkpoint_dir', str(root / 'checkpoints'),
                      '--rgb_sample', str(root / 'rgb.npy'),
                      '--flow_sample', str(root / 'flow.npy'),
                      '--save_logits', str(tmp_path / f'{eval_type}.npy'), '--top_k', '3')
    assert result.returncode == 0, result.stderr
    assert len(parse(result.stdout)[1]) == 3
    saved[eval_type] = np.load(tmp_path / f'{eval_type}.npy')
  np.testing.assert_allclose(saved['joint'], saved['rgb'] + saved['flow'], rtol=1e-6,
                             atol=1e-6)


def test_absent_checkpoints_are_skipped_and_the_rest_run(all_releases, tmp_path):
  root, _, _ = all_releases
  only_rgb = tmp_path / 'checkpoints'
  only_rgb.mkdir()
  os.symlink(root / 'checkpoints' / 'rgb_imagenet', only_rgb / 'rgb_imagenet')
  result = run_multi_evaluate(tmp_path / 'out', only_rgb, root)
  assert result.returncode == 0, result.stdout + result.stderr
  assert os.listdir(tmp_path / 'out') == ['imagenet_rgb.txt']
  skipped = [line for line in result.stdout.splitlines() if 'skipped' in line]
  assert len(skipped) == 6
  assert f'{only_rgb}/flow_scratch: no such folder' in result.stdout


def test_missing_checkpoint_exits_3_naming_the_path(tmp_path):
  result = evaluate('--eval_type', 'flow', '--checkpoint_dir', str(tmp_path))
  assert result.returncode == 3
  assert result.stderr.strip().splitlines()[-1].startswith(
      f'evaluate_sample.py: {tmp_path}/flow_imagenet: no such folder')
  assert 'model.ckpt' in result.stderr and result.stdout == ''


def bad_sample(kind, path):
  good = np.zeros((1, 10, 224, 224, 3), np.float32)
  value = {
      'rank': good[0],
      'size': np.zeros((1, 10, 112, 112, 3), np.float32),
      'channels': np.zeros((1, 10, 224, 224, 2), np.float32),
      'dtype': good.astype(np.float64),
      'frames': good[:, :8],
      'nan': np.where(np.arange(3) == 1, np.nan, good),
      'range': good + 200,
  }[kind]
  np.save(path, value)


@pytest.mark.parametrize('kind, message', [
    ('rank', r'rank 4 \(shape \(10, 224, 224, 3\)\), expected \[1, T, 224, 224, 3\]'),
    ('size', r'shape \(1, 10, 112, 112, 3\), expected'),
    ('channels', r'shape \(1, 10, 224, 224, 2\), expected \[1, T, 224, 224, 3\]'),
    ('dtype', 'dtype float64, expected float32'),
    ('frames', '8 frames, the network needs at least 9'),
    ('nan', 'holds NaN or infinite values'),
    ('range', r'values in \[200.0, 200.0\], expected \[-1, 1\]'),
    ('missing', 'no such file'),
    ('text', 'not a .npy array'),
])
def test_bad_sample_gets_one_line(kind, message, tmp_path):
  path = str(tmp_path / 'sample.npy')
  if kind == 'text':
    open(path, 'w').write('hello\n')
  elif kind != 'missing':
    bad_sample(kind, path)
  result = evaluate('--eval_type', 'rgb', '--rgb_sample', path)
  assert result.returncode == 1
  last = result.stderr.strip().splitlines()[-1]
  assert re.match(f'evaluate_sample.py: {re.escape(path)}: {message}', last), last
  assert result.stdout == ''


def test_a_video_is_preprocessed_on_the_fly(tmp_path):
  capture = cv2.VideoCapture(sample.sample_video())
  writer = cv2.VideoWriter(str(tmp_path / 'clip.mp4'), cv2.VideoWriter_fourcc(*'mp4v'), 25,
                           (1280, 720))
  for _ in range(16):
    writer.write(capture.read()[1])
  writer.release()
  provision.provision()
  result = evaluate('--eval_type', 'rgb', '--video', str(tmp_path / 'clip.mp4'),
                    '--top_k', '5')
  assert result.returncode == 0, result.stderr
  assert len(parse(result.stdout)[1]) == 5
  result = evaluate('--eval_type', 'rgb', '--video', str(tmp_path / 'absent.mp4'))
  assert result.returncode == 1
  assert result.stderr.strip().endswith(f'{tmp_path}/absent.mp4: no such file')
