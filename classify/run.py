"""Classifying many videos on one machine, resumably.

Preprocessing runs in worker processes a few videos ahead while this process runs the
networks (loaded once), so decoding and TV-L1 overlap with the forward passes. Videos
are finished in the source's order; each result is written atomically when its video is
done, so a killed run loses at most the videos in flight, and a rerun skips the rest.
"""

import dataclasses
import functools
import os
import shutil
import tempfile
from typing import Dict, Optional, Sequence

import cv2
from i3d_assets.pool import OrderedMap
import tqdm

from classify import launch as launch_lib
from classify import network
from classify import report
from classify import scratch
from classify import work
from classify.settings import Settings
from classify.sources import Video


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
  plan = settings.make_plan()
  if networks is not None and networks.eval_type != plan.eval_type:
    raise ValueError(f'networks are for {networks.eval_type}, settings for '
                     f'{plan.eval_type}')
  workers = workers or os.cpu_count() or 1
  if workers < 1:
    raise ValueError(f'workers must be at least 1, got {workers}')
  run = launch_lib.launch(videos, output_dir, settings, retry_failed, plan=plan)
  settings = run.settings
  processed = failed = 0
  disable = None if progress is None else not progress
  folder = tempfile.mkdtemp(prefix='i3d-classify-')
  # Scratch files are named by position: ids may be long or hold odd characters.
  jobs = [(video.path, os.path.join(folder, f'{index:08d}'))
          for index, video in enumerate(run.todo)]
  preprocess_job = functools.partial(scratch.try_preprocess_to_scratch,
                                     modalities=plan.modalities, recipe=settings.recipe)
  # Workers run only `preprocess` (no TensorFlow), up to `workers + 1` videos ahead of
  # the networks, with the cores shared out as OpenCV threads.
  threads = max(1, (os.cpu_count() or 1) // workers)
  try:
    with OrderedMap(preprocess_job, jobs, processes=workers, ahead=workers + 1,
                    initializer=cv2.setNumThreads, initargs=(threads,)) as prepared:
      if run.todo and networks is None:  # Loaded while the workers start on the videos.
        networks = network.Networks(plan, settings.precision)
      with tqdm.tqdm(total=len(run.todo), unit='video', disable=disable,
                     desc='classify') as bar:
        for video, paths in zip(run.todo, prepared):
          if isinstance(paths, BaseException):
            work.record_failure(run.store, video, paths)
            failed += 1
          else:
            arrays = work.classify_and_write(run.store, video, scratch.load_inputs(paths),
                                             networks, settings)
            for path in paths.values():
              os.remove(path)
            processed += 1
            bar.set_postfix_str(str(arrays['top_k_classes'][0]), refresh=False)
          bar.update()
  finally:
    shutil.rmtree(folder, ignore_errors=True)
  summary = report.write_reports(run.store, videos, plan.labels)
  return RunSummary(processed, len(videos) - len(run.todo), failed, summary)
