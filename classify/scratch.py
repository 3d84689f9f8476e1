"""A video preprocessed to scratch arrays, and read back: the part of a video's work
that the local runner's worker processes do. Imports no TensorFlow."""

from typing import Dict, Sequence, Tuple, Union

import numpy as np

import preprocess

# What a bad video raises while being read and preprocessed.
VIDEO_ERRORS = (preprocess.VideoError, OSError, ValueError)


def preprocess_to_scratch(video_path: str, prefix: str, modalities: Sequence[str],
                          recipe: str) -> Dict[str, str]:
  """Preprocesses a video into `<prefix>_<modality>.npy`, written frame by frame (memory
  stays flat however long the video); returns the paths.

  One process per video: parallelism comes from processing several videos at once.

  Raises:
    VideoError: If the video cannot be read or is too short for the network.
  """
  options = preprocess.Options(recipe=recipe, workers=1, progress=False)
  return preprocess.preprocess_video(video_path, prefix, modalities, options, gifs=False)


def try_preprocess_to_scratch(job: Tuple[str, str], modalities: Sequence[str],
                              recipe: str) -> Union[Dict[str, str], Exception]:
  """`preprocess_to_scratch` of a `(video path, prefix)` job, or the video's error as a
  value (a worker pool then goes on with the next video)."""
  try:
    return preprocess_to_scratch(*job, modalities, recipe)
  except VIDEO_ERRORS as e:
    return e


def load_inputs(paths: Dict[str, str]) -> Dict[str, np.ndarray]:
  """The scratch arrays as memory maps: only the windows in use are read."""
  return {m: np.load(path, mmap_mode='r', allow_pickle=False) for m, path in paths.items()}
