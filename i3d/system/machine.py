"""The processor: its model, its cores, and the instruction sets that decide speed.

TensorFlow runs float32 and bfloat16 convolutions on CPUs through oneDNN, whose kernels
depend on the instruction sets present (and allowed by `ONEDNN_MAX_CPU_ISA`): bfloat16
is fast only with bfloat16 units (AVX512_BF16 or AMX_BF16). Without them it runs through
slower emulation or Eigen's generic kernels, several times slower than float32.
"""

import functools
import os
import platform
from typing import Dict, FrozenSet, List, Optional

# /proc/cpuinfo flag -> name, for the instruction sets that matter here.
ISA_FLAGS = {
    'avx2': 'AVX2', 'fma': 'FMA', 'avx512f': 'AVX512F', 'avx512_vnni': 'AVX512_VNNI',
    'avx512_bf16': 'AVX512_BF16', 'amx_bf16': 'AMX_BF16',
}
BFLOAT16_UNITS = ('AVX512_BF16', 'AMX_BF16')
# The values of ONEDNN_MAX_CPU_ISA, from least to most (oneDNN's documentation).
ONEDNN_ISA_ORDER = (
    'SSE41', 'AVX', 'AVX2', 'AVX2_VNNI', 'AVX2_VNNI_2', 'AVX512_CORE', 'AVX512_CORE_VNNI',
    'AVX512_CORE_BF16', 'AVX512_CORE_FP16', 'AVX10_1_512', 'AVX512_CORE_AMX',
    'AVX10_1_512_AMX', 'AVX512_CORE_AMX_FP16', 'AVX10_1_512_AMX_FP16', 'ALL', 'DEFAULT')


@functools.lru_cache(maxsize=None)
def _cpuinfo() -> Dict[str, str]:
  """The first processor's entries of /proc/cpuinfo (empty where there is none)."""
  entries = {}
  try:
    with open('/proc/cpuinfo') as f:
      for line in f:
        if not line.strip():
          break
        key, _, value = line.partition(':')
        entries[key.strip()] = value.strip()
  except OSError:
    pass
  return entries


def cpu_flags() -> FrozenSet[str]:
  """The ISA names of `ISA_FLAGS` that the processor has."""
  flags = set(_cpuinfo().get('flags', '').split())
  return frozenset(name for flag, name in ISA_FLAGS.items() if flag in flags)


def cpu_model() -> str:
  return _cpuinfo().get('model name') or platform.processor() or platform.machine()


def onednn_isa_cap() -> Optional[str]:
  """`ONEDNN_MAX_CPU_ISA`, upper-cased, if it is set."""
  value = os.environ.get('ONEDNN_MAX_CPU_ISA', '').strip().upper()
  return value or None


def onednn_enabled() -> bool:
  """Whether TensorFlow uses oneDNN (its default on x86 Linux): TF_ENABLE_ONEDNN_OPTS."""
  return os.environ.get('TF_ENABLE_ONEDNN_OPTS', '1').strip().lower() not in ('0', 'false')


def _cap_allows(minimum: str) -> bool:
  cap = onednn_isa_cap()
  if cap not in ONEDNN_ISA_ORDER:  # Unset (or a value oneDNN does not know).
    return True
  return ONEDNN_ISA_ORDER.index(cap) >= ONEDNN_ISA_ORDER.index(minimum)


def bfloat16_units() -> List[str]:
  """The processor's bfloat16 units that TensorFlow's oneDNN may use, in order."""
  if not onednn_enabled() or not _cap_allows('AVX512_CORE_BF16'):
    return []
  return [name for name in BFLOAT16_UNITS if name in cpu_flags()]


def why_no_bfloat16_units() -> str:
  """Why `bfloat16_units()` is empty, in words."""
  present = [name for name in BFLOAT16_UNITS if name in cpu_flags()]
  if not present:
    return f'this CPU has no {" or ".join(BFLOAT16_UNITS)}'
  if not onednn_enabled():
    return 'TF_ENABLE_ONEDNN_OPTS=0 turns oneDNN, and so this CPU\'s bfloat16 units, off'
  return (f'ONEDNN_MAX_CPU_ISA={onednn_isa_cap()} keeps oneDNN from this CPU\'s '
          f'{" and ".join(present)}')


def bfloat16_cannot_run() -> bool:
  """Whether TensorFlow would send bfloat16 convolutions to a oneDNN that refuses them.

  TensorFlow chooses oneDNN's bfloat16 kernels when the CPU has AVX512F, whatever
  `ONEDNN_MAX_CPU_ISA` says; below AVX512_CORE oneDNN then has no such kernel and the
  first convolution fails.
  """
  return onednn_enabled() and 'AVX512F' in cpu_flags() and not _cap_allows('AVX512_CORE')


def describe() -> Dict:
  """The processor, for benchmark results: model, cores, ISA flags, oneDNN settings."""
  return {
      'cpu': cpu_model(),
      'cores': os.cpu_count(),
      'isa': sorted(cpu_flags(), key=list(ISA_FLAGS.values()).index),
      'onednn_max_cpu_isa': onednn_isa_cap(),
      'onednn': onednn_enabled(),
  }
