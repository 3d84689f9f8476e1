"""Classifying many videos on one machine, resumably.

Preprocessing runs in worker processes a few videos ahead while this process runs the
networks (loaded once), so decoding and TV-L1 overlap with the forward passes. Videos
are finished in the source's order; each result is written atomically when its video is
done, so a killed run loses at most the videos in flight, and a rerun skips the rest.
"""

import concurrent.futures.process
import dataclasses
import functools
import os
from typing import Dict, Optional, Sequence, Tuple

import cv2
import tqdm

from i3d.classify import launch as launch_lib
from i3d.classify import report
from i3d.classify import scratch
from i3d.classify import work
from i3d.classify.settings import Settings
from i3d.runtime import backends
from i3d.runtime import networks as network
from i3d.system import faults
from i3d.system.lock import folder_lock
from i3d.system.pool import OrderedMap
from i3d.system.shards import Shard
from i3d.system.store import open_store
from i3d.videosets.sources import Video

# What the machine raises: full or read-only disks, memory, a worker killed.
MACHINE_FAULTS = (OSError, MemoryError, concurrent.futures.process.BrokenProcessPool)


@dataclasses.dataclass
class RunSummary:
  """What a run did: videos processed now, already done before, failed now; and the
  report over all videos (status counts, accuracy when labelled), None when a shard
  ended before others and wrote none."""
  processed: int
  skipped: int
  failed: int
  report: Optional[Dict]


def classify_videos(videos: Sequence[Video], output_dir: str,
                    settings: Settings = Settings(), workers: Optional[int] = None,
                    retry_failed: bool = False, progress: Optional[bool] = None,
                    networks: Optional[network.Networks] = None,
                    shard: Optional[Shard] = None) -> RunSummary:
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
    shard: Do only this shard's videos (`i3d.system.shards`), beside the other shards'
      runs in `output_dir`; the summary and accuracy files are written by the shard
      that finds every video of the list done (or by `summarize`).

  Raises:
    MissingCheckpointError: If a needed checkpoint is absent.
    CheckpointMismatchError: If a checkpoint is damaged or of another layout.
    SettingsMismatchError: If `output_dir` holds results of other settings.
    FolderBusyError: If another run holds `output_dir` (a run of the whole list, or of
      the same shard; shards run beside each other).
    ValueError: If a video's label is not a class of the label map.
    MachineError: On an error of the machine (no space, a read-only or vanished
      folder, out of memory, a worker killed): nothing is recorded as failed, and a
      rerun goes on from there.
  """
  plan = settings.make_plan()
  if networks is not None and networks.eval_type != plan.eval_type:
    raise ValueError(f'networks are for {networks.eval_type}, settings for '
                     f'{plan.eval_type}')
  if networks is not None and settings.multilabel and not networks.per_time:
    raise ValueError('multi-label settings need networks with per_time')
  workers = workers or os.cpu_count() or 1
  if workers < 1:
    raise ValueError(f'workers must be at least 1, got {workers}')
  with launch_lib.launched(videos, output_dir, settings, retry_failed,
                           plan=plan, shard=shard) as run:
    try:
      processed, failed = _classify(run, workers, progress, networks)
    except MACHINE_FAULTS as e:  # Inputs are checked: only the machine fails now.
      raise faults.as_machine_error(e) from e
    # A shard checks after its last write: the shard that finishes last sees every
    # video done, whatever the order (two that finish together write the same files).
    summary = None
    if shard is None or all(launch_lib.is_done(run.store, v) for v in videos):
      summary = report.write_reports(run.store, videos, plan.labels)
  return RunSummary(processed, run.assigned - len(run.todo), failed, summary)


def summarize(videos: Sequence[Video], output_dir: str,
              settings: Settings = Settings()) -> Dict:
  """Writes the summary (and accuracy) files of `output_dir` over `videos` from what is
  there, computing nothing: for array jobs whose shards ended unfinished. Runs beside
  shards, not beside a run of the whole list.

  Raises:
    SettingsMismatchError: If `output_dir` holds results of other settings.
    FolderBusyError: If a run of the whole list holds `output_dir`.
  """
  plan = settings.make_plan()
  settings = dataclasses.replace(
      settings,
      precision=backends.choose_precision(settings.backend, settings.precision).precision)
  store = open_store(output_dir)
  with folder_lock(output_dir, 'summary'):
    launch_lib.claim_output(store, settings, plan)
    return report.write_reports(store, videos, plan.labels)


def _classify(run: launch_lib.Launch, workers: int, progress: Optional[bool],
              networks: Optional[network.Networks]) -> Tuple[int, int]:
  """Preprocesses (in workers) and classifies the videos left to do; returns how many
  were processed and how many failed."""
  processed = failed = 0
  settings = run.settings
  # Scratch files are named by position: ids may be long or hold odd characters.
  jobs = [(video.path, os.path.join(run.scratch, f'{index:08d}'))
          for index, video in enumerate(run.todo)]
  preprocess_job = functools.partial(scratch.try_preprocess_to_scratch,
                                     modalities=run.plan.modalities, recipe=settings.recipe,
                                     flow_impl=settings.flow_impl, crop=settings.crop,
                                     refuse_cut_short=settings.refuse_cut_short)
  # Workers run only `preprocess` (no TensorFlow), up to `workers + 1` videos ahead of
  # the networks, with the cores shared out as OpenCV threads.
  threads = max(1, (os.cpu_count() or 1) // workers)
  with OrderedMap(preprocess_job, jobs, processes=workers, ahead=workers + 1,
                  initializer=cv2.setNumThreads, initargs=(threads,)) as prepared:
    if run.todo and networks is None:  # Loaded while the workers start on the videos.
      networks = backends.load_for(run.plan, settings, settings.multilabel)
    with tqdm.tqdm(total=len(run.todo), unit='video',
                   disable=None if progress is None else not progress,
                   desc='classify') as bar:
      for video, outcome in zip(run.todo, prepared):
        if isinstance(outcome, BaseException):
          work.record_failure(run.store, video, outcome)
          failed += 1
        else:
          paths, notes = outcome
          arrays = work.classify_and_write(run.store, video, scratch.load_inputs(paths),
                                           networks, settings, notes)
          for path in paths.values():
            os.remove(path)
          processed += 1
          bar.set_postfix_str(str(arrays['top_k_classes'][0]), refresh=False)
        bar.update()
  return processed, failed

