"""Loading every layout of the release's checkpoints, strictly, and writing them back."""

import os

import numpy as np
import pytest
import tensorflow as tf

import i3d
from tests import reference
from tests.conftest import LAYOUTS, RELEASES

# A 9x193x193 clip is the smallest that reaches the logits: cheap, and it exercises
# every layer.
CLIP = (1, 9, 193, 193)


def write_tf1(weights, directory, recorded_path=None):
  """Writes `weights` with TF1's own Saver, as the release's code did, and a
  `checkpoint` file that records `recorded_path` (an absolute path elsewhere)."""
  os.makedirs(directory, exist_ok=True)
  variables = {name: tf.Variable(value) for name, value in weights.items()}
  prefix = os.path.join(directory, 'model.ckpt')
  tf.compat.v1.train.Saver(var_list=variables).save(
      sess=None, save_path=prefix, write_meta_graph=False, write_state=False)
  with open(os.path.join(directory, 'checkpoint'), 'w') as f:
    path = recorded_path or prefix
    f.write(f'model_checkpoint_path: "{path}"\nall_model_checkpoint_paths: "{path}"\n')
  return prefix


def release_weights(release, seed=0):
  return reference.random_weights(
      reference.read_layout(os.path.join(LAYOUTS, f'{release}.txt')), seed)


def with_random_flow(checkpoints, seed):
  """A checkpoint folder holding the provisioned rgb_imagenet (linked) and a
  flow_imagenet of random values in the release's layout; returns the flow weights."""
  from i3d.catalogue import paths  # pylint: disable=g-import-not-at-top
  checkpoints.mkdir()
  os.symlink(os.path.join(paths.checkpoint_dir(), 'rgb_imagenet'),
             checkpoints / 'rgb_imagenet')
  weights = release_weights('flow_imagenet', seed=seed)
  write_tf1(weights, str(checkpoints / 'flow_imagenet'))
  return weights


def unscoped(weights):
  """The weights under the names below the model, without scope or optimizer slots."""
  return {name.split('inception_i3d/', 1)[-1]: value for name, value in weights.items()
          if not name.endswith('/Momentum')}


@pytest.mark.parametrize('release', sorted(RELEASES))
def test_release_layout_loads_and_matches_independent_network(release, tmp_path, rng):
  layout, channels, num_classes = RELEASES[release]
  weights = release_weights(release)
  directory = str(tmp_path / release)
  # As the release ships them: the checkpoint file names the authors' machine.
  write_tf1(weights, directory, f'/cns/li-d/home/someone/ckpoints/{release}/model.ckpt')

  model = i3d.InceptionI3d(num_classes=num_classes)
  prefix = i3d.load_checkpoint(model, directory)
  assert prefix == os.path.join(directory, 'model.ckpt')
  assert model.input_channels == channels

  clean = unscoped(weights)
  for name, variable in i3d.checkpoint.model_variables(model).items():
    np.testing.assert_array_equal(variable.numpy().ravel(), clean[name].ravel())
  inputs = rng.uniform(-1, 1, CLIP + (channels,)).astype(np.float32)
  ours, _ = model(inputs, is_training=False)
  theirs = reference.logits(inputs, clean)
  scale = np.abs(theirs).max()
  assert scale > 0.1
  np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4 * scale)


def test_loads_from_a_prefix(tmp_path):
  prefix = write_tf1(release_weights('flow_imagenet'), str(tmp_path / 'flow'))
  model = i3d.InceptionI3d()
  assert i3d.load_checkpoint(model, prefix) == prefix
  assert model.input_channels == 2


def test_missing_checkpoint_names_the_path(tmp_path):
  with pytest.raises(FileNotFoundError, match=f'{tmp_path}/nothing: no such checkpoint'):
    i3d.load_checkpoint(i3d.InceptionI3d(), str(tmp_path / 'nothing'))
  with pytest.raises(FileNotFoundError, match='no checkpoint here'):
    i3d.load_checkpoint(i3d.InceptionI3d(), str(tmp_path))


@pytest.mark.parametrize('change, message', [
    ('drop', 'missing from the checkpoint: RGB/inception_i3d/Mixed_4c/Branch_1/'
             r'Conv3d_0b_3x3/batch_norm/moving_mean \[224\]'),
    ('extra', r'not in the model: RGB/inception_i3d/Mixed_6a/conv_3d/w \[3\]'),
    ('reshape', r'shape mismatch: RGB/inception_i3d/Mixed_4c/Branch_1/Conv3d_0b_3x3/'
                r'batch_norm/moving_mean \[2, 112\] \(model: \[224\]\)'),
])
def test_mismatch_is_refused_and_nothing_loaded(change, message, tmp_path):
  weights = release_weights('rgb_imagenet')
  name = 'RGB/inception_i3d/Mixed_4c/Branch_1/Conv3d_0b_3x3/batch_norm/moving_mean'
  if change == 'drop':
    del weights[name]
  elif change == 'extra':
    weights['RGB/inception_i3d/Mixed_6a/conv_3d/w'] = np.zeros(3, np.float32)
  else:
    weights[name] = weights[name].reshape(2, 112)
  directory = write_tf1(weights, str(tmp_path / 'ckpt'))
  model = i3d.InceptionI3d()
  i3d.checkpoint.build(model, channels=3)
  before = [v.numpy() for v in model.variables]
  with pytest.raises(i3d.CheckpointMismatchError, match=message):
    i3d.load_checkpoint(model, directory)
  for old, variable in zip(before, model.variables):
    np.testing.assert_array_equal(old, variable.numpy())


def test_wrong_number_of_classes_is_a_mismatch(tmp_path):
  directory = write_tf1(release_weights('rgb_scratch_kin600'), str(tmp_path / 'k600'))
  with pytest.raises(i3d.CheckpointMismatchError,
                     match=r'Logits/Conv3d_0c_1x1/conv_3d/b \[600\] \(model: \[400\]\)'):
    i3d.load_checkpoint(i3d.InceptionI3d(num_classes=400), directory)


def test_two_streams_in_one_checkpoint_need_a_scope(tmp_path):
  weights = {**release_weights('rgb_imagenet'), **release_weights('flow_imagenet', seed=1)}
  prefix = write_tf1(weights, str(tmp_path / 'joint'))
  with pytest.raises(i3d.CheckpointMismatchError, match='several I3Ds'):
    i3d.load_checkpoint(i3d.InceptionI3d(), prefix)
  model = i3d.InceptionI3d()
  i3d.load_checkpoint(model, prefix, scope='Flow/inception_i3d/')
  assert model.input_channels == 2


@pytest.mark.parametrize('layout, release', [
    ('rgb', 'rgb_imagenet'), ('flow', 'flow_scratch'), ('kinetics600', 'rgb_scratch_kin600')])
def test_written_release_checkpoint_reads_in_tf1(layout, release, tmp_path):
  """What we write has the release's names and shapes and restores with TF1's Saver."""
  source = str(tmp_path / 'source')
  write_tf1(release_weights(release), source)
  _, _, num_classes = RELEASES[release]
  model = i3d.InceptionI3d(num_classes=num_classes)
  i3d.load_checkpoint(model, source)
  written = i3d.save_release_checkpoint(model, str(tmp_path / 'written'), layout)

  expected = reference.read_layout(os.path.join(LAYOUTS, f'{release}.txt'))
  expected = {k: v[0] for k, v in expected.items() if not k.endswith('/Momentum')}
  assert dict(tf.train.list_variables(written)) == {k: list(v) for k, v in expected.items()}
  targets = {name: tf.Variable(tf.zeros(shape)) for name, shape in expected.items()}
  tf.compat.v1.train.Saver(var_list=targets).restore(sess=None, save_path=written)
  for name, value in release_weights(release).items():
    if name in targets:
      np.testing.assert_array_equal(targets[name].numpy(), value)


def test_tf2_checkpoint_round_trip(tmp_path, rng):
  model = i3d.InceptionI3d(num_classes=7)
  i3d.checkpoint.build(model, channels=2)
  for variable in model.variables:
    variable.assign(rng.standard_normal(variable.shape).astype(np.float32) * 0.01)
  path = i3d.save_checkpoint(model, str(tmp_path / 'tf2' / 'ckpt'))
  restored = i3d.InceptionI3d(num_classes=7)
  i3d.load_checkpoint(restored, path)
  for a, b in zip(model.variables, restored.variables):
    np.testing.assert_array_equal(a.numpy(), b.numpy())
  with pytest.raises(i3d.CheckpointMismatchError):
    i3d.load_checkpoint(i3d.InceptionI3d(num_classes=7, final_endpoint='Mixed_5c'), path)
