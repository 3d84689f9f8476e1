"""Extracting the features of many videos into one folder, resumably.

As classification does it: preprocessing in worker processes a few videos ahead of the
networks (loaded once), each video's files written atomically when it is done, a killed
run's leftovers removed by the next, which skips what is done. The folder holds:
  <video id>.npy        float32 [N, D], or [N, crops, D] (see `features.extract`)
  features.csv          the index: id, path, file, frames, fps, snippets, snippet_frames,
                        start_times (seconds, space-separated), one row per video done
  meta/<video id>.json  what the index row is made from; written last, it marks the
                        video done
  meta/<video id>.failed.json   a video that could not be read, and why
  run.json              the settings (a rerun must bring the same)
"""

import concurrent.futures.process
import csv
import dataclasses
import functools
import io
import json
import os
import shutil
import sys
from typing import Dict, List, Optional, Sequence, Tuple
import warnings

import cv2
import numpy as np
import tqdm

from i3d import releases
from i3d.runtime import networks as network
from i3d.classify import scratch
from i3d.features import extract
from i3d.features.settings import FeatureSettings
from i3d.preprocess import NATIVE
from i3d.preprocess import video as video_lib
from i3d.runtime import backends
from i3d.system import claims
from i3d.system import faults
from i3d.system.lock import folder_lock
from i3d.system.pool import OrderedMap
from i3d.system.shards import Shard
from i3d.system.store import is_local, LocalStore
from i3d.videosets.sources import Video

INDEX = 'features.csv'
RUN_FILE = 'run.json'
META = 'meta'
SCRATCH = '.scratch'
INDEX_COLUMNS = ('id', 'path', 'file', 'frames', 'fps', 'snippets', 'snippet_frames',
                 'start_times')
MACHINE_FAULTS = (OSError, MemoryError, concurrent.futures.process.BrokenProcessPool)


def feature_name(video_id: str) -> str:
  return f'{video_id}.npy'


def meta_name(video_id: str) -> str:
  return f'{META}/{video_id}.json'


def failure_name(video_id: str) -> str:
  return f'{META}/{video_id}.failed.json'


@dataclasses.dataclass
class RunSummary:
  """Videos processed now, already done before, failed now; failed in all; and, of those
  with features, how many were cut short (used as far as they decoded)."""
  processed: int
  skipped: int
  failed: int
  failed_in_all: int
  cut_short: int = 0


def extract_videos(videos: Sequence[Video], output_dir: str,
                   settings: FeatureSettings = FeatureSettings(),
                   workers: Optional[int] = None, retry_failed: bool = False,
                   progress: Optional[bool] = None,
                   networks: Optional[network.Networks] = None,
                   shard: Optional[Shard] = None) -> RunSummary:
  """Writes the features of `videos` into the local folder `output_dir`; with `shard`,
  only that shard's (`i3d.system.shards`), beside the other shards' runs, the index
  then written by the shard that finds every video done.

  Raises:
    MissingCheckpointError: If a needed checkpoint (flow's, for two streams) is absent.
    CheckpointMismatchError: If a checkpoint is damaged or of another layout.
    SettingsMismatchError: If `output_dir` holds features of other settings.
    FolderBusyError: If another run holds `output_dir`.
    ValueError: If `output_dir` is not a local folder.
    MachineError: On an error of the machine; nothing is recorded as failed.
  """
  if not is_local(output_dir):
    raise ValueError(f'{output_dir}: --output_dir must be a local folder')
  plan = settings.make_plan()
  choice = backends.choose_precision(settings.backend, settings.precision)
  if choice.message:
    print(f'features: {choice.message}', file=sys.stderr)
  settings = dataclasses.replace(settings, precision=choice.precision)
  for stream in plan.streams:
    releases.verify_stream(stream)
  workers = workers or os.cpu_count() or 1
  store = LocalStore(output_dir)
  with folder_lock(output_dir, shard and str(shard.index)):
    claims.claim_settings(
        store, RUN_FILE, json.dumps(settings.identity(plan), indent=1, sort_keys=True).encode(),
        '{path}: features there were made with other settings ({changes}); use another '
        'output folder or the same settings')
    for folder in ('', META):
      store.remove_temporaries(folder)  # A killed run's.
    scratch_dir = store.path(SCRATCH + (f'.{shard.index}' if shard else ''))
    shutil.rmtree(scratch_dir, ignore_errors=True)
    os.makedirs(scratch_dir)
    mine = [v for v in videos if shard is None or shard.holds(v.id)]
    todo = [v for v in mine if not _is_done(store, v, retry_failed)]
    try:
      processed, failed = _extract(store, todo, plan, settings, scratch_dir, workers,
                                   progress, networks)
      if shard is None or all(_is_done(store, v, False) for v in videos):
        write_index(store, videos)
    except MACHINE_FAULTS as e:
      raise faults.as_machine_error(e) from e
    finally:
      shutil.rmtree(scratch_dir, ignore_errors=True)
  failed_in_all = sum(store.exists(failure_name(v.id)) for v in videos)
  return RunSummary(processed, len(mine) - len(todo), failed, failed_in_all,
                    sum(_was_cut_short(store, v) for v in videos))


def _was_cut_short(store: LocalStore, video: Video) -> bool:
  meta = store.read(meta_name(video.id))
  try:
    return bool(meta and json.loads(meta).get('warnings'))
  except ValueError:  # Damaged: redone by the next run, which says so.
    return False


def _is_done(store: LocalStore, video: Video, retry_failed: bool) -> bool:
  if store.exists(meta_name(video.id)) and store.exists(feature_name(video.id)):
    return True
  return not retry_failed and store.exists(failure_name(video.id))


def _extract(store: LocalStore, todo: List[Video], plan, settings: FeatureSettings,
             scratch_dir: str, workers: int, progress: Optional[bool],
             networks: Optional[network.Networks]) -> Tuple[int, int]:
  processed = failed = 0
  jobs = [(video.path, os.path.join(scratch_dir, f'{index:08d}'))
          for index, video in enumerate(todo)]
  preprocess_job = functools.partial(
      scratch.try_preprocess_to_scratch, modalities=plan.modalities, recipe=settings.recipe,
      flow_impl=settings.flow_impl, crop=settings.crop, fps=settings.fps,
      refuse_cut_short=settings.refuse_cut_short)
  threads = max(1, (os.cpu_count() or 1) // workers)
  with OrderedMap(preprocess_job, jobs, processes=workers, ahead=workers + 1,
                  initializer=cv2.setNumThreads, initargs=(threads,)) as prepared:
    if todo and networks is None:  # Loaded while the workers start on the videos.
      networks = backends.load_for(plan, settings)
    with tqdm.tqdm(total=len(todo), unit='video', desc='features',
                   disable=None if progress is None else not progress) as bar:
      for video, outcome in zip(todo, prepared):
        if isinstance(outcome, BaseException):
          store.write(failure_name(video.id), json.dumps(
              {'id': video.id, 'path': video.path, 'error': str(outcome)}, indent=1).encode())
          failed += 1
        else:
          paths, notes = outcome
          _write_video(store, video, scratch.load_inputs(paths), networks, settings, notes)
          for path in paths.values():
            os.remove(path)
          processed += 1
        bar.update()
  return processed, failed


def _write_video(store: LocalStore, video: Video, inputs: Dict[str, np.ndarray],
                 networks: network.Networks, settings: FeatureSettings,
                 notes: Sequence[str]) -> None:
  features, starts, length = extract.video_features(inputs, networks, settings)
  fps = video_lib.probe(video.path).fps if settings.fps == NATIVE else float(settings.fps)
  buffer = io.BytesIO()
  np.save(buffer, features, allow_pickle=False)
  store.write(feature_name(video.id), buffer.getvalue())
  meta = {'id': video.id, 'path': video.path, 'frames': {m: int(a.shape[1])
                                                          for m, a in inputs.items()},
          'fps': fps, 'snippet_frames': length, 'snippet_starts': starts,
          'shape': list(features.shape)}
  if notes:
    meta['warnings'] = list(notes)
    for note in notes:  # One line each on stderr (the command's warnings).
      warnings.warn(video_lib.ShortVideoWarning(note), stacklevel=2)
  store.write(meta_name(video.id), json.dumps(meta, indent=1).encode())
  store.remove(failure_name(video.id))


def write_index(store: LocalStore, videos: Sequence[Video]) -> None:
  """`features.csv` over every video done, in the list's order."""
  out = io.StringIO()
  writer = csv.writer(out, lineterminator='\n')
  writer.writerow(INDEX_COLUMNS)
  for video in videos:
    data = store.read(meta_name(video.id))
    if data is None or not store.exists(feature_name(video.id)):
      continue
    meta = json.loads(data)
    fps = meta['fps']
    writer.writerow([meta['id'], meta['path'], feature_name(meta['id']),
                     min(meta['frames'].values()), f'{fps:.6g}', len(meta['snippet_starts']),
                     meta['snippet_frames'],
                     ' '.join(f'{s / fps:.6f}' for s in meta['snippet_starts'])])
  store.write(INDEX, out.getvalue().encode())
