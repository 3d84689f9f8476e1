"""The network's FLOP count, read off the shapes of its traced convolutions.

A 3D convolution producing `[B, T, H, W, C_out]` with a `[kT, kH, kW, C_in, C_out]`
kernel does `B*T*H*W*C_out * kT*kH*kW*C_in` multiply-adds, two FLOPs each. Pooling,
batch norm and ReLU add under 1% and are not counted, as is usual for this figure
(the 108 GFLOPs often quoted for I3D on 64 frames counts multiply-adds).
"""

import time

import numpy as np
import tensorflow as tf


def conv_flops(model, input_shape) -> int:
  """FLOPs (2 x multiply-adds) of the model's 3D convolutions for one input shape."""
  traced = tf.function(lambda x: model(x, is_training=False)[0], autograph=False)
  graph = traced.get_concrete_function(
      tf.TensorSpec(input_shape, getattr(model, 'dtype', tf.float32))).graph
  total = 0
  for op in graph.get_operations():
    if op.type == 'Conv3D':
      output = op.outputs[0].shape.as_list()
      kernel = op.inputs[1].shape.as_list()
      total += 2 * int(np.prod(output)) * int(np.prod(kernel[:-1]))
  return total


def matmul_roofline(repeats: int = 3, n: int = 4096) -> float:
  """GFLOP/s of a float32 `tf.matmul` of two n x n matrices, compiled: the best of
  `repeats` timed calls after an untimed one."""
  a = tf.random.normal((n, n))
  b = tf.random.normal((n, n))
  matmul = tf.function(lambda x, y: tf.matmul(x, y), autograph=False)
  matmul(a, b).numpy()
  times = []
  for _ in range(repeats):
    start = time.perf_counter()
    matmul(a, b).numpy()
    times.append(time.perf_counter() - start)
  return 2 * n ** 3 / min(times) / 1e9
