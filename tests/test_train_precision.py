"""`--precision bfloat16` in training runs only where its gradients are right: the
refusal of `train.network.check_precision` against the exact filter gradients of
Mixed_5b's convolutions."""

import numpy as np
import pytest
import tensorflow as tf

from i3d import precision
from i3d.system import machine
from i3d.train import network
from i3d.train.recipe import Recipe


def filter_gradient_error(shape, channels):
  """How far TensorFlow's bfloat16 Conv3D filter gradient (3x3x3, SAME) is from the
  exact one, computed in float64 from the same bfloat16-rounded input and upstream
  gradient, relative to the gradient's largest entry."""
  rng = np.random.default_rng(0)
  x = tf.cast(tf.constant(rng.normal(size=shape), tf.float32), tf.bfloat16)
  w = tf.Variable(tf.cast(rng.normal(size=(3, 3, 3, shape[-1], channels)), tf.bfloat16))
  upstream = tf.cast(tf.constant(rng.normal(size=shape[:-1] + (channels,)), tf.float32),
                     tf.bfloat16)
  with tf.GradientTape() as tape:
    y = tf.nn.conv3d(x, w, [1] * 5, 'SAME')
  ours = tape.gradient(y, w, output_gradients=upstream).numpy().astype(np.float64)
  padded = np.pad(x.numpy().astype(np.float64)[0], [(1, 1)] * 3 + [(0, 0)])
  windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3, 3), axis=(0, 1, 2))
  exact = np.einsum('thwiabc,thwo->abcio', windows,
                    upstream.numpy().astype(np.float64)[0])
  return np.abs(ours - exact).max() / np.abs(exact).max()


def test_bfloat16_is_refused_exactly_where_its_mixed_5_gradients_are_wrong():
  recipe = Recipe(classes=('a', 'b'), num_frames=16, precision='bfloat16')
  if machine.bfloat16_cannot_run():
    with pytest.raises(precision.PrecisionError, match='cannot run'):
      network.check_precision(recipe)
    return
  # Mixed_5b's 3x3x3 convolutions at 16 frames of 224 px: time 2, 7x7.
  error = max(filter_gradient_error((1, 2, 7, 7, c_in), c_out)
              for c_in, c_out in ((160, 320), (32, 128), (192, 384)))
  # Measured: 0.002 (oneDNN, time 3), 0.04 (Eigen); the bug: about 1, or NaN.
  wrong = not error <= 0.25
  try:
    network.check_precision(recipe)
    refused = False
  except ValueError as e:
    assert '--num_frames 17 or more' in str(e)
    refused = True
  assert refused == wrong, f'largest gradient error {error:.3g} of the largest gradient'


def test_bfloat16_is_refused_where_onednn_is_held_below_it(monkeypatch):
  """As with ONEDNN_MAX_CPU_ISA=AVX2 on an AVX-512 CPU: the first convolution would
  abort inside oneDNN, so the run stops first with one line saying why."""
  monkeypatch.setattr(machine, 'bfloat16_cannot_run', lambda: True)
  monkeypatch.setattr(precision, '_gpu_with_bfloat16', lambda: None)
  with pytest.raises(precision.PrecisionError,
                     match='bfloat16 cannot run .* use --precision float32, or unset'):
    network.check_precision(Recipe(classes=('a', 'b'), num_frames=32, precision='bfloat16'))
  network.check_precision(Recipe(classes=('a', 'b'), num_frames=32, precision='float32'))


def test_bfloat16_without_its_units_is_run_with_a_warning(monkeypatch):
  monkeypatch.setattr(machine, 'bfloat16_units', lambda: [])
  monkeypatch.setattr(machine, 'bfloat16_cannot_run', lambda: False)
  monkeypatch.setattr(precision, '_gpu_with_bfloat16', lambda: None)
  warning = network.check_precision(
      Recipe(classes=('a', 'b'), num_frames=32, precision='bfloat16'))
  assert warning.startswith('warning: no bfloat16 units')
  assert 'slower than float32' in warning
  assert network.check_precision(
      Recipe(classes=('a', 'b'), num_frames=32, precision='float32')) is None
