"""An independent formulation of I3D for checking the Sonnet modules.

Written from the paper's description with raw TensorFlow ops and NumPy, on a plain
`{name: array}` dict of release-layout weights (no scope), sharing no code with `i3d/`:
layer widths are read off the weights' shapes, batch norm is spelled out by hand.
"""

import numpy as np
import tensorflow as tf

EPS = 1e-3

# The tolerance between float32 outputs of the network computed by different
# computations of the same values: other batches, shards, threads, a resumed run, another
# CPU's kernels (oneDNN picks them by ISA). Rounding differs from the first layer on and
# the 60-odd layers carry it: 9.8e-6 relative was seen on an AVX2-only AMD EPYC between
# a set's embeddings in batches of 4 + 2 and of 3 + 3. Ten times that, relative to the
# largest value (small outputs carry the large ones' absolute error).
ACROSS_BATCHES_RTOL = 1e-4


def assert_close_across_batches(actual, expected, err_msg=''):
  """`actual` equals `expected` to float32 rounding through the network."""
  expected = np.asarray(expected)
  np.testing.assert_allclose(actual, expected, rtol=ACROSS_BATCHES_RTOL,
                             atol=ACROSS_BATCHES_RTOL * np.abs(expected).max(),
                             err_msg=err_msg)


def read_layout(path):
  """`{name: (shape, dtype)}` from a fixture listing of a release checkpoint."""
  layout = {}
  with open(path) as f:
    for line in f:
      if line.startswith('#') or not line.strip():
        continue
      name, shape, dtype = line.split()
      layout[name] = (tuple(int(n) for n in shape.split(',')), dtype)
  return layout


def random_weights(layout, seed):
  """Random values for every entry of a layout: variances positive, kernels scaled so
  that activations stay of order one through the network."""
  rng = np.random.default_rng(seed)
  weights = {}
  for name, (shape, dtype) in layout.items():
    if name.endswith('moving_variance'):
      value = rng.uniform(0.5, 2.0, shape)
    elif name.endswith('/w'):
      value = rng.standard_normal(shape) / np.sqrt(np.prod(shape[:-1]))
    else:
      value = 0.1 * rng.standard_normal(shape)
    weights[name] = value.astype(dtype)
  return weights


def unit(x, weights, name, stride=(1, 1, 1), relu=True):
  w = weights[f'{name}/conv_3d/w']
  x = tf.nn.conv3d(x, w, strides=(1,) + stride + (1,), padding='SAME')
  if f'{name}/conv_3d/b' in weights:
    x = x + weights[f'{name}/conv_3d/b']
  if f'{name}/batch_norm/beta' in weights:
    channels = w.shape[-1]
    mean = weights[f'{name}/batch_norm/moving_mean'].reshape(channels)
    var = weights[f'{name}/batch_norm/moving_variance'].reshape(channels)
    beta = weights[f'{name}/batch_norm/beta'].reshape(channels)
    x = (x - mean) / np.sqrt(var + EPS) + beta
  return tf.nn.relu(x) if relu else x


def max_pool(x, kernel, stride):
  return tf.nn.max_pool3d(x, (1,) + kernel + (1,), (1,) + stride + (1,), 'SAME')


def mixed(x, weights, name):
  b0 = unit(x, weights, f'{name}/Branch_0/Conv3d_0a_1x1')
  b1 = unit(unit(x, weights, f'{name}/Branch_1/Conv3d_0a_1x1'), weights,
            f'{name}/Branch_1/Conv3d_0b_3x3')
  third = 'Conv3d_0a_3x3' if name == 'Mixed_5b' else 'Conv3d_0b_3x3'
  b2 = unit(unit(x, weights, f'{name}/Branch_2/Conv3d_0a_1x1'), weights,
            f'{name}/Branch_2/{third}')
  b3 = unit(max_pool(x, (3, 3, 3), (1, 1, 1)), weights, f'{name}/Branch_3/Conv3d_0b_1x1')
  return tf.concat([b0, b1, b2, b3], axis=-1)


def mixed_5c(x, weights):
  """The output of Mixed_5c, `[B, T/8, H/32, W/32, 1024]`, for inputs `x`."""
  x = tf.convert_to_tensor(x)
  x = unit(x, weights, 'Conv3d_1a_7x7', stride=(2, 2, 2))
  x = max_pool(x, (1, 3, 3), (1, 2, 2))
  x = unit(x, weights, 'Conv3d_2b_1x1')
  x = unit(x, weights, 'Conv3d_2c_3x3')
  x = max_pool(x, (1, 3, 3), (1, 2, 2))
  x = mixed(mixed(x, weights, 'Mixed_3b'), weights, 'Mixed_3c')
  x = max_pool(x, (3, 3, 3), (2, 2, 2))
  for name in ('Mixed_4b', 'Mixed_4c', 'Mixed_4d', 'Mixed_4e', 'Mixed_4f'):
    x = mixed(x, weights, name)
  x = max_pool(x, (2, 2, 2), (2, 2, 2))
  return mixed(mixed(x, weights, 'Mixed_5b'), weights, 'Mixed_5c')


def logits(x, weights):
  """Logits `[B, num_classes]` of the I3D held in `weights` for inputs `x`."""
  x = tf.nn.avg_pool3d(mixed_5c(x, weights), (1, 2, 7, 7, 1), (1,) * 5, 'VALID')
  x = unit(x, weights, 'Logits/Conv3d_0c_1x1', relu=False)
  return tf.reduce_mean(x[:, :, 0, 0, :], axis=1).numpy()


def conv3d_same_numpy(x, w, stride):
  """3D convolution with TF's 'SAME' padding, as explicit sums in NumPy.

  TF pads `total = max((ceil(n / s) - 1) * s + k - n, 0)` with `total // 2` before.
  """
  _, *size, _ = x.shape
  kernel = w.shape[:3]
  out_size = [-(-n // s) for n, s in zip(size, stride)]
  pads = [max((o - 1) * s + k - n, 0) for o, s, k, n in zip(out_size, stride, kernel, size)]
  x = np.pad(x, [(0, 0)] + [(p // 2, p - p // 2) for p in pads] + [(0, 0)])
  out = np.zeros((x.shape[0], *out_size, w.shape[-1]), np.float64)
  for t in range(out_size[0]):
    for i in range(out_size[1]):
      for j in range(out_size[2]):
        patch = x[:, t * stride[0]:t * stride[0] + kernel[0],
                  i * stride[1]:i * stride[1] + kernel[1],
                  j * stride[2]:j * stride[2] + kernel[2], :]
        out[:, t, i, j, :] = np.einsum('bthwc,thwco->bo', patch, w)
  return out
