"""The networks of a run on OpenVINO's CPU plugin, with `runtime.networks.Networks`'
interface: each stream converted from the same `tf.function` (`convert`), quantized for
int8 (`int8`), and compiled once per run.

Precision is set explicitly, never left to OpenVINO, whose CPU plugin would otherwise run
float32 models in bfloat16 on CPUs with bfloat16 units: `float32` and `int8` compile with
the float32 inference hint (int8's quantized convolutions run in int8, the rest in
float32), `bfloat16` with the bfloat16 hint, refused where the CPU has no bfloat16 units
(OpenVINO would run float32 instead, silently).
"""

import functools
from typing import Optional, Tuple

import numpy as np

from i3d import releases
from i3d.catalogue import Plan
from i3d.runtime import networks as network
from i3d.precision import PrecisionError
from i3d.runtime import convert
from i3d.runtime import int8

PRECISIONS = ('float32', 'bfloat16', 'int8')
# OpenVINO's INFERENCE_PRECISION_HINT for each.
HINTS = {'float32': 'f32', 'bfloat16': 'bf16', 'int8': 'f32'}


def core():
  try:
    import openvino  # pylint: disable=g-import-not-at-top
  except ImportError as e:
    raise convert.missing_extra('openvino', 'openvino') from e
  return openvino.Core()


def has_bfloat16() -> bool:
  """Whether OpenVINO's CPU plugin has bfloat16 units to run on here."""
  return 'BF16' in core().get_property('CPU', 'OPTIMIZATION_CAPABILITIES')


def choose(requested: str) -> Tuple[str, Optional[str]]:
  """The precision to run for `--precision` and a line saying why, where there is one:
  `auto` is bfloat16 where the CPU has bfloat16 units, else float32; never int8, which
  changes answers (see `int8`) and is only run when asked for.

  Raises:
    PrecisionError: For bfloat16 on a CPU without bfloat16 units.
  """
  if requested == 'auto':
    if has_bfloat16():
      return 'bfloat16', 'precision auto: bfloat16 (OpenVINO finds bfloat16 units here)'
    return 'float32', 'precision auto: float32 (OpenVINO finds no bfloat16 units here)'
  if requested == 'bfloat16' and not has_bfloat16():
    raise PrecisionError('--precision bfloat16 with --backend openvino: this CPU has no '
                         'bfloat16 units (OpenVINO would run float32 instead); use '
                         '--precision float32 or int8')
  if requested not in PRECISIONS:
    raise ValueError(f'Unknown precision {requested!r}; valid: auto, '
                     f'{", ".join(PRECISIONS)}')
  return requested, None


def _convert(stream, per_time: bool):
  """A stream's network loaded from its checkpoint and converted to OpenVINO."""
  model = releases.load_stream(stream)
  function = network.compile_forward(model, stream.release.channels, per_time)
  return convert.to_openvino(function.get_concrete_function())


class OpenVinoNetworks:
  """`Networks` run by OpenVINO: the same calls, the same outputs (float32 NumPy).

  Raises (on construction):
    CheckpointMismatchError: If a checkpoint is not the network it should be.
    ImportError: If OpenVINO (or, for int8, NNCF) is not installed.
  """

  def __init__(self, plan: Plan, precision: str = 'float32', per_time: bool = False,
               calibration: Optional[int8.Calibration] = None):
    if precision not in PRECISIONS:
      raise ValueError(f'Unknown precision {precision!r}; valid: {", ".join(PRECISIONS)}')
    if precision == 'int8' and calibration is None:
      raise ValueError('int8 needs a calibration')
    runtime = core()
    self.plan = plan
    self.per_time = per_time
    self.eval_type = plan.eval_type
    self.streams = tuple(s.name for s in plan.streams)
    self.labels = list(plan.labels)
    self._requests = {}
    for stream in plan.streams:
      # Loaded only to be converted: a cached int8 network needs neither.
      convert_model = functools.partial(_convert, stream, per_time)
      if precision == 'int8':
        converted = int8.quantized(convert_model, stream.prefix, stream.modality, per_time,
                                   calibration)
      else:
        converted = convert_model()
      compiled = runtime.compile_model(converted, 'CPU',
                                       {'INFERENCE_PRECISION_HINT': HINTS[precision]})
      self._requests[stream.name] = compiled.create_infer_request()

  @property
  def num_classes(self) -> int:
    return len(self.labels)

  def _run(self, stream: str, clips: np.ndarray):
    request = self._requests[stream]
    request.infer({0: np.ascontiguousarray(clips, np.float32)})
    return lambda name: np.array(request.get_tensor(name).data, np.float32)

  def __call__(self, stream: str, clips: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """As `Networks.__call__`."""
    output = self._run(stream, clips)
    return output('logits'), output('features')

  def call_per_time(self, stream: str,
                    clips: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """As `Networks.call_per_time`."""
    output = self._run(stream, clips)
    return output('logits'), output('features'), output('per_time_logits')
