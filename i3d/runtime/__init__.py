"""Running the networks outside TensorFlow: conversion to ONNX and OpenVINO (`convert`),
an OpenVINO back-end with the TensorFlow networks' interface (`openvino_networks`),
int8 post-training quantization calibrated on real video (`int8`), the choice between
back-ends (`backends`), and the SavedModel, TFLite, ONNX and OpenVINO files that
`python -m i3d.export` writes (`serving`).

OpenVINO, NNCF and ONNX are optional extras (`pip install '.[openvino]'`, `'.[onnx]'`):
nothing imports them before it is used. This module imports no TensorFlow.
"""

import os
from typing import Any, Dict, Optional, Sequence, Tuple

from i3d import catalogue
from i3d.preprocess import sample
from i3d.videosets import sources


def check(backend: str, precision: str) -> None:
  """Raises ValueError for an unknown back-end, or a precision it cannot run."""
  if backend not in catalogue.BACKENDS:
    raise ValueError(f'Unknown backend {backend!r}; valid: {", ".join(catalogue.BACKENDS)}')
  if precision == 'int8' and backend != 'openvino':
    raise ValueError('precision int8 runs on --backend openvino only')


def identity(backend: str, precision: str, calibration_videos: Sequence[str],
             calibration_clips: int) -> Dict[str, Any]:
  """What the back-end adds to a run's identity: nothing for TensorFlow (so earlier
  folders keep their claim); the back-end otherwise, and int8's calibration."""
  if backend == 'tensorflow':
    return {}
  added = {'backend': backend}
  if precision == 'int8':
    added['calibration'] = {'videos': [os.path.basename(v) for v in calibration_videos],
                            'clips': calibration_clips}
  return added


def calibration_videos(source: Optional[str]) -> Tuple[str, ...]:
  """The videos `--calibration` names (in `--videos`' forms), or the sample videos.

  Raises:
    SourceError: If the source cannot be read or names no video.
  """
  if source:
    found = tuple(v.path for v in sources.list_videos(source))
    if not found:
      raise sources.SourceError(f'--calibration {source}: names no video')
    return found
  folder = sample.sample_videos()
  return tuple(os.path.join(folder, f'{name}.mp4') for name in sample.VIDEOS)


def calibration_from_flags(values) -> Tuple[str, ...]:
  """The calibration videos of parsed flags: `--calibration`'s for `--precision int8`,
  else none."""
  return calibration_videos(values.calibration) if values.precision == 'int8' else ()
