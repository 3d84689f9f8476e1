"""Benchmark figures as JSON, each file saying where it was measured.

Speed depends on the processor: its instruction sets (AVX2, AVX-512, AVX512_BF16, AMX),
its cores, and the oneDNN settings in force (`ONEDNN_MAX_CPU_ISA`,
`TF_ENABLE_ONEDNN_OPTS`). Every results file records them beside the figures.
"""

import importlib.metadata
import json
import os
import sys
from typing import Any, Dict

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from i3d.system import files  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d.system import machine  # pylint: disable=g-import-not-at-top,wrong-import-position


def where() -> Dict[str, Any]:
  """The machine and the TensorFlow version (if installed) of this process."""
  described = machine.describe()
  try:
    described['tensorflow'] = importlib.metadata.version('tensorflow')
  except importlib.metadata.PackageNotFoundError:
    pass
  return described


def write(path: str, figures: Dict[str, Any]) -> None:
  """Writes `figures` and `machine` (see `where`) to `path`, whole or not at all."""
  report = dict(figures, machine=where())
  files.write_atomically(path, (json.dumps(report, indent=2) + '\n').encode())


def read(path: str) -> Dict[str, Any]:
  with open(path) as f:
    return json.load(f)
