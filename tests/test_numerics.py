"""Unit3D, InceptionBlock and BatchNorm against formulas worked out independently, with
TensorFlow's 3D ops and with the 2D ones that TFLite export uses (`ops='2d'`)."""

import numpy as np
import pytest
import tensorflow as tf

import i3d
from tests import reference


def assign_random(module, rng):
  for variable in module.variables:
    if variable.name.endswith('moving_variance:0'):
      variable.assign(rng.uniform(0.5, 2.0, variable.shape).astype(np.float32))
    else:
      variable.assign(0.3 * rng.standard_normal(variable.shape).astype(np.float32))


@pytest.mark.parametrize('kernel, stride, size', [
    ((3, 3, 3), (1, 1, 1), (5, 6, 7)),
    ((7, 7, 7), (2, 2, 2), (9, 11, 10)),   # Odd and even sizes: TF pads asymmetrically.
    ((1, 3, 3), (1, 2, 2), (3, 8, 8)),
])
@pytest.mark.parametrize('ops', ['3d', '2d'])
def test_unit3d_equals_numpy_convolution_and_batch_norm(kernel, stride, size, ops, rng):
  unit = i3d.Unit3D(4, kernel, stride, ops=ops, name='Conv3d_test')
  x = rng.uniform(-1, 1, (2,) + size + (3,)).astype(np.float32)
  unit(x, is_training=False)
  assign_random(unit, rng)
  bn = unit.batch_norm
  expected = reference.conv3d_same_numpy(x.astype(np.float64), unit.conv.w.numpy(), stride)
  expected = (expected - bn.moving_mean.numpy()) / np.sqrt(bn.moving_variance.numpy() + 1e-3)
  expected = np.maximum(expected + bn.beta.numpy(), 0)
  np.testing.assert_allclose(unit(x, is_training=False), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize('ops', ['3d', '2d'])
def test_linear_unit_with_bias(ops, rng):
  unit = i3d.Unit3D(5, use_batch_norm=False, use_bias=True, activation_fn=None, ops=ops)
  x = rng.standard_normal((1, 2, 3, 3, 4)).astype(np.float32)
  unit(x, is_training=False)
  assign_random(unit, rng)
  expected = np.einsum('bthwc,co->bthwo', x, unit.conv.w.numpy()[0, 0, 0]) + unit.conv.b
  np.testing.assert_allclose(unit(x, is_training=False), expected, rtol=1e-5, atol=1e-6)
  assert unit.batch_norm is None


@pytest.mark.parametrize('ops', ['3d', '2d'])
def test_inception_block_equals_reference(ops, rng):
  block = i3d.InceptionBlock((3, 4, 5, 2, 3, 4), ops=ops, name='Mixed_3b')
  x = rng.standard_normal((1, 4, 6, 6, 8)).astype(np.float32)
  block(x, is_training=False)
  assign_random(block, rng)
  weights = {v.name[:-2]: v.numpy() for v in block.variables}
  np.testing.assert_allclose(block(x, is_training=False),
                             reference.mixed(tf.constant(x), weights, 'Mixed_3b'),
                             rtol=1e-5, atol=1e-5)


def test_batch_norm_inference_uses_the_stored_statistics_exactly(rng):
  bn = i3d.BatchNorm()
  x = rng.standard_normal((2, 3, 4, 4, 6)).astype(np.float32)
  bn(x, is_training=False)
  assign_random(bn, rng)
  mean, var, beta = bn.moving_mean.numpy(), bn.moving_variance.numpy(), bn.beta.numpy()
  expected = (x.astype(np.float64) - mean) / np.sqrt(var + 1e-3) + beta
  np.testing.assert_allclose(bn(x, is_training=False), expected, rtol=1e-5, atol=1e-5)
  np.testing.assert_array_equal(bn.moving_mean.numpy(), mean)  # Inference updates nothing.
  assert {v.name for v in bn.variables} == {
      'batch_norm/beta:0', 'batch_norm/moving_mean:0', 'batch_norm/moving_variance:0'}


def test_batch_norm_training_continues_the_moving_statistics(rng):
  """Plain (Sonnet 1) moving averages from the loaded values, not debiased restarts."""
  bn = i3d.BatchNorm()
  x = rng.standard_normal((2, 3, 4, 4, 6)).astype(np.float32) * 3 + 1
  bn(x, is_training=False)
  assign_random(bn, rng)
  old_mean, old_var = bn.moving_mean.numpy(), bn.moving_variance.numpy()
  out = bn(x, is_training=True)
  batch_mean = x.reshape(-1, 6).mean(0)
  batch_var = x.reshape(-1, 6).var(0)
  np.testing.assert_allclose(bn.moving_mean.numpy(), 0.999 * old_mean + 0.001 * batch_mean,
                             rtol=1e-6, atol=1e-6)
  np.testing.assert_allclose(bn.moving_variance.numpy(),
                             0.999 * old_var + 0.001 * batch_var, rtol=1e-6, atol=1e-6)
  expected = (x - batch_mean) / np.sqrt(batch_var + 1e-3) + bn.beta.numpy()
  np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)


def test_training_a_loaded_model_moves_its_statistics_from_the_loaded_ones(tmp_path, rng):
  model = i3d.InceptionI3d()
  i3d.checkpoint.build(model, channels=3)
  assign_random(model, rng)
  i3d.save_release_checkpoint(model, str(tmp_path / 'ckpt'))
  loaded = i3d.InceptionI3d()
  i3d.load_checkpoint(loaded, str(tmp_path / 'ckpt'))
  unit = loaded._layers['Conv3d_1a_7x7']  # pylint: disable=protected-access
  stored = unit.batch_norm.moving_mean.numpy()
  np.testing.assert_array_equal(stored, model._layers['Conv3d_1a_7x7'].batch_norm.moving_mean)  # pylint: disable=protected-access
  x = rng.uniform(-1, 1, (1, 9, 193, 193, 3)).astype(np.float32)
  batch = unit.conv(x).numpy().reshape(-1, 64).mean(0)
  loaded(x, is_training=True)
  np.testing.assert_allclose(unit.batch_norm.moving_mean.numpy(),
                             0.999 * stored + 0.001 * batch, rtol=1e-5, atol=1e-6)


def test_batch_norm_rejects_bad_arguments():
  with pytest.raises(ValueError, match='eps must be positive, got 0'):
    i3d.BatchNorm(eps=0)
  with pytest.raises(ValueError, match=r'decay must be in \[0, 1\], got 1.5'):
    i3d.BatchNorm(decay=1.5)
