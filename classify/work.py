"""The per-video steps, the same in the local command and in the Beam pipeline."""

import json
import os
import shutil
import tempfile
from typing import Dict, Optional, Sequence

import numpy as np

from classify import network
from classify import plot
from classify import result as result_lib
from classify import store as store_lib
from classify.settings import Settings
from classify.sources import Video
import preprocess

RUN_FILE = 'run.json'
# What a bad video raises while being read and preprocessed.
VIDEO_ERRORS = (preprocess.VideoError, OSError, ValueError)


class SettingsMismatchError(ValueError):
  """The output folder holds results made with other settings."""


def claim_output(store, settings: Settings) -> None:
  """Records the run's settings in `run.json`, or checks that they are those of the
  results already there: one folder never mixes results of different settings."""
  identity = settings.identity()
  existing = store.read(RUN_FILE)
  if existing is None:
    store.write(RUN_FILE, json.dumps(identity, indent=1, sort_keys=True).encode())
    return
  previous = json.loads(existing)
  changed = [f'{key}={previous.get(key)!r} there, {value!r} now'
             for key, value in identity.items() if previous.get(key) != value]
  if changed:
    raise SettingsMismatchError(
        f'{store.path(RUN_FILE)}: results there were made with other settings '
        f'({"; ".join(changed)}); use another output folder or the same settings')


def check_labels(videos: Sequence[Video], labels: Sequence[str]) -> None:
  known = set(labels)
  for video in videos:
    if video.label is not None and video.label not in known:
      raise ValueError(f'{video.path}: label {video.label!r} is not one of the '
                       f'{len(labels)} classes of the label map')


def preprocess_options(settings: Settings) -> preprocess.Options:
  """One process per video: parallelism comes from processing several videos at once."""
  return preprocess.Options(recipe=settings.recipe, workers=1, progress=False)


def prepare(video_path: str, prefix: str, settings: Settings) -> Dict[str, str]:
  """Preprocesses a video into `<prefix>_<modality>.npy`, written frame by frame (memory
  stays flat however long the video) and read back as memory maps; returns the paths.

  Raises:
    VideoError: If the video cannot be read or is too short for the network.
  """
  return preprocess.preprocess_video(video_path, prefix, settings.modalities(),
                                     preprocess_options(settings), gifs=False)


def is_done(store, video: Video, retry_failed: bool = False) -> bool:
  """Whether a video has its result, or has failed and failures are not retried."""
  if store.exists(store_lib.result_name(video.id)):
    return True
  return not retry_failed and store.exists(store_lib.failure_name(video.id))


def load_inputs(paths: Dict[str, str]) -> Dict[str, np.ndarray]:
  return {m: np.load(path, mmap_mode='r', allow_pickle=False) for m, path in paths.items()}


def finish(store, video: Video, inputs: Dict[str, np.ndarray],
           networks: network.Networks, settings: Settings) -> Dict[str, np.ndarray]:
  """Runs the networks over a preprocessed video and writes its result (and plot).

  The result file is written last: it is what marks the video done.
  """
  arrays = result_lib.classify_inputs(video, inputs, networks, settings)
  if settings.plots:
    store.write(store_lib.plot_name(video.id), plot.plot_png(arrays))
  store.write(store_lib.result_name(video.id), result_lib.to_bytes(arrays))
  store.remove(store_lib.failure_name(video.id))
  return arrays


def record_failure(store, video: Video, error: BaseException) -> None:
  store.write(store_lib.failure_name(video.id), result_lib.failure_record(video, error))


def process(store, video: Video, networks: network.Networks, settings: Settings,
            local_path: Optional[str] = None) -> bool:
  """Preprocesses and classifies one video in this process; a bad video is recorded as
  failed. Returns whether it succeeded.

  `local_path` is a local copy of a video that lives elsewhere (gs://...).
  """
  scratch = tempfile.mkdtemp(prefix='i3d-classify-')
  try:
    try:
      paths = prepare(local_path or video.path, os.path.join(scratch, 'video'), settings)
    except VIDEO_ERRORS as e:
      record_failure(store, video, e)
      return False
    finish(store, video, load_inputs(paths), networks, settings)
    return True
  finally:
    shutil.rmtree(scratch, ignore_errors=True)
