"""Classifying many videos on one machine, resumably.

Preprocessing runs in worker processes a few videos ahead while this process runs the
networks (loaded once), so decoding and TV-L1 overlap with the forward passes. Videos
are finished in the source's order; each result is written atomically when its video is
done, so a killed run loses at most the videos in flight, and a rerun skips the rest.
"""

import collections
import concurrent.futures
import dataclasses
import multiprocessing
import os
import shutil
import tempfile
from typing import Dict, Optional, Sequence

import tqdm

from classify import network
from classify import prepare
from classify import report
from classify import work
from classify.settings import Settings
from classify.sources import Video
from classify.store import LocalStore


@dataclasses.dataclass
class RunSummary:
  """What a run did: videos processed now, already done before, failed now; and the
  report over all videos (status counts, accuracy when labelled)."""
  processed: int
  skipped: int
  failed: int
  report: Dict


def classify_videos(videos: Sequence[Video], output_dir: str,
                    settings: Settings = Settings(), workers: Optional[int] = None,
                    retry_failed: bool = False, progress: Optional[bool] = None,
                    networks: Optional[network.Networks] = None) -> RunSummary:
  """Classifies `videos` into `output_dir` (see `classify.result` for the files).

  Args:
    videos: From `classify.list_videos`.
    output_dir: Results folder; a rerun into it skips the videos already done.
    settings: What to compute; must equal those of results already in `output_dir`.
    workers: Preprocessing processes; None uses every core.
    retry_failed: Try again the videos recorded as failed by an earlier run.
    progress: Show a progress bar over videos; None shows one on a terminal.
    networks: Already loaded networks for `settings` (to reuse them across runs).

  Raises:
    MissingCheckpointError: If a needed checkpoint is absent.
    SettingsMismatchError: If `output_dir` holds results of other settings.
    ValueError: If a video's label is not a class of the label map.
  """
  settings = settings.resolved()
  store = LocalStore(output_dir)
  networks = networks or network.Networks(settings.eval_type, settings.imagenet_pretrained,
                                          settings.checkpoint_dir, settings.precision)
  if networks.eval_type != settings.eval_type:
    raise ValueError(f'networks are for {networks.eval_type}, settings for '
                     f'{settings.eval_type}')
  work.check_labels(videos, networks.labels)
  work.claim_output(store, settings)
  store.remove_temporaries()
  todo = [v for v in videos if not work.is_done(store, v, retry_failed)]
  processed = failed = 0
  disable = None if progress is None else not progress
  bar = tqdm.tqdm(total=len(todo), unit='video', disable=disable, desc='classify')
  scratch = tempfile.mkdtemp(prefix='i3d-classify-')
  try:
    with _Preprocessing(workers, settings, scratch) as preprocessing:
      for video, paths in preprocessing.run(todo):
        if isinstance(paths, BaseException):
          work.record_failure(store, video, paths)
          failed += 1
        else:
          arrays = work.finish(store, video, work.load_inputs(paths), networks, settings)
          for path in paths.values():
            os.remove(path)
          processed += 1
          bar.set_postfix_str(str(arrays['top_k_classes'][0]), refresh=False)
        bar.update()
  finally:
    bar.close()
    shutil.rmtree(scratch, ignore_errors=True)
  summary = report.write_reports(store, videos, networks.labels)
  return RunSummary(processed, len(videos) - len(todo), failed, summary)


class _Preprocessing:
  """Worker processes preprocessing up to `workers + 1` videos ahead of the network."""

  def __init__(self, workers: Optional[int], settings: Settings, scratch: str):
    self.workers = workers or os.cpu_count() or 1
    if self.workers < 1:
      raise ValueError(f'workers must be at least 1, got {workers}')
    self._settings = settings
    self._scratch = scratch
    # Spawned, not forked: this process holds TensorFlow's threads.
    self._pool = concurrent.futures.ProcessPoolExecutor(
        self.workers, mp_context=multiprocessing.get_context('spawn'),
        initializer=prepare.start_worker)

  def _submit(self, index: int, video: Video) -> concurrent.futures.Future:
    # Scratch files are named by position: ids may be long or hold odd characters.
    return self._pool.submit(prepare.prepare, video.path, f'{index:08d}',
                             self._settings.modalities(), self._settings.recipe,
                             self._scratch)

  def run(self, videos: Sequence[Video]):
    """Yields `(video, {modality: scratch .npy path})` in order, or `(video, error)`
    for a video that could not be preprocessed."""
    pending = collections.deque()
    queue = iter(enumerate(videos))
    for index, video in queue:
      pending.append((video, self._submit(index, video)))
      if len(pending) > self.workers:
        break
    while pending:
      video, future = pending.popleft()
      for index, following in queue:
        pending.append((following, self._submit(index, following)))
        break
      try:
        yield video, future.result()
      except work.VIDEO_ERRORS as e:
        yield video, e

  def __enter__(self) -> '_Preprocessing':
    return self

  def __exit__(self, *exc) -> None:
    self._pool.shutdown(cancel_futures=True)
