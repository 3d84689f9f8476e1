"""A video's work after preprocessing, the same in the local runner and on Beam:
classify it and write its result, or record why it failed."""

import os
import shutil
import tempfile
from typing import Dict, Optional, Sequence
import warnings

import numpy as np

from i3d import preprocess
from i3d.classify import plot
from i3d.classify import prediction
from i3d.classify import result as result_lib
from i3d.classify import scratch
from i3d.runtime.networks import Networks
from i3d.classify.settings import Settings
from i3d.system.store import Store
from i3d.videosets.sources import Video


def classify_and_write(store: Store, video: Video, inputs: Dict[str, np.ndarray],
                       networks: Networks, settings: Settings,
                       notes: Sequence[str] = ()) -> Dict[str, np.ndarray]:
  """Runs the networks over a preprocessed video and writes its result (and plot).

  `notes` (a video cut short, say) are warned of here and kept in the metadata. The
  result file is written last: it is what marks the video done.
  """
  for note in notes:
    warnings.warn(preprocess.ShortVideoWarning(note), stacklevel=2)
  arrays = prediction.classify_inputs(video, inputs, networks, settings, notes)
  if settings.plots:
    store.write(result_lib.plot_name(video.id), plot.plot_png(arrays))
  store.write(result_lib.result_name(video.id), result_lib.to_bytes(arrays))
  store.remove(result_lib.failure_name(video.id))
  return arrays


def record_failure(store: Store, video: Video, error: BaseException) -> None:
  store.write(result_lib.failure_name(video.id), result_lib.failure_record(video, error))


def classify_video(store: Store, video: Video, networks: Networks, settings: Settings,
                   local_path: Optional[str] = None) -> bool:
  """Preprocesses and classifies one video in this process; a bad video is recorded as
  failed. Returns whether it succeeded.

  `local_path` is a local copy of a video that lives elsewhere (gs://...).
  """
  folder = tempfile.mkdtemp(prefix='i3d-classify-')
  try:
    try:
      paths, notes = scratch.preprocess_to_scratch(local_path or video.path,
                                                   os.path.join(folder, 'video'),
                                                   networks.plan.modalities,
                                                   settings.recipe, settings.flow_impl,
                                                   settings.crop,
                                                   refuse_cut_short=settings.refuse_cut_short)
    except scratch.VIDEO_ERRORS as e:
      record_failure(store, video, e)
      return False
    classify_and_write(store, video, scratch.load_inputs(paths), networks, settings, notes)
    return True
  finally:
    shutil.rmtree(folder, ignore_errors=True)
