"""TV-L1 flow computed once per video and kept on disk, for training the flow stream.

TV-L1 costs about a second a frame pair on one core, far more than a training step's
share of a clip, so each video's flow is computed once (every core, `preprocess`'s
pool), before training starts, for the whole resized frame (random crops are cut
later). It is stored as float16 of the network's `[-1, 1]` values (truncated at 20
pixels, as `preprocess`): half the bytes of float32, and within 2.5e-4 of it (half a
float16 step below 1), where MediaPipe's 8-bit storage is off by up to 0.02. Clips are
read through memory maps, so memory does not grow with the set.

A cache file is named after the video's path, size and modification time: an edited
video is computed again, and one folder can serve several runs (`--flow_cache_dir`).
"""

import hashlib
import os
import time
from typing import Callable, Optional, Sequence

import numpy as np

from i3d.catalogue import DEFAULT_FLOW_IMPL
from i3d.preprocess import pipeline
from i3d.preprocess import transforms
from i3d.preprocess.npy_writer import NpyWriter
from i3d.system import files
from i3d.videosets.sources import Video

# What made the cached values (with the TV-L1 implementation): part of each file's key.
RECIPE = 'kinetics'


class FlowCache:
  """Per-video flow `[1, N, H, W, 2]` float16 in [-1, 1] under `folder`."""

  def __init__(self, folder: str, flow_impl: str = DEFAULT_FLOW_IMPL,
               workers: Optional[int] = None):
    self.folder = folder
    self.flow_impl = flow_impl
    self.workers = workers

  def path(self, video: str) -> str:
    stat = os.stat(video)
    key = (f'{os.path.realpath(video)}\0{stat.st_size}\0{stat.st_mtime_ns}\0{RECIPE}\0'
           f'{self.flow_impl}')
    digest = hashlib.sha1(key.encode()).hexdigest()[:16]
    stem = os.path.splitext(os.path.basename(video))[0]
    return os.path.join(self.folder, f'{stem}-{digest}.npy')

  def load(self, video: str) -> np.ndarray:
    """The cached flow of `video`, memory-mapped: `[N, H, W, 2]` float16."""
    return np.load(self.path(video), mmap_mode='r')[0]

  def fill(self, videos: Sequence[Video], write: Callable[[str], None] = print) -> None:
    """Computes the flow of every video not yet cached, one video at a time.

    Raises:
      VideoError: If a video cannot be read or gives fewer than `MIN_FRAMES` flow
        frames (the network's minimum, for evaluation).
    """
    paths = sorted({v.path for v in videos})
    missing = [p for p in paths if not os.path.exists(self.path(p))]
    if not missing:
      return
    os.makedirs(self.folder, exist_ok=True)
    write(f'flow: computing TV-L1 ({self.flow_impl}) for {len(missing)} of {len(paths)} '
          f'videos, cached in {self.folder}')
    for i, video in enumerate(missing, start=1):
      started = time.monotonic()
      count = self._compute(video)
      write(f'flow {i}/{len(missing)}: {video} ({count} frame pairs, '
            f'{time.monotonic() - started:.0f} s)')

  def _compute(self, video: str) -> int:
    target = self.path(video)
    files.remove_stale_temporaries(target)  # A killed run's.
    writer = None
    options = pipeline.Options(recipe=RECIPE, workers=self.workers, progress=False,
                               flow_impl=self.flow_impl)
    try:
      for field in pipeline.iter_flow_fields(video, options):
        if writer is None:
          writer = NpyWriter(target, field.shape, np.float16)
        writer.append(transforms.flow_to_unit_range(field))
      pipeline.check_length(video, {'flow': writer.count if writer else 0}, options)
    except BaseException:
      if writer is not None:
        writer.abort()
      raise
    writer.close()
    return writer.count
