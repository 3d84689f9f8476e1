"""What both runners (local and Beam) do before the first video, in one place."""

import dataclasses
import json
import sys
from typing import List, Optional, Sequence

from i3d import precision as precision_lib
from i3d_assets.store import Store, open_store
from i3d_catalogue import Plan

from classify import store as names
from classify.settings import Settings
from classify.sources import Video


class SettingsMismatchError(ValueError):
  """The output folder holds results made with other settings."""


@dataclasses.dataclass(frozen=True)
class Launch:
  """A run ready to start.

  Attributes:
    plan: The networks and classes, resolved once.
    settings: The run's settings, the precision resolved (`auto` -> what it chose).
    store: The output folder, claimed for these settings.
    todo: The videos without a result (or a failure record, unless retried).
  """
  plan: Plan
  settings: Settings
  store: Store
  todo: List[Video]


def launch(videos: Sequence[Video], output_dir: str, settings: Settings,
           retry_failed: bool = False, program: str = 'classify',
           plan: Optional[Plan] = None) -> Launch:
  """Resolves the plan (checkpoints found, labels read; says on stderr what `auto`
  chose when it is not joint) and the precision (saying what `auto` chose, or warning
  of bfloat16 without bfloat16 units), checks the videos' labels, claims the output folder,
  removes what a killed run was writing there, and lists the videos left to do.

  Args:
    videos: From `classify.list_videos`.
    output_dir: The results folder (local, or any Beam filesystem).
    settings: What to compute.
    retry_failed: List the videos recorded as failed as left to do.
    program: Names the messages on stderr.
    plan: `settings.make_plan()`, if the caller has it already.

  Raises:
    MissingCheckpointError: If a needed checkpoint is absent; nothing is written.
    ValueError: If a video's label is not a class of the label map, or the precision
      cannot run here (`PrecisionError`); nothing is written.
    SettingsMismatchError: If `output_dir` holds results of other settings.
  """
  plan = plan or settings.make_plan()
  if plan.note():
    print(f'{program}: {plan.note()}', file=sys.stderr)
  choice = precision_lib.choose(settings.precision)
  if choice.message:
    print(f'{program}: {choice.message}', file=sys.stderr)
  settings = dataclasses.replace(settings, precision=choice.precision)
  check_labels(videos, plan.labels)
  store = open_store(output_dir)
  claim_output(store, settings, plan)
  store.remove_temporaries(names.VIDEOS)
  todo = [v for v in videos if not is_done(store, v, retry_failed)]
  return Launch(plan, settings, store, todo)


def check_labels(videos: Sequence[Video], labels: Sequence[str]) -> None:
  known = set(labels)
  for video in videos:
    if video.label is not None and video.label not in known:
      raise ValueError(f'{video.path}: label {video.label!r} is not one of the '
                       f'{len(labels)} classes of the label map')


def claim_output(store: Store, settings: Settings, plan: Plan) -> None:
  """Records the run's settings in `run.json`, or checks that they are those of the
  results already there: one folder never mixes results of different settings."""
  identity = settings.identity(plan)
  existing = store.read(names.RUN_FILE)
  if existing is None:
    store.write(names.RUN_FILE, json.dumps(identity, indent=1, sort_keys=True).encode())
    return
  previous = json.loads(existing)
  changed = [f'{key}={previous.get(key)!r} there, {value!r} now'
             for key, value in identity.items() if previous.get(key) != value]
  if changed:
    raise SettingsMismatchError(
        f'{store.path(names.RUN_FILE)}: results there were made with other settings '
        f'({"; ".join(changed)}); use another output folder or the same settings')


def is_done(store: Store, video: Video, retry_failed: bool = False) -> bool:
  """Whether a video has its result, or has failed and failures are not retried."""
  if store.exists(names.result_name(video.id)):
    return True
  return not retry_failed and store.exists(names.failure_name(video.id))
