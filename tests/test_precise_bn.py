"""Precise batch norm: the statistics it sets equal those computed directly on the same
batches (the first two layers, written here with TensorFlow's ops), the weights are
untouched; on two replicas each gets the mean over replicas and batches. (The training
command's use of it: `tests/test_train.py`.)"""

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


# Precise batch norm on two replicas (logical CPUs) of a random network: each replica's
# copy of every moving statistic, and the first layer's statistics over the replicas'
# batches computed directly, saved to argv[1]. The network's first layers on 64x64
# frames: how the replicas' statistics are gathered does not depend on the depth or the
# frame size (the whole network at 224x224 is the training command's test).
TWO_REPLICAS = r'''
import sys
import numpy as np
import tensorflow as tf
cpu = tf.config.list_physical_devices('CPU')[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from i3d.model import InceptionI3d
from i3d.train import precise_bn
from i3d.train import steps
strategy = tf.distribute.MirroredStrategy(['/cpu:0', '/cpu:1'])
tf.random.set_seed(0)
with strategy.scope():
  with tf.variable_creator_scope(steps._moving_averages_mean_aggregated):
    model = InceptionI3d(final_endpoint='Conv3d_2b_1x1')
    model(tf.zeros([1, 9, 64, 64, 3]), is_training=False)
rng = np.random.default_rng(0)
# Two global batches of 4 clips; clips 0, 1 of a batch on replica 0, 2, 3 on replica 1,
# whose clips are fainter, so that the replicas' statistics differ.
faint = np.array([1, 1, .2, .2]).reshape(4, 1, 1, 1, 1)
clips = np.stack([rng.uniform(-1, 1, (4, 9, 64, 64, 3)) * faint
                  for _ in range(2)]).astype(np.float32)
dataset = tf.data.Dataset.from_tensor_slices((clips, np.zeros((2, 4), np.int32)))
precise_bn.PreciseBatchNorm(strategy, model).update(
    iter(strategy.experimental_distribute_dataset(dataset)), 2)
w = next(v for v in model.variables if v.name.endswith('Conv3d_1a_7x7/conv_3d/w:0'))
expected = []
for batch in clips:
  for replica in (batch[:2], batch[2:]):
    out = tf.nn.conv3d(replica, w, [1, 2, 2, 2, 1], 'SAME').numpy().reshape(-1, 64)
    expected.append(out.astype(np.float64).mean(0))
mean = next(m for m in model.variables
            if m.name.endswith('Conv3d_1a_7x7/batch_norm/moving_mean:0'))
copies = [c.numpy() for c in strategy.experimental_local_results(mean)]
np.savez(sys.argv[1], copies=np.stack(copies), expected=np.mean(expected, 0),
         per_replica=np.stack(expected))
'''


def test_every_replica_gets_the_mean_over_replicas_and_batches(tmp_path):
  from tests import commands  # pylint: disable=g-import-not-at-top
  out = tmp_path / 'replicas.npz'
  done = commands.run(['-c', TWO_REPLICAS, str(out)], timeout=600)
  assert done.returncode == 0, done.stderr
  arrays = np.load(out)
  copies, expected = arrays['copies'], arrays['expected']
  assert copies.shape[0] == 2
  np.testing.assert_array_equal(copies[0], copies[1])
  np.testing.assert_allclose(copies[0], expected, rtol=1e-4,
                             atol=1e-4 * np.abs(expected).max())
  # The replicas' batches differ: one replica's statistics alone would not pass.
  per_replica = arrays['per_replica']
  assert np.abs(per_replica[0] - per_replica[1]).max() > 100 * 1e-4 * np.abs(expected).max()
