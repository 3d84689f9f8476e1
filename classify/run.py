"""Classifying many videos on one machine, resumably.

Preprocessing runs in worker processes a few videos ahead while this process runs the
networks (loaded once), so decoding and TV-L1 overlap with the forward passes. Videos
are finished in the source's order; each result is written atomically when its video is
done, so a killed run loses at most the videos in flight, and a rerun skips the rest.
"""

import collections
import concurrent.futures
import dataclasses
import itertools
import multiprocessing
import os
import shutil
import tempfile
from typing import Dict, Optional, Sequence

import cv2
import tqdm

from classify import network
from classify import report
from classify import work
from classify.settings import Settings
from classify.sources import Video
from classify.store import LocalStore
import preprocess


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

  Preprocessing workers are spawned processes, so a script calling this needs the usual
  `if __name__ == '__main__':` guard around its main code.

  Args:
    videos: From `classify.list_videos`.
    output_dir: Results folder; a rerun into it skips the videos already done.
    settings: What to compute; must equal those of results already in `output_dir`.
    workers: Preprocessing processes; None uses every core.
    retry_failed: Try again the videos recorded as failed by an earlier run.
    progress: Show a progress bar over videos; None shows one on a terminal.
    networks: Already loaded networks for `settings` (to reuse them across runs);
      otherwise they are loaded while the first videos are preprocessed, and not at all
      when every video is done.

  Raises:
    MissingCheckpointError: If a needed checkpoint is absent.
    SettingsMismatchError: If `output_dir` holds results of other settings.
    ValueError: If a video's label is not a class of the label map.
  """
  settings = settings.resolved()
  store = LocalStore(output_dir)
  labels = network.check_checkpoints(settings.eval_type, settings.imagenet_pretrained,
                                     settings.checkpoint_dir)
  if networks is not None and networks.eval_type != settings.eval_type:
    raise ValueError(f'networks are for {networks.eval_type}, settings for '
                     f'{settings.eval_type}')
  work.check_labels(videos, labels)
  work.claim_output(store, settings)
  store.remove_temporaries()
  todo = [v for v in videos if not work.is_done(store, v, retry_failed)]
  processed = failed = 0
  disable = None if progress is None else not progress
  scratch = tempfile.mkdtemp(prefix='i3d-classify-')
  try:
    with _Preprocessing(workers, settings, scratch) as preprocessing:
      prepared = preprocessing.run(todo)  # Workers start on the first videos now...
      if todo and networks is None:  # ... while the networks load here.
        networks = network.Networks(settings.eval_type, settings.imagenet_pretrained,
                                    settings.checkpoint_dir, settings.precision)
      with tqdm.tqdm(total=len(todo), unit='video', disable=disable,
                     desc='classify') as bar:
        for video, paths in prepared:
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
    shutil.rmtree(scratch, ignore_errors=True)
  summary = report.write_reports(store, videos, labels)
  return RunSummary(processed, len(videos) - len(todo), failed, summary)


class _Preprocessing:
  """Worker processes preprocessing up to `workers + 1` videos ahead of the network."""

  def __init__(self, workers: Optional[int], settings: Settings, scratch: str):
    self.workers = workers or os.cpu_count() or 1
    if self.workers < 1:
      raise ValueError(f'workers must be at least 1, got {workers}')
    self._settings = settings
    self._scratch = scratch
    self._modalities = settings.modalities()
    self._options = work.preprocess_options(settings)
    # Spawned, not forked: this process holds TensorFlow's threads. Workers run only
    # `preprocess` (no TensorFlow), with the cores shared out as OpenCV threads.
    threads = max(1, (os.cpu_count() or 1) // self.workers)
    self._pool = concurrent.futures.ProcessPoolExecutor(
        self.workers, mp_context=multiprocessing.get_context('spawn'),
        initializer=cv2.setNumThreads, initargs=(threads,))

  def _submit(self, index: int, video: Video) -> concurrent.futures.Future:
    # Scratch files are named by position: ids may be long or hold odd characters.
    return self._pool.submit(preprocess.preprocess_video, video.path,
                             os.path.join(self._scratch, f'{index:08d}'), self._modalities,
                             self._options, gifs=False)

  def run(self, videos: Sequence[Video]):
    """Starts on the first videos at once; returns an iterator of `(video, {modality:
    scratch .npy path})` in order, or `(video, error)` for a video that could not be
    preprocessed."""
    queue = iter(enumerate(videos))
    pending = collections.deque(
        (video, self._submit(index, video))
        for index, video in itertools.islice(queue, self.workers + 1))
    return self._results(queue, pending)

  def _results(self, queue, pending):
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
