"""The Inception-v1 I3D of Carreira & Zisserman, "Quo Vadis, Action Recognition?" (CVPR 2017).

Module and variable names are those of the original release, so that a variable's path
below the model (`Mixed_4b/Branch_1/Conv3d_0b_3x3/conv_3d/w`) is its name in the release's
checkpoints.
"""

from typing import Callable, Dict, Optional, Sequence, Tuple

from i3d.quiet_tf import tf  # First: TensorFlow without its start-up lines.
import sonnet as snt  # pylint: disable=g-bad-import-order

from i3d.batch_norm import BatchNorm

Triple = Tuple[int, int, int]

# Branch widths of each Inception block, as in Inception-v1 (GoogLeNet, Szegedy et al.
# 2015, table 1): (1x1, 3x3 reduce, 3x3, "5x5" reduce, "5x5", pool projection). I3D
# inflates GoogLeNet's 5x5 branch into a second 3x3x3 branch.
_MIXED = {
    'Mixed_3b': (64, 96, 128, 16, 32, 32),
    'Mixed_3c': (128, 128, 192, 32, 96, 64),
    'Mixed_4b': (192, 96, 208, 16, 48, 64),
    'Mixed_4c': (160, 112, 224, 24, 64, 64),
    'Mixed_4d': (128, 128, 256, 24, 64, 64),
    'Mixed_4e': (112, 144, 288, 32, 64, 64),
    'Mixed_4f': (256, 160, 320, 32, 128, 128),
    'Mixed_5b': (256, 160, 320, 32, 128, 128),
    'Mixed_5c': (384, 192, 384, 48, 128, 128),
}

# Max-pools: (kernel, stride), both [T, H, W].
_POOLS = {
    'MaxPool3d_2a_3x3': ((1, 3, 3), (1, 2, 2)),
    'MaxPool3d_3a_3x3': ((1, 3, 3), (1, 2, 2)),
    'MaxPool3d_4a_3x3': ((3, 3, 3), (2, 2, 2)),
    'MaxPool3d_5a_2x2': ((2, 2, 2), (2, 2, 2)),
}

# Stem convolutions: (output channels, kernel, stride).
_CONVS = {
    'Conv3d_1a_7x7': (64, (7, 7, 7), (2, 2, 2)),
    'Conv3d_2b_1x1': (64, (1, 1, 1), (1, 1, 1)),
    'Conv3d_2c_3x3': (192, (3, 3, 3), (1, 1, 1)),
}

# The logits' average pool over the 7x7 grid that a 224x224 input reaches, 2 frames deep.
LOGITS_POOL: Triple = (2, 7, 7)


def _max_pool(x: tf.Tensor, kernel: Triple, stride: Triple) -> tf.Tensor:
  return tf.nn.max_pool3d(x, ksize=(1,) + kernel + (1,), strides=(1,) + stride + (1,),
                          padding='SAME')


def _avg_pool(x: tf.Tensor, kernel: Triple) -> tf.Tensor:
  return tf.nn.avg_pool3d(x, ksize=(1,) + kernel + (1,), strides=(1,) * 5, padding='VALID')


def _static_shape(x: tf.Tensor) -> Tuple[int, ...]:
  shape = tf.TensorShape(x.shape)
  if not shape.is_fully_defined():
    raise ValueError(f'ops="2d" needs inputs of a fixed shape, got {shape}')
  return tuple(shape)


def _max_pool_2d_ops(x: tf.Tensor, kernel: Triple, stride: Triple) -> tf.Tensor:
  """`_max_pool` as 2D max-pools: over H and W, then over T (one axis at a time gives
  the same maxima and the same 'SAME' padding)."""
  b, t, h, w, c = _static_shape(x)
  net = tf.nn.max_pool2d(tf.reshape(x, (b * t, h, w, c)), kernel[1:], stride[1:], 'SAME')
  _, h, w, _ = net.shape
  net = tf.nn.max_pool2d(tf.reshape(net, (b, t, h * w, c)), (kernel[0], 1), (stride[0], 1),
                         'SAME')
  return tf.reshape(net, (b, net.shape[1], h, w, c))


def _avg_pool_2d_ops(x: tf.Tensor, kernel: Triple) -> tf.Tensor:
  """`_avg_pool` as 2D average pools: over H and W, then over T (equal window sizes, so
  the mean of the means is the mean, to float rounding)."""
  b, t, h, w, c = _static_shape(x)
  net = tf.nn.avg_pool2d(tf.reshape(x, (b * t, h, w, c)), kernel[1:], 1, 'VALID')
  _, h, w, _ = net.shape
  net = tf.nn.avg_pool2d(tf.reshape(net, (b, t, h * w, c)), (kernel[0], 1), 1, 'VALID')
  return tf.reshape(net, (b, net.shape[1], h, w, c))


class Conv3DFrom2D(snt.Module):
  """`snt.Conv3D` ('SAME' padding) computed with 2D convolutions, one per temporal tap,
  summed: the same variables (`w` `[T, H, W, C, O]`, `b`) and, to float rounding, the
  same result. For TFLite, whose 2D convolutions are fast and quantizable and whose 3D
  one is neither. Inputs must have a fixed shape."""

  def __init__(self, output_channels: int, kernel_shape: Triple, stride: Triple,
               with_bias: bool, name: str = 'conv_3d'):
    super().__init__(name=name)
    self._output_channels = output_channels
    self._kernel_shape = tuple(kernel_shape)
    self._stride = tuple(stride)
    self._with_bias = with_bias
    self.input_channels = None

  @snt.once
  def _initialize(self, inputs: tf.Tensor) -> None:
    """Creates the variables, zeros until a checkpoint is loaded into them."""
    self.input_channels = inputs.shape[-1]
    self.w = tf.Variable(tf.zeros(self._kernel_shape + (self.input_channels,
                                                        self._output_channels),
                                  inputs.dtype), name='w')
    if self._with_bias:
      self.b = tf.Variable(tf.zeros([self._output_channels], inputs.dtype), name='b')

  def __call__(self, inputs: tf.Tensor) -> tf.Tensor:
    inputs = tf.convert_to_tensor(inputs)
    self._initialize(inputs)
    b, t, h, w, c = _static_shape(inputs)
    taps, stride = self._kernel_shape[0], self._stride[0]
    t_out = -(-t // stride)
    padding = max((t_out - 1) * stride + taps - t, 0)  # 'SAME', as TF pads.
    net = tf.pad(inputs, [[0, 0], [padding // 2, padding - padding // 2], [0, 0], [0, 0],
                          [0, 0]])
    output = 0.
    for tap in range(taps):
      frames = net[:, tap:tap + stride * (t_out - 1) + 1:stride]
      output += tf.nn.conv2d(tf.reshape(frames, (b * t_out, h, w, c)), self.w[tap],
                             self._stride[1:], 'SAME')
    if self._with_bias:
      output += self.b
    return tf.reshape(output, (b, t_out) + tuple(output.shape[1:]))


# The 3D operations: TensorFlow's, or the same from 2D ones (`Conv3DFrom2D` and the
# pools above), which TFLite has; those need inputs of a fixed shape.
OPS = {'3d': (_max_pool, _avg_pool), '2d': (_max_pool_2d_ops, _avg_pool_2d_ops)}


class Unit3D(snt.Module):
  """A 3D convolution ('SAME' padding), then batch norm and an activation, each optional."""

  def __init__(self,
               output_channels: int,
               kernel_shape: Triple = (1, 1, 1),
               stride: Triple = (1, 1, 1),
               activation_fn: Optional[Callable[[tf.Tensor], tf.Tensor]] = tf.nn.relu,
               use_batch_norm: bool = True,
               use_bias: bool = False,
               ops: str = '3d',
               name: str = 'unit_3d'):
    """Constructs the unit.

    Args:
      output_channels: Channels of the convolution's output.
      kernel_shape: Convolution kernel, `[T, H, W]`.
      stride: Convolution stride, `[T, H, W]`.
      activation_fn: Applied last; `None` for a linear unit.
      use_batch_norm: Whether to apply `BatchNorm` (eps 1e-3, decay 0.999, no scale).
      use_bias: Whether the convolution has a bias (`conv_3d/b`); the release uses one
        only in the logits, where there is no batch norm.
      ops: `3d` (`snt.Conv3D`) or `2d` (`Conv3DFrom2D`, for TFLite).
      name: Module name, the unit's scope in checkpoints.
    """
    super().__init__(name=name)
    if ops == '2d':
      self.conv = Conv3DFrom2D(output_channels, kernel_shape, stride, use_bias)
    else:
      self.conv = snt.Conv3D(output_channels, kernel_shape, stride=stride,
                             padding='SAME', with_bias=use_bias, name='conv_3d')
    self.batch_norm = BatchNorm() if use_batch_norm else None
    self._activation_fn = activation_fn

  def __call__(self, inputs: tf.Tensor, is_training: bool) -> tf.Tensor:
    """Applies the unit to `inputs` of shape `[B, T, H, W, C]`."""
    net = self.conv(inputs)
    if self.batch_norm is not None:
      net = self.batch_norm(net, is_training=is_training)
    if self._activation_fn is not None:
      net = self._activation_fn(net)
    return net


class InceptionBlock(snt.Module):
  """Four parallel branches concatenated on channels (Inception-v1's block, in 3D).

  Branch_0: 1x1x1. Branch_1: 1x1x1 then 3x3x3. Branch_2: 1x1x1 then 3x3x3.
  Branch_3: 3x3x3 max-pool (stride 1) then 1x1x1.
  """

  def __init__(self,
               widths: Sequence[int],
               branch_2_3x3_name: str = 'Conv3d_0b_3x3',
               ops: str = '3d',
               name: str = 'inception_block'):
    """Constructs the block.

    Args:
      widths: The six branch widths: Branch_0, Branch_1's two units, Branch_2's two
        units, Branch_3's projection.
      branch_2_3x3_name: Name of Branch_2's 3x3x3 unit. The release names it
        `Conv3d_0a_3x3` in `Mixed_5b` alone, and its checkpoints keep that name.
      ops: `3d` or `2d` (see `InceptionI3d`).
      name: Module name, the block's endpoint name.

    Raises:
      ValueError: If `widths` does not hold six widths.
    """
    super().__init__(name=name)
    if len(widths) != 6:
      raise ValueError(f'widths must hold 6 branch widths, got {tuple(widths)}')
    w0, w1a, w1b, w2a, w2b, w3 = widths
    self._max_pool = OPS[ops][0]
    # The branch scopes are name scopes, not modules, as in the release.
    with tf.name_scope('Branch_0'):
      self.branch_0 = [Unit3D(w0, ops=ops, name='Conv3d_0a_1x1')]
    with tf.name_scope('Branch_1'):
      self.branch_1 = [Unit3D(w1a, ops=ops, name='Conv3d_0a_1x1'),
                       Unit3D(w1b, (3, 3, 3), ops=ops, name='Conv3d_0b_3x3')]
    with tf.name_scope('Branch_2'):
      self.branch_2 = [Unit3D(w2a, ops=ops, name='Conv3d_0a_1x1'),
                       Unit3D(w2b, (3, 3, 3), ops=ops, name=branch_2_3x3_name)]
    with tf.name_scope('Branch_3'):
      self.branch_3 = [Unit3D(w3, ops=ops, name='Conv3d_0b_1x1')]

  def __call__(self, inputs: tf.Tensor, is_training: bool) -> tf.Tensor:
    """Applies the block to `inputs` of shape `[B, T, H, W, C]`."""
    outputs = []
    for i, units in enumerate(
        (self.branch_0, self.branch_1, self.branch_2, self.branch_3)):
      net = self._max_pool(inputs, (3, 3, 3), (1, 1, 1)) if i == 3 else inputs
      for unit in units:
        net = unit(net, is_training=is_training)
      outputs.append(net)
    return tf.concat(outputs, axis=-1)


class InceptionI3d(snt.Module):
  """Inception-v1 I3D, inputs `[B, T, H, W, C]` with values in [-1, 1].

  Calling the model returns `(output at final_endpoint, end_points)`, where `end_points`
  maps every endpoint up to and including `final_endpoint` to its output. Only the
  layers up to `final_endpoint` are built.
  """

  # The endpoints in network order.
  VALID_ENDPOINTS = (
      'Conv3d_1a_7x7',
      'MaxPool3d_2a_3x3',
      'Conv3d_2b_1x1',
      'Conv3d_2c_3x3',
      'MaxPool3d_3a_3x3',
      'Mixed_3b',
      'Mixed_3c',
      'MaxPool3d_4a_3x3',
      'Mixed_4b',
      'Mixed_4c',
      'Mixed_4d',
      'Mixed_4e',
      'Mixed_4f',
      'MaxPool3d_5a_2x2',
      'Mixed_5b',
      'Mixed_5c',
      'Logits',
      'Predictions',
  )

  def __init__(self,
               num_classes: int = 400,
               spatial_squeeze: bool = True,
               final_endpoint: str = 'Logits',
               dtype: tf.DType = tf.float32,
               ops: str = '3d',
               compute_dtype: Optional[tf.DType] = None,
               name: str = 'inception_i3d'):
    """Constructs the model.

    Args:
      num_classes: Number of logits: 400 for Kinetics-400, 600 for Kinetics-600.
      spatial_squeeze: Whether to squeeze the logits' spatial axes: `[B, num_classes]`
        rather than `[B, 1, 1, num_classes]`.
      final_endpoint: The last endpoint to build, one of `VALID_ENDPOINTS`.
      dtype: Variables and computation: `tf.float32` (default), or `tf.bfloat16` for
        faster inference on CPUs with bfloat16 units (AVX512_BF16, AMX) and on GPUs.
        Inputs are cast to it; outputs are in it. Checkpoints load into either.
      ops: `3d` (TensorFlow's 3D convolutions and pools), or `2d`: the same from 2D
        ones (same variables), for TFLite, which has no 3D pools and a slow,
        unquantizable 3D convolution; inputs must then have a fixed shape. The
        max-pools give identical values, the rest the same to float rounding.
      compute_dtype: The computation's dtype when it differs from the variables'
        (mixed precision, for training: `tf.bfloat16` computation on `tf.float32`
        variables, which the gradients update; batch norm's statistics stay in
        float32). Default: `dtype`.
      name: Module name, the model's scope (`inception_i3d` in the release).

    Raises:
      ValueError: If `final_endpoint` is not in `VALID_ENDPOINTS`, or `num_classes`
        is not positive.
    """
    super().__init__(name=name)
    if final_endpoint not in self.VALID_ENDPOINTS:
      raise ValueError(f'Unknown final endpoint {final_endpoint!r}; valid endpoints: '
                       f'{", ".join(self.VALID_ENDPOINTS)}')
    if num_classes < 1:
      raise ValueError(f'num_classes must be positive, got {num_classes}')
    if ops not in OPS:
      raise ValueError(f'ops must be one of {", ".join(OPS)}, got {ops!r}')
    self._max_pool, self._avg_pool = OPS[ops]
    self._num_classes = num_classes
    self._dtype = tf.as_dtype(dtype)
    self._compute_dtype = tf.as_dtype(compute_dtype or dtype)
    self._spatial_squeeze = spatial_squeeze
    self._final_endpoint = final_endpoint
    self._endpoints = self.VALID_ENDPOINTS[:self.VALID_ENDPOINTS.index(final_endpoint) + 1]

    self._layers: Dict[str, snt.Module] = {}
    for end_point in self._endpoints:
      if end_point in _CONVS:
        channels, kernel, stride = _CONVS[end_point]
        self._layers[end_point] = Unit3D(channels, kernel, stride, ops=ops, name=end_point)
      elif end_point in _MIXED:
        # The release's naming quirk, kept so that its checkpoints load.
        quirk = 'Conv3d_0a_3x3' if end_point == 'Mixed_5b' else 'Conv3d_0b_3x3'
        self._layers[end_point] = InceptionBlock(_MIXED[end_point], quirk, ops,
                                                 name=end_point)
      elif end_point == 'Logits':
        with tf.name_scope('Logits'):
          self._layers[end_point] = Unit3D(
              num_classes, activation_fn=None, use_batch_norm=False, use_bias=True,
              ops=ops, name='Conv3d_0c_1x1')

  @property
  def num_classes(self) -> int:
    return self._num_classes

  @property
  def dtype(self) -> tf.DType:
    return self._dtype

  @property
  def compute_dtype(self) -> tf.DType:
    return self._compute_dtype

  @property
  def final_endpoint(self) -> str:
    return self._final_endpoint

  @property
  def input_channels(self) -> Optional[int]:
    """Channels of the inputs the model was built for (3 RGB, 2 flow); None if unbuilt."""
    conv = self._layers['Conv3d_1a_7x7'].conv
    return getattr(conv, 'input_channels', None)

  def min_input_size(self) -> Triple:
    """The smallest `[T, H, W]` an input may have to reach `final_endpoint`.

    With 'SAME' padding each stride s maps n to ceil(n / s); the logits' average pool
    needs at least `LOGITS_POOL` at the end. Before the logits any size is accepted.
    """
    if self._final_endpoint not in ('Logits', 'Predictions'):
      return (1, 1, 1)
    strides = [_CONVS['Conv3d_1a_7x7'][2]] + [stride for _, stride in _POOLS.values()]
    size = list(LOGITS_POOL)
    for stride in reversed(strides):
      size = [(n - 1) * s + 1 for n, s in zip(size, stride)]
    return tuple(size)

  def _check_inputs(self, inputs: tf.Tensor, dropout_keep_prob) -> None:
    if isinstance(dropout_keep_prob, (int, float)) and not 0 < dropout_keep_prob <= 1:
      raise ValueError(f'dropout_keep_prob must be in (0, 1], got {dropout_keep_prob}')
    shape = inputs.shape
    if shape.rank != 5:
      raise ValueError(f'inputs must have rank 5 [B, T, H, W, C], got shape {shape}')
    if self.input_channels is not None and shape[-1] not in (None, self.input_channels):
      raise ValueError(f'inputs have {shape[-1]} channels but the model was built for '
                       f'{self.input_channels}')
    minimum = self.min_input_size()
    for axis, n, least in zip('THW', shape[1:4], minimum):
      if n is not None and n < least:
        raise ValueError(
            f'inputs of shape {shape} are too small for {self._final_endpoint}: '
            f'{axis} must be at least {least} (the minimum [T, H, W] is {list(minimum)})')

  def __call__(self,
               inputs: tf.Tensor,
               is_training: bool,
               dropout_keep_prob: float = 1.0,
               dropout_seed: Optional[tf.Tensor] = None
               ) -> Tuple[tf.Tensor, Dict[str, tf.Tensor]]:
    """Runs the network up to `final_endpoint`.

    Args:
      inputs: `[B, T, H, W, C]`, values in [-1, 1]; C is 3 for RGB, 2 for flow.
      is_training: Whether batch norm uses (and updates) batch statistics.
      dropout_keep_prob: Keep probability of the dropout before the logits, applied
        whenever it is below 1 (as in the release, independently of `is_training`).
      dropout_seed: A `[2]` integer seed making the dropout mask a function of it
        (`tf.nn.experimental.stateless_dropout`), for training that resumes exactly;
        None: TensorFlow's stateful random dropout.

    Returns:
      `(output at final_endpoint, end_points)`. Logits are `[B, num_classes]`, or
      `[B, 1, 1, num_classes]` without spatial squeeze; they are averaged over time.
      Everything is in the model's `compute_dtype`.

    Raises:
      ValueError: On a `dropout_keep_prob` outside (0, 1], an input that is not of
        rank 5, has other channels than the built model, or is too small to reach the
        logits' 2x7x7 pool.
    """
    return self._call(inputs, is_training, dropout_keep_prob, dropout_seed)

  def per_time_logits(self,
                      inputs: tf.Tensor,
                      is_training: bool,
                      dropout_keep_prob: float = 1.0,
                      dropout_seed: Optional[tf.Tensor] = None) -> tf.Tensor:
    """The logits before their mean over time, `[B, T', num_classes]` (T' = the time
    axis after the logits' 2x7x7 pool: ceil(T / 8) - 1), for scores per moment
    (multi-label training and localization). Arguments as `__call__`'s; the model must
    be built up to the logits with `spatial_squeeze`."""
    if self._final_endpoint not in ('Logits', 'Predictions') or not self._spatial_squeeze:
      raise ValueError('per_time_logits needs a model built to the logits with '
                       'spatial_squeeze')
    return self._call(inputs, is_training, dropout_keep_prob, dropout_seed,
                      keep_time=True)

  def _call(self, inputs, is_training, dropout_keep_prob, dropout_seed, keep_time=False):
    inputs = tf.cast(inputs, self._compute_dtype)
    self._check_inputs(inputs, dropout_keep_prob)
    if self._compute_dtype == self._dtype:
      return self._run(inputs, is_training, dropout_keep_prob, dropout_seed, keep_time)
    if self.input_channels is None:  # Variables take the dtype of the first inputs.
      smallest = tf.zeros((1,) + self.min_input_size() + (inputs.shape[-1],), self._dtype)
      self._run(smallest, False, 1.0, None)
    # Mixed precision: convolutions read their variables cast (batch norm casts its own).
    def cast(variable):
      return tf.cast(variable, self._compute_dtype)

    with snt.custom_variable_getter(cast, classes=(snt.Conv3D, Conv3DFrom2D)):
      return self._run(inputs, is_training, dropout_keep_prob, dropout_seed, keep_time)

  def _run(self, inputs, is_training, dropout_keep_prob, dropout_seed, keep_time=False):
    end_points = {}
    net = inputs
    for end_point in self._endpoints:
      if end_point in _POOLS:
        net = self._max_pool(net, *_POOLS[end_point])
      elif end_point == 'Logits':
        net = self._avg_pool(net, LOGITS_POOL)
        if not isinstance(dropout_keep_prob, (int, float)) or dropout_keep_prob < 1:
          if dropout_seed is None:
            net = tf.nn.dropout(net, rate=1 - dropout_keep_prob)
          else:
            net = tf.nn.experimental.stateless_dropout(net, rate=1 - dropout_keep_prob,
                                                       seed=dropout_seed)
        logits = self._layers[end_point](net, is_training=is_training)
        if self._spatial_squeeze:
          if logits.shape[2:4] != (1, 1):
            raise ValueError(
                f'spatial_squeeze needs a 1x1 grid after the logits pool, got '
                f'{logits.shape[2]}x{logits.shape[3]} from inputs of shape '
                f'{inputs.shape}: use H, W in [193, 224] or spatial_squeeze=False')
          logits = tf.squeeze(logits, [2, 3])
        if keep_time:
          return logits, end_points
        net = tf.reduce_mean(logits, axis=1)  # Mean over time.
      elif end_point == 'Predictions':
        net = tf.nn.softmax(net)
      else:
        net = self._layers[end_point](net, is_training=is_training)
      end_points[end_point] = net
    return net, end_points
