"""What both runners (local and Beam) do before the first video, in one place."""

import contextlib
import dataclasses
import json
import os
import shutil
import sys
import tempfile
from typing import Iterator, List, Optional, Sequence
import zipfile

from i3d import releases
from i3d.catalogue import Plan
from i3d.classify import result as result_lib
from i3d.classify.settings import Settings
from i3d.runtime import backends
from i3d.system import claims
from i3d.system import files
from i3d.system.lock import folder_lock
from i3d.system.shards import Shard
from i3d.system.store import LocalStore, Store, is_local, open_store
from i3d.videosets.sources import Video


@dataclasses.dataclass(frozen=True)
class Launch:
  """A run ready to start, its output folder held.

  Attributes:
    plan: The networks and classes, resolved once.
    settings: The run's settings, the precision resolved (`auto` -> what it chose).
    store: The output folder, claimed for these settings.
    todo: The videos without a result (or a failure record, unless retried), of the
      run's shard if it has one.
    assigned: How many videos of the list are the run's (its shard's, or all).
    scratch: A local folder for the run's temporary arrays, removed at its end (and, if
      a killed run left it, at the next run's start).
  """
  plan: Plan
  settings: Settings
  store: Store
  todo: List[Video]
  scratch: str
  assigned: int


@contextlib.contextmanager
def launched(videos: Sequence[Video], output_dir: str, settings: Settings,
             retry_failed: bool = False, program: str = 'classify',
             plan: Optional[Plan] = None, shard: Optional[Shard] = None) -> Iterator[Launch]:
  """Everything a run does before its first video, the same for every runner.

  In order: resolves the plan (checkpoints found, labels read; says on stderr what
  `auto` chose when it is not joint) and the precision (saying what `auto` chose, or
  warning of bfloat16 without bfloat16 units); checks every checkpoint's files and the
  videos' labels; then, with nothing written before, takes the output folder's lock
  (local folders; held for the block), claims the folder for these settings, removes
  what a killed run was writing there, and lists the videos left to do.

  Args:
    videos: From `classify.list_videos`.
    output_dir: The results folder (local, or any Beam filesystem).
    settings: What to compute.
    retry_failed: List the videos recorded as failed as left to do.
    program: Names the messages on stderr.
    plan: `settings.make_plan()`, if the caller has it already.
    shard: One shard of an array job (`i3d.system.shards`): only its videos are done,
      beside the other shards' runs in the same (local) folder.

  Raises:
    MissingCheckpointError: If a needed checkpoint is absent; nothing is written.
    CheckpointMismatchError: If a checkpoint is damaged or of another layout; nothing
      is written.
    ValueError: If a video's label is not a class of the label map, or the precision
      cannot run here (`PrecisionError`); nothing is written.
    FolderBusyError: If another run holds the output folder.
    SettingsMismatchError: If `output_dir` holds results of other settings.
  """
  plan = plan or settings.make_plan()
  note = plan.note()
  if note:
    print(f'{program}: {note}', file=sys.stderr)
  choice = backends.choose_precision(settings.backend, settings.precision)
  if choice.message:
    print(f'{program}: {choice.message}', file=sys.stderr)
  settings = dataclasses.replace(settings, precision=choice.precision)
  for stream in plan.streams:
    releases.verify_stream(stream)
  check_labels(videos, plan.labels)
  store = open_store(output_dir)
  local = is_local(output_dir)
  if shard and not local:
    raise ValueError(f'{output_dir}: shards share a local (or network-mounted) folder')
  lock = folder_lock(store.root, shard and str(shard.index)) if local else (
      contextlib.nullcontext())
  with lock:
    claim_output(store, settings, plan)
    store.remove_temporaries(result_lib.VIDEOS)
    if local:
      check_no_climbing_ids(store.path(result_lib.VIDEOS))
      # Under the lock: a scratch folder there is a killed run's.
      scratch = store.path(result_lib.SCRATCH + (f'.{shard.index}' if shard else ''))
      shutil.rmtree(scratch, ignore_errors=True)
      os.makedirs(scratch)
    else:
      scratch = tempfile.mkdtemp(prefix='i3d-classify-')
    mine = [v for v in videos if shard is None or shard.holds(v.id)]
    todo = [v for v in mine if not is_done(store, v, retry_failed)]
    try:
      yield Launch(plan, settings, store, todo, scratch, len(mine))
    finally:
      shutil.rmtree(scratch, ignore_errors=True)


def check_no_climbing_ids(folder: str) -> None:
  """Refuses a folder of results named by the ids of versions before 2026-11-30, which
  named a video outside its list's folder by the climb out of it (`..__..__data__x`, a
  hidden file); the same videos now have other ids (`data__x`), so a rerun would redo
  them beside the old files."""
  if not os.path.isdir(folder):
    return
  old = sorted(name for name in os.listdir(folder)
               if name.startswith(os.pardir + '__') and not name.endswith('.tmp'))
  if old:
    raise ValueError(
        f'{os.path.join(folder, old[0])}: a result named by an earlier version\'s id, '
        f'which climbed out of the list\'s folder ({len(old)} such files); videos '
        'outside it are now named by their absolute path (see i3d.videosets.sources): '
        'use another --output_dir, or remove those files to redo them')


def check_labels(videos: Sequence[Video], labels: Sequence[str]) -> None:
  known = set(labels)
  for video in videos:
    if video.label is not None and video.label not in known:
      raise ValueError(f'{video.path}: label {video.label!r} is not one of the '
                       f'{len(labels)} classes of the label map')


def claim_output(store: Store, settings: Settings, plan: Plan) -> None:
  """Records the run's settings in `run.json`, or checks that they are those of the
  results already there: one folder never mixes results of different settings."""
  claims.claim_settings(
      store, result_lib.RUN_FILE,
      json.dumps(settings.identity(plan), indent=1, sort_keys=True).encode(),
      '{path}: results there were made with other settings ({changes}); use another '
      'output folder or the same settings', holds_results=_holds_results(store))


def _holds_results(store: Store) -> bool:
  """Whether a run left anything in the folder's results (a local folder is looked in;
  another filesystem's is taken to hold some)."""
  if not isinstance(store, LocalStore):
    return True
  folder = store.path(result_lib.VIDEOS)
  return os.path.isdir(folder) and any(not files.is_temporary(n) for n in os.listdir(folder))


def is_done(store: Store, video: Video, retry_failed: bool = False,
            program: str = 'classify') -> bool:
  """Whether a video has its result, or has failed and failures are not retried.

  A result or failure record that is damaged (a local result whose zip directory is
  unreadable, a record that is not JSON) is moved aside as `<name>.damaged`, said in one
  line on stderr, and the video counts as not done.
  """
  result = result_lib.result_name(video.id)
  if store.exists(result):
    if not isinstance(store, LocalStore) or _opens_as_zip(store.path(result)):
      return True
    result_lib.set_aside(store, result, 'not a whole .npz', program)
  failure = result_lib.failure_name(video.id)
  if retry_failed or not store.exists(failure):
    return False
  try:
    json.loads(store.read(failure))
    return True
  except ValueError as e:
    result_lib.set_aside(store, failure, f'not JSON ({e})', program)
    return False


def _opens_as_zip(path: str) -> bool:
  """Whether a file's zip directory reads (a cut file's does not); cheap: it is at the
  end of the file."""
  try:
    with zipfile.ZipFile(path):
      return True
  except (zipfile.BadZipFile, OSError, ValueError):
    return False

