"""A `tf.function` of the networks as an OpenVINO or ONNX model.

Both runtimes convert the very function the TensorFlow path compiles, with its batch and
time axes left free, so that each computes the same graph (float32 weights: no fp16
compression on the way).
"""

import errno
import logging
import os
from typing import Sequence

from i3d import quiet_tf
from i3d.quiet_tf import tf

# ONNX opset of the exports: 17 has every op the network needs (3D convolutions and
# pools, ReduceMean with axes as an attribute) and runs on every maintained runtime.
ONNX_OPSET = 17
# Names of the free axes of the models' inputs `[B, T, 224, 224, C]` and outputs `[B, ...]`.
BATCH_AXIS, TIME_AXIS = 'batch', 'frames'


# Free space under which a file system that refused OpenVINO's write is taken for full
# (the weights it was writing are tens of MiB).
_FULL_BELOW_BYTES = 1 << 20


def missing_extra(package: str, extra: str) -> ImportError:
  return ImportError(f'{package} is not installed: pip install \'.[{extra}]\' (or pip '
                     f'install {package})')


def to_openvino(function: tf.types.experimental.ConcreteFunction):
  """An `openvino.Model` of a concrete function, its inputs and outputs under their
  names in the function."""
  try:
    import openvino  # pylint: disable=g-import-not-at-top
  except ImportError as e:
    raise missing_extra('openvino', 'openvino') from e
  with quiet_tf.without_noise(drop_all=True):
    return openvino.convert_model(function)


def save_openvino(model, xml_path: str) -> None:
  """Writes `<name>.xml` and `<name>.bin`, the weights kept in float32 (OpenVINO's
  default would halve them to float16)."""
  import openvino  # pylint: disable=g-import-not-at-top
  try:
    openvino.save_model(model, xml_path, compress_to_fp16=False)
  except RuntimeError as e:
    # OpenVINO reports a write the file system refused as "basic_ios::clear", with no
    # errno: tell the machine's errors (exit 4) from its own by the file system's state.
    folder = os.path.dirname(os.path.abspath(xml_path))
    state = os.statvfs(folder)
    if state.f_flag & os.ST_RDONLY:
      raise OSError(errno.EROFS, os.strerror(errno.EROFS), folder) from e
    if state.f_bavail * state.f_frsize < _FULL_BELOW_BYTES:
      raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), folder) from e
    raise


def to_onnx(function: tf.types.experimental.GenericFunction,
            input_signature: Sequence[tf.TensorSpec]):
  """An `onnx.ModelProto` of a `tf.function` (tf2onnx, opset `ONNX_OPSET`), its free
  axes named `batch` and `frames`."""
  try:
    import tf2onnx  # pylint: disable=g-import-not-at-top
  except ImportError as e:
    raise missing_extra('tf2onnx', 'onnx') from e
  logging.getLogger('tf2onnx').setLevel(logging.ERROR)
  with quiet_tf.without_noise(drop_all=True):
    proto, _ = tf2onnx.convert.from_function(function, input_signature=input_signature,
                                             opset=ONNX_OPSET)
  for values, names in ((proto.graph.input, (BATCH_AXIS, TIME_AXIS)),
                        (proto.graph.output, (BATCH_AXIS,))):
    for value in values:
      for dim, name in zip(value.type.tensor_type.shape.dim, names):
        dim.dim_param = name
  import onnx  # pylint: disable=g-import-not-at-top
  onnx.checker.check_model(proto)
  return proto
