"""int8 post-training quantization of an OpenVINO model (NNCF), calibrated on clips of
real video, and kept on disk so that a machine quantizes a network once.

Calibration clips are `frames`-frame windows, preprocessed as the run preprocesses
(its recipe, a centre crop; TV-L1 flow for a flow stream), at evenly spaced starts over
the named videos together, each video getting clips in proportion to its length. NNCF
collects each activation's range over them and quantizes weights per channel and
activations per tensor (its `MIXED` preset: asymmetric activations), then corrects every
convolution's bias for the rounding by running the layers in float (its full bias
correction, not the fast one).

Chosen by measurement on the 64-frame windows of the sample videos (2026-11-30, the
Xeon of the README's speed table; calibrated on their own 64 clips): against float32,
NNCF's defaults (`PERFORMANCE`, fast bias correction) kept the top-5 classes of 15% of
the windows, with a mean logit difference of 0.38; `MIXED` with full bias correction
kept 54%, with 0.21. Keeping the first convolution (which sees the pixels, and does a
quarter of the network's FLOPs) and the logits' convolution in float kept no more top-1
or top-5 classes, so every convolution is quantized.

What is kept in float: the two averages that make the outputs (`ReduceMean`: the logits'
mean over time, the features' mean over time and space). NNCF rounded their inputs, the
per-time logits and Mixed_5c's activations, to 256 levels, which gains no speed (no
matmul follows) and cost the most: NNCF's accuracy-controlled quantization, ranking
every quantizer by its effect on float32's top-1 over 32 calibration clips, reverted the
logits' average first (top-1 agreement 0.72 -> 0.81). With both in float (256 clips),
the largest logit difference on the sample videos fell from 1.8 to 0.79 whole and from
4.1 to 1.1 in their 64-frame windows, whose top-1 stayed float32's in 10 of 13 (9
before).
"""

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import sys
from typing import Any, Callable, List, Sequence, Tuple

import numpy as np

from i3d import catalogue
from i3d.catalogue import paths
from i3d.preprocess import pipeline
from i3d.runtime import convert
from i3d.system import files

DEFAULT_CLIPS = catalogue.CALIBRATION_CLIPS
CLIP_FRAMES = catalogue.CALIBRATION_CLIP_FRAMES
# NNCF's settings, part of the cache's key.
SETTINGS = {'preset': 'mixed', 'fast_bias_correction': False, 'float_types': ['ReduceMean']}


@dataclasses.dataclass(frozen=True)
class Calibration:
  """What int8 is calibrated on: videos (paths), how many clips, their preprocessing."""
  videos: Tuple[str, ...]
  clips: int = DEFAULT_CLIPS
  frames: int = CLIP_FRAMES
  recipe: str = 'kinetics'
  flow_impl: str = 'fast'

  def __post_init__(self):
    if not self.videos:
      raise ValueError('int8 calibration needs at least one video')
    if self.clips < 1:
      raise ValueError(f'calibration clips must be at least 1, got {self.clips}')

  def describe(self) -> str:
    return (f'{self.clips} clips of {self.frames} frames from {len(self.videos)} '
            f'video{"s" * (len(self.videos) != 1)}')


def clip_starts(lengths: Sequence[int], count: int, frames: int) -> List[Tuple[int, int]]:
  """`count` (video index, start) pairs evenly spaced over the videos' possible starts
  laid end to end (a video shorter than `frames` gives one start, 0)."""
  spans = [max(n - frames, 0) + 1 for n in lengths]
  total = sum(spans)
  starts = []
  for position in (np.arange(count) + 0.5) * total / count:
    index = int(np.searchsorted(np.cumsum(spans), position, side='right'))
    index = min(index, len(spans) - 1)
    starts.append((index, int(position - sum(spans[:index]))))
  return starts


def calibration_clips(calibration: Calibration, modality: str) -> List[np.ndarray]:
  """The clips `[1, frames, 224, 224, C]` of a stream's modality."""
  options = pipeline.Options(recipe=calibration.recipe, progress=False,
                             flow_impl=calibration.flow_impl)
  arrays = [pipeline.video_to_arrays(path, [modality], options)[modality]
            for path in calibration.videos]
  starts = clip_starts([a.shape[1] for a in arrays], calibration.clips, calibration.frames)
  return [arrays[i][:, start:start + calibration.frames] for i, start in starts]


def _key(checkpoint_prefix: str, per_time: bool, calibration: Calibration,
         modality: str) -> str:
  """What decides the quantized model: the checkpoint's files, the graph's outputs, the
  calibration videos and settings, and the tools' versions."""
  import nncf  # pylint: disable=g-import-not-at-top
  import openvino  # pylint: disable=g-import-not-at-top

  def stamp(path):
    status = os.stat(path)
    return [os.path.abspath(path), status.st_size, status.st_mtime_ns]
  folder = os.path.dirname(checkpoint_prefix)
  checkpoint = sorted(stamp(os.path.join(folder, n)) for n in os.listdir(folder)
                      if n.startswith(os.path.basename(checkpoint_prefix)))
  described = {'checkpoint': checkpoint, 'per_time': per_time, 'modality': modality,
               'videos': [stamp(v) for v in calibration.videos],
               'settings': dataclasses.asdict(calibration) | {'videos': None},
               'nncf_settings': SETTINGS, 'nncf': nncf.__version__,
               'openvino': openvino.__version__}
  return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:24]


def quantize(model, clips: Sequence[np.ndarray]):
  """The model with int8 convolutions, calibrated on `clips`."""
  try:
    import nncf  # pylint: disable=g-import-not-at-top
  except ImportError as e:
    raise convert.missing_extra('nncf', 'openvino') from e
  nncf.set_log_level(logging.WARNING)
  # NNCF's progress bars go to standard output: moved to standard error, where the
  # commands' own progress bars are, keeping standard output the commands' results.
  with contextlib.redirect_stdout(sys.stderr):
    return nncf.quantize(model, nncf.Dataset(list(clips)), subset_size=len(clips),
                         preset=nncf.QuantizationPreset.MIXED, fast_bias_correction=False,
                         ignored_scope=nncf.IgnoredScope(types=SETTINGS['float_types']))


def quantized(convert_model: Callable[[], Any], checkpoint_prefix: str, modality: str,
              per_time: bool, calibration: Calibration):
  """The int8 model of a network (`convert_model()` converts it to OpenVINO), from the
  cache folder when this checkpoint was already quantized with this calibration, else
  quantized now and kept there."""
  import openvino  # pylint: disable=g-import-not-at-top
  folder = os.path.join(paths.cache_dir(), 'int8',
                        _key(checkpoint_prefix, per_time, calibration, modality))
  xml = os.path.join(folder, 'model.xml')
  if os.path.isfile(xml):
    try:
      return openvino.Core().read_model(xml)
    except RuntimeError as e:  # A file of it cut or damaged since it was written whole.
      reason = (str(e).strip().splitlines() or ['unreadable'])[-1].strip()
      print(f'int8: {folder}: a damaged quantized model ({reason}); calibrating again',
            file=sys.stderr, flush=True)
  print(f'int8: calibrating {modality} on {calibration.describe()} (once: kept in '
        f'{os.path.dirname(folder)})', file=sys.stderr, flush=True)
  result = quantize(convert_model(), calibration_clips(calibration, modality))
  with files.folder_written_atomically(folder) as staging:
    convert.save_openvino(result, os.path.join(staging, 'model.xml'))
  return result
