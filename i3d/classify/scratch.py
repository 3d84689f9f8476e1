"""A video preprocessed to scratch arrays, and read back: the part of a video's work
that the local runner's worker processes do. Imports no TensorFlow."""

from typing import Dict, List, Sequence, Tuple, Union
import warnings

import numpy as np

from i3d import preprocess
from i3d.catalogue import DEFAULT_FLOW_IMPL, FPS

# What a bad video raises while being read and preprocessed. (An OSError there is the
# machine's: a full or read-only scratch disk; it stops the run instead.)
VIDEO_ERRORS = (preprocess.VideoError, ValueError)


def preprocess_to_scratch(video_path: str, prefix: str, modalities: Sequence[str],
                          recipe: str, flow_impl: str = DEFAULT_FLOW_IMPL,
                          crop: str = 'center', fps=FPS, refuse_cut_short: bool = False
                          ) -> Tuple[Dict[str, str], List[str]]:
  """Preprocesses a video into `<prefix>_<modality>.npy`, written frame by frame (memory
  stays flat however long the video).

  One process per video: parallelism comes from processing several videos at once.
  `crop`, `fps` and `refuse_cut_short` are `preprocess.Options`'.

  Returns:
    The paths, `{modality: path}`, and what is wrong with the video but did not stop it
    (`ShortVideoWarning`s: cut short), for its result's metadata.

  Raises:
    VideoError: If the video cannot be read or is too short for the network.
  """
  options = preprocess.Options(recipe=recipe, workers=1, progress=False,
                               flow_impl=flow_impl, crop=crop, fps=fps,
                               refuse_cut_short=refuse_cut_short)
  with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter('always', preprocess.ShortVideoWarning)
    paths = preprocess.preprocess_video(video_path, prefix, modalities, options, gifs=False)
  notes = []
  for warning in caught:
    if issubclass(warning.category, preprocess.ShortVideoWarning):
      notes.append(str(warning.message))
    else:
      warnings.showwarning(warning.message, warning.category, warning.filename,
                           warning.lineno)
  return paths, notes


def try_preprocess_to_scratch(
    job: Tuple[str, str], modalities: Sequence[str], recipe: str,
    flow_impl: str = DEFAULT_FLOW_IMPL, crop: str = 'center', fps=FPS,
    refuse_cut_short: bool = False) -> Union[Tuple[Dict[str, str], List[str]], Exception]:
  """`preprocess_to_scratch` of a `(video path, prefix)` job, or the video's error as a
  value (a worker pool then goes on with the next video)."""
  try:
    return preprocess_to_scratch(*job, modalities, recipe, flow_impl, crop, fps,
                                 refuse_cut_short)
  except VIDEO_ERRORS as e:
    return e


def load_inputs(paths: Dict[str, str]) -> Dict[str, np.ndarray]:
  """The scratch arrays as memory maps: only the windows in use are read."""
  return {m: np.load(path, mmap_mode='r', allow_pickle=False) for m, path in paths.items()}
