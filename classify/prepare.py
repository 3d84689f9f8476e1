"""Preprocessing a video into scratch `.npy` files, the part that runs in worker
processes. Imports no TensorFlow, so that workers start fast and stay small."""

import os
from typing import Dict, Sequence

import cv2

import preprocess

def start_worker() -> None:
  """In a worker process: the processes give the parallelism, not OpenCV's threads."""
  cv2.setNumThreads(1)


def prepare(video_path: str, video_id: str, modalities: Sequence[str], recipe: str,
            scratch_dir: str) -> Dict[str, str]:
  """Preprocesses a video into `<scratch_dir>/<video_id>_<modality>.npy`.

  Arrays are written frame by frame (memory stays flat however long the video), and are
  read back as memory maps, a batch of windows at a time.

  Returns:
    `{modality: path}`.

  Raises:
    VideoError: If the video cannot be read or is too short for the network.
  """
  options = preprocess.Options(recipe=recipe, workers=1, progress=False)
  prefix = os.path.join(scratch_dir, video_id)
  return preprocess.preprocess_video(video_path, prefix, modalities, options, gifs=False)
