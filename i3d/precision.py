"""Which precision to run the networks in: bfloat16 only where it pays.

bfloat16 halves the memory traffic and, on hardware with bfloat16 units (CPUs with
AVX512_BF16 or AMX, GPUs of compute capability 8.0 and up), runs about 1.7x faster than
float32 here. Elsewhere TensorFlow emulates it, several times slower than float32 (and
rounding differently). `choose` says what it chose, and warns where bfloat16 was asked
for without the units; it never changes an explicit choice.
"""

import dataclasses
from typing import Optional

from i3d.system import machine

# GPUs with bfloat16 tensor cores: Ampere (compute capability 8.0) and later.
MIN_GPU_CAPABILITY = (8, 0)


class PrecisionError(ValueError):
  """A precision that cannot run on this machine as it is set up."""


@dataclasses.dataclass(frozen=True)
class Choice:
  """The precision to run and, when there is something to say, one line saying it."""
  precision: str
  message: Optional[str] = None


def _gpu_with_bfloat16() -> Optional[str]:
  """The GPU TensorFlow will use, described, if it has bfloat16 units; '' if it has
  none; None without a GPU."""
  # Imported here: the commands define their --precision flag from this module, and
  # TensorFlow should load only once the flags are good.
  from i3d import quiet_tf  # pylint: disable=g-import-not-at-top
  tf = quiet_tf.tf
  with quiet_tf.without_noise():
    gpus = tf.config.list_physical_devices('GPU')
  if not gpus:
    return None
  details = tf.config.experimental.get_device_details(gpus[0])
  capability = tuple(details.get('compute_capability') or (0, 0))
  name = details.get('device_name', 'GPU')
  if capability >= MIN_GPU_CAPABILITY:
    return f'{name}, compute capability {capability[0]}.{capability[1]}'
  return ''


def choose(requested: str, fallback: str = 'float32 or auto') -> Choice:
  """Resolves `auto`, and checks `bfloat16`, for this machine.

  Args:
    requested: `float32`, `bfloat16` or `auto` (bfloat16 where there are bfloat16 units,
      float32 elsewhere).
    fallback: The `--precision` values the refusal suggests instead.

  Returns:
    The precision (`auto` resolved) and the line to show: for `auto`, which it chose
    and why; for `bfloat16` without bfloat16 units, a warning that it is slower.

  Raises:
    PrecisionError: If bfloat16 cannot run at all on this CPU as oneDNN is set up.
  """
  if requested == 'float32':
    return Choice('float32')
  if requested not in ('bfloat16', 'auto'):
    raise ValueError(f'Unknown precision {requested!r}; valid: auto, float32, bfloat16')
  gpu = _gpu_with_bfloat16()
  if gpu is not None:
    units, why_not = gpu, 'this GPU has compute capability below 8.0'
  else:
    units = ' and '.join(machine.bfloat16_units())
    why_not = machine.why_no_bfloat16_units()
    if requested == 'bfloat16' and machine.bfloat16_cannot_run():
      raise PrecisionError(
          f'bfloat16 cannot run with ONEDNN_MAX_CPU_ISA={machine.onednn_isa_cap()} on this '
          'CPU (TensorFlow sends bfloat16 to oneDNN, which that setting forbids): use '
          f'--precision {fallback}, or unset ONEDNN_MAX_CPU_ISA')
  where = f'GPU {units}' if gpu else f'this CPU has {units}'
  if requested == 'auto':
    if units:
      return Choice('bfloat16', f'precision auto: bfloat16 ({where})')
    return Choice('float32', f'precision auto: float32 (no bfloat16 units: {why_not})')
  if not units:
    return Choice('bfloat16', f'warning: no bfloat16 units ({why_not}), so bfloat16 is '
                              'slower than float32 here; running bfloat16 as asked')
  return Choice('bfloat16')
