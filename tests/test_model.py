"""Shapes, endpoints, variable names and errors of InceptionI3d."""

import os

import numpy as np
import pytest
import tensorflow as tf

from i3d import InceptionI3d
from tests.conftest import LAYOUTS
from tests.reference import read_layout

# Shapes for a 64x224x224 input, from the strides and widths of the paper (figure 3).
ENDPOINT_SHAPES = {
    'Conv3d_1a_7x7': (1, 32, 112, 112, 64),
    'MaxPool3d_2a_3x3': (1, 32, 56, 56, 64),
    'Conv3d_2b_1x1': (1, 32, 56, 56, 64),
    'Conv3d_2c_3x3': (1, 32, 56, 56, 192),
    'MaxPool3d_3a_3x3': (1, 32, 28, 28, 192),
    'Mixed_3b': (1, 32, 28, 28, 256),
    'Mixed_3c': (1, 32, 28, 28, 480),
    'MaxPool3d_4a_3x3': (1, 16, 14, 14, 480),
    'Mixed_4b': (1, 16, 14, 14, 512),
    'Mixed_4c': (1, 16, 14, 14, 512),
    'Mixed_4d': (1, 16, 14, 14, 512),
    'Mixed_4e': (1, 16, 14, 14, 528),
    'Mixed_4f': (1, 16, 14, 14, 832),
    'MaxPool3d_5a_2x2': (1, 8, 7, 7, 832),
    'Mixed_5b': (1, 8, 7, 7, 832),
    'Mixed_5c': (1, 8, 7, 7, 1024),
    'Logits': (1, 400),
    'Predictions': (1, 400),
}


def test_valid_endpoints_in_order():
  assert InceptionI3d.VALID_ENDPOINTS == tuple(ENDPOINT_SHAPES)


def test_every_endpoint_shape_for_64x224x224():
  model = InceptionI3d(final_endpoint='Predictions')
  predictions, end_points = model(tf.random.uniform((1, 64, 224, 224, 3), -1, 1),
                                  is_training=False)
  assert {k: tuple(v.shape) for k, v in end_points.items()} == ENDPOINT_SHAPES
  np.testing.assert_allclose(tf.reduce_sum(predictions, -1), [1.0], rtol=1e-5)
  np.testing.assert_allclose(predictions, tf.nn.softmax(end_points['Logits']), rtol=1e-5)


def test_builds_only_up_to_final_endpoint():
  model = InceptionI3d(final_endpoint='Mixed_3b')
  inputs = tf.zeros((1, 4, 32, 32, 3))
  output, end_points = model(inputs, is_training=False)
  assert list(end_points) == list(ENDPOINT_SHAPES)[:6]
  assert output is end_points['Mixed_3b']
  scopes = {v.name.split('/')[1] for v in model.variables}
  assert scopes == {'Conv3d_1a_7x7', 'Conv3d_2b_1x1', 'Conv3d_2c_3x3', 'Mixed_3b'}


@pytest.mark.parametrize('release, num_classes, channels', [
    ('rgb_imagenet', 400, 3), ('flow_scratch', 400, 2), ('rgb_scratch_kin600', 600, 3)])
def test_variables_are_those_of_the_release(release, num_classes, channels):
  """Names and shapes match the release's .index listing one to one."""
  model = InceptionI3d(num_classes=num_classes)
  model(tf.zeros((1, 9, 193, 193, channels)), is_training=False)
  ours = {v.name[len('inception_i3d/'):-2]: tuple(v.shape) for v in model.variables}
  theirs = {}
  for name, (shape, dtype) in read_layout(os.path.join(LAYOUTS, f'{release}.txt')).items():
    if name.endswith('/Momentum'):
      continue
    name = name.split('inception_i3d/', 1)[-1]
    theirs[name] = shape[4:] if len(shape) == 5 and '/batch_norm/' in name else shape
    assert dtype == 'float32'
  assert ours == theirs
  trainable = {v.name.split('/')[-1] for v in model.trainable_variables}
  assert trainable == {'w:0', 'b:0', 'beta:0'}


def test_eager_and_tf_function_agree(rng):
  model = InceptionI3d()
  inputs = tf.constant(rng.uniform(-1, 1, (2, 9, 193, 193, 3)), tf.float32)
  eager, _ = model(inputs, is_training=False)
  compiled, _ = tf.function(lambda x: model(x, is_training=False))(inputs)
  np.testing.assert_allclose(eager, compiled, rtol=1e-4, atol=1e-5)


def test_no_spatial_squeeze_keeps_axes():
  model = InceptionI3d(spatial_squeeze=False)
  logits, _ = model(tf.zeros((1, 9, 224, 224, 3)), is_training=False)
  assert logits.shape == (1, 1, 1, 400)


def test_min_input_size_is_the_boundary():
  model = InceptionI3d()
  assert model.min_input_size() == (9, 193, 193)
  assert model(tf.zeros((1, 9, 193, 193, 3)), is_training=False)[0].shape == (1, 400)
  for too_small in [(1, 8, 193, 193, 3), (1, 9, 192, 193, 3), (1, 9, 193, 192, 3)]:
    with pytest.raises(ValueError, match='too small'):
      model(tf.zeros(too_small), is_training=False)


def test_unknown_final_endpoint():
  with pytest.raises(ValueError, match="Unknown final endpoint 'Conv3d_1a_8x8'"):
    InceptionI3d(final_endpoint='Conv3d_1a_8x8')


@pytest.mark.parametrize('keep', [0, -0.5, 1.5])
def test_dropout_keep_prob_out_of_range(keep):
  with pytest.raises(ValueError, match=r'dropout_keep_prob must be in \(0, 1\]'):
    InceptionI3d()(tf.zeros((1, 9, 224, 224, 3)), is_training=False, dropout_keep_prob=keep)


def test_wrong_rank_and_channels():
  model = InceptionI3d()
  with pytest.raises(ValueError, match='rank 5'):
    model(tf.zeros((9, 224, 224, 3)), is_training=False)
  model(tf.zeros((1, 9, 193, 193, 2)), is_training=False)
  with pytest.raises(ValueError, match='3 channels but the model was built for 2'):
    model(tf.zeros((1, 9, 193, 193, 3)), is_training=False)


def test_spatial_squeeze_needs_a_single_cell():
  with pytest.raises(ValueError, match='spatial_squeeze needs a 1x1 grid'):
    InceptionI3d()(tf.zeros((1, 9, 256, 256, 3)), is_training=False)


def test_dropout_is_applied_below_one():
  model = InceptionI3d(final_endpoint='Logits')
  x = tf.random.uniform((1, 9, 193, 193, 3), -1, 1, seed=1)
  full, _ = model(x, is_training=False)
  again, _ = model(x, is_training=False, dropout_keep_prob=1.0)
  dropped, _ = model(x, is_training=False, dropout_keep_prob=0.5)
  np.testing.assert_array_equal(full, again)
  assert not np.allclose(full, dropped)


# bfloat16 keeps 8 significant bits: a rounding changes a value by at most 2^-8 of it.
BFLOAT16_UNIT_ROUNDOFF = 2.0 ** -8
# Units on the network's deepest path: 3 stem convolutions, 2 in each of the 9 Inception
# blocks (the 3x3x3 branches), and the logits.
DEEPEST_PATH_UNITS = 3 + 2 * 9 + 1
# How TensorFlow computes bfloat16 on CPUs: natively here; with TF_ENABLE_ONEDNN_OPTS=0,
# through Eigen's generic kernels, which is what it does on CPUs without AVX512F (the
# same code on every x86-64 CPU). ONEDNN_MAX_CPU_ISA=AVX2 cannot show that path: with it
# TensorFlow still sends bfloat16 to oneDNN, which then refuses (test_precision.py).
BFLOAT16_PATHS = {'native': {}, 'without_avx512': {'TF_ENABLE_ONEDNN_OPTS': '0'}}
_BFLOAT16_LOGITS = """
import sys
import numpy as np
from i3d import catalogue
from i3d import releases
from i3d.quiet_tf import tf
clip = np.load(sys.argv[1], mmap_mode='r')[:, :16]
logits = []
for dtype in (tf.float32, tf.bfloat16):
  model = releases.load_release(catalogue.RELEASES['rgb_imagenet'], dtype=dtype)
  assert {v.dtype for v in model.variables} == {dtype}
  output, _ = model(np.asarray(clip), is_training=False)
  assert output.dtype == dtype
  logits.append(tf.cast(output, tf.float32).numpy()[0])
if sys.argv[3] == 'mixed':
  # Mixed precision (for training): float32 variables, bfloat16 computation.
  mixed = releases.load_release(catalogue.RELEASES['rgb_imagenet'],
                                compute_dtype=tf.bfloat16)
  assert {v.dtype for v in mixed.variables} == {tf.float32}
  output, _ = mixed(np.asarray(clip), is_training=False)
  assert output.dtype == tf.bfloat16
  logits.append(tf.cast(output, tf.float32).numpy()[0])
np.save(sys.argv[2], np.stack(logits))
"""


@pytest.mark.parametrize('path', BFLOAT16_PATHS)
def test_bfloat16_model_on_the_real_sample_stays_within_its_rounding(path, tmp_path):
  """bfloat16 inference, real weights, the real sample's first 16 frames (Eigen's
  bfloat16 takes 13 s on them), on either of TensorFlow's CPU paths.

  A bound from bfloat16's arithmetic, not one CPU's rounding: the logits move by at most
  the first-order error of one bfloat16 rounding per unit of the deepest path,
  accumulated (DEEPEST_PATH_UNITS * 2^-8 of the largest logit, 1.34 here; measured 0.96
  on Eigen's path, 0.35 natively on an AMD EPYC). It is an estimate, not a guarantee: on
  the first 9 frames Eigen's path moved them by 2.26 against its 1.72, so the test keeps
  16. The top-1 class stays (its margin is 4.5); and a class enters or leaves the top-5
  only if its float32 logit is within twice that bound of the fifth one.
  """
  from i3d import provision  # pylint: disable=g-import-not-at-top
  from i3d.preprocess import sample  # pylint: disable=g-import-not-at-top
  from i3d.system import machine  # pylint: disable=g-import-not-at-top
  from tests import commands  # pylint: disable=g-import-not-at-top
  if path == 'native' and machine.bfloat16_cannot_run():
    pytest.skip('ONEDNN_MAX_CPU_ISA keeps oneDNN below AVX-512 on this AVX-512 CPU: '
                'bfloat16 cannot run natively (the without_avx512 case covers it)')
  provision.provision()
  out = tmp_path / 'logits.npy'
  # Mixed precision on the native path only: Eigen's bfloat16 kernels are slow, and
  # which numbers mixed precision reads does not depend on the kernels.
  mixed = 'mixed' if path == 'native' else 'no_mixed'
  # Forked from an interpreter that imported TensorFlow with the path's settings, which
  # TensorFlow reads at import (tests/commands.py).
  done = commands.run(['-c', _BFLOAT16_LOGITS, f'{sample.provision()}_rgb.npy', out, mixed],
                      env=dict(os.environ, **BFLOAT16_PATHS[path]))
  assert done.returncode == 0, done.stderr
  full, half, *mixed = np.load(out)
  # Mixed precision rounds each variable as it is read, as the bfloat16 model did
  # once when it loaded them: the same numbers.
  for logits in mixed:
    np.testing.assert_array_equal(logits, half)
  bound = DEEPEST_PATH_UNITS * BFLOAT16_UNIT_ROUNDOFF * np.abs(full).max()
  assert np.abs(full - half).max() <= bound
  assert not np.array_equal(full, half)  # It did run in bfloat16.
  assert np.argmax(half) == np.argmax(full)
  fifth = np.sort(full)[-5]
  for index in set(np.argsort(-half)[:5]) ^ set(np.argsort(-full)[:5]):
    assert abs(full[index] - fifth) <= 2 * bound, index


def test_2d_ops_model_has_the_same_variables_and_outputs(rng):
  """`ops='2d'` (for TFLite): the same variable names and shapes, max-pools giving the
  very same values, everything else the same to float rounding."""
  x = rng.uniform(-1, 1, (1, 10, 224, 224, 3)).astype(np.float32)
  model, flat = InceptionI3d(), InceptionI3d(ops='2d')
  _, ends = model(x, is_training=False)
  flat(x, is_training=False)
  assert ([(v.name, v.shape) for v in flat.variables] ==
          [(v.name, v.shape) for v in model.variables])
  for source, target in zip(model.variables, flat.variables):
    target.assign(source)
  _, flat_ends = flat(x, is_training=False)
  for name, value in ends.items():
    np.testing.assert_allclose(flat_ends[name], value, rtol=1e-4,
                               atol=1e-4 * np.abs(value).max(), err_msg=name)
  max_pool_2d_ops = flat._max_pool  # pylint: disable=protected-access
  pooled = max_pool_2d_ops(ends['Mixed_4f'], (2, 2, 2), (2, 2, 2))
  np.testing.assert_array_equal(pooled, ends['MaxPool3d_5a_2x2'])
  with pytest.raises(ValueError, match='fixed shape'):
    tf.function(flat).get_concrete_function(
        tf.TensorSpec([None, 10, 224, 224, 3]), is_training=False)
