"""Precise batch norm: the statistics it sets equal those computed directly on the same
batches (the first two layers, written here with TensorFlow's ops), the weights are
untouched; and the training command applies it before evaluating and saving."""

import os

import numpy as np
import pytest
import tensorflow as tf

from i3d.model import InceptionI3d
from i3d.preprocess import sample
from i3d.train import data
from i3d.train import precise_bn

FRAMES = 9


@pytest.fixture(scope='module')
def batches():
  """Three batches of two real 9-frame clips (centre crops), each batch from its own
  video, so that the batches' statistics differ."""
  clips = {name: data.eval_clip(os.path.join(sample.sample_videos(), name))[0]
           for name in ('carphone_pristine.mp4', 'bikes.mp4', 'bigbuckbunny.mp4')}
  return [np.stack([clip[:FRAMES], clip[-FRAMES:]]) for clip in clips.values()]


def variable(model, name):
  return next(v for v in model.variables if v.name == f'inception_i3d/{name}:0')


def moments(x):
  """Mean and biased variance per channel, in float64."""
  x = np.asarray(x, np.float64).reshape(-1, x.shape[-1])
  return x.mean(axis=0), x.var(axis=0)


def first_layers(model, clips):
  """The pre-normalisation outputs of Conv3d_1a_7x7 and Conv3d_2b_1x1 in training mode
  (the first normalised with its batch's statistics), from the layers' definitions."""
  conv1 = tf.nn.conv3d(clips, variable(model, 'Conv3d_1a_7x7/conv_3d/w'), [1, 2, 2, 2, 1],
                       'SAME')
  mean, var = moments(conv1)
  normalised = (conv1.numpy() - mean) / np.sqrt(var + 1e-3)
  normalised += variable(model, 'Conv3d_1a_7x7/batch_norm/beta').numpy()
  pooled = tf.nn.max_pool3d(np.maximum(normalised, 0).astype(np.float32), [1, 1, 3, 3, 1],
                            [1, 1, 2, 2, 1], 'SAME')
  conv2 = tf.nn.conv3d(pooled, variable(model, 'Conv3d_2b_1x1/conv_3d/w'), [1] * 5, 'SAME')
  return conv1, conv2


def test_statistics_are_the_mean_of_the_batches_statistics(batches):
  tf.random.set_seed(0)
  model = InceptionI3d(num_classes=3)
  model(tf.zeros([1, FRAMES, 224, 224, 3]), is_training=False)
  for v in model.variables:  # Non-trivial offsets: the second layer sees them.
    if v.name.endswith('beta:0'):
      v.assign(tf.random.normal(v.shape, stddev=0.5))
  weights = {v.name: v.numpy() for v in model.trainable_variables}
  expected = {layer: [] for layer in ('Conv3d_1a_7x7', 'Conv3d_2b_1x1')}
  for clips in batches:
    for layer, output in zip(expected, first_layers(model, clips)):
      expected[layer].append(moments(output))

  dataset = tf.data.Dataset.from_tensor_slices(
      (np.stack(batches), np.zeros([len(batches), 2], np.int32)))
  updater = precise_bn.PreciseBatchNorm(tf.distribute.get_strategy(), model)
  updater.update(iter(dataset), len(batches))

  for layer, per_batch in expected.items():
    mean = np.mean([m for m, _ in per_batch], axis=0)
    var = np.mean([v for _, v in per_batch], axis=0)
    np.testing.assert_allclose(variable(model, f'{layer}/batch_norm/moving_mean').numpy(),
                               mean, rtol=1e-4, atol=1e-4 * np.abs(mean).max())
    np.testing.assert_allclose(
        variable(model, f'{layer}/batch_norm/moving_variance').numpy(), var, rtol=1e-4)
    # Without the between-batch term: the variance of the batch means (one video a
    # batch) is not added; for most channels it is over 10 times the tolerance above.
    between = np.var([m for m, _ in per_batch], axis=0)
    assert np.median(between / var) > 10 * 1e-4
  assert all(np.array_equal(v.numpy(), weights[v.name]) for v in model.trainable_variables)
  # The moving averages decay as before (0.999) after the update.
  assert {m._decay for m in precise_bn.batch_norms(model)} == {0.999}  # pylint: disable=protected-access
