"""Reading and writing the original release's TF1 checkpoints, strictly.

The release has three name layouts for the same variables (see `LAYOUTS`). A model
variable's path below the model (`Mixed_4b/Branch_1/Conv3d_0b_3x3/conv_3d/w`) is found
in a checkpoint under a scope prefix (`RGB/inception_i3d/`, `Flow/inception_i3d/`, or
none). Loading is all or nothing: every model variable must be there with a compatible
shape, and nothing else may be (optimizer slots aside), or nothing is assigned.
"""

import dataclasses
import os
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from i3d.catalogue import CHECKPOINT_BASENAME, checkpoint_prefix
from i3d.quiet_tf import tf
from i3d.system import files

# The first variable of every layout; its scope prefix tells the layout.
_FIRST_VARIABLE = 'Conv3d_1a_7x7/conv_3d/w'
# Checkpoint entries that are not model variables and are never an error.
_OPTIMIZER_SLOTS = ('/Momentum', '/Adam', '/Adam_1', '/RMSProp', '/RMSProp_1')
_BOOKKEEPING = ('global_step',)
# Key of the object graph in TF2 object-based (tf.train.Checkpoint) checkpoints.
_OBJECT_GRAPH_KEY = '_CHECKPOINTABLE_OBJECT_GRAPH'


@dataclasses.dataclass(frozen=True)
class Layout:
  """How a release checkpoint names and shapes the model's variables.

  Attributes:
    scope: Prefix of every variable name, e.g. `RGB/inception_i3d/`.
    batch_norm_rank5: Whether batch-norm parameters are stored as `[1, 1, 1, 1, C]`
      (the Kinetics-600 checkpoint) rather than `[C]`.
  """
  scope: str
  batch_norm_rank5: bool = False


LAYOUTS = {
    'rgb': Layout('RGB/inception_i3d/'),
    'flow': Layout('Flow/inception_i3d/'),
    'kinetics600': Layout('', batch_norm_rank5=True),
}


class CheckpointMismatchError(ValueError):
  """A checkpoint's variables do not match the model's; nothing was loaded."""


def model_variables(model: tf.Module) -> Dict[str, tf.Variable]:
  """The model's variables by their path below the model, e.g. `Logits/.../conv_3d/b`."""
  scope = model.name_scope.name
  variables = {}
  for variable in model.variables:
    name = variable.name[:-2] if variable.name.endswith(':0') else variable.name
    if not name.startswith(scope):
      raise ValueError(f'variable {variable.name} is outside the model scope {scope}')
    variables[name[len(scope):]] = variable
  return variables


def is_built(model: tf.Module) -> bool:
  """Whether the model has created its variables (Sonnet raises when it has none)."""
  try:
    return bool(model.variables)
  except ValueError:
    return False


def build(model: tf.Module, channels: int) -> None:
  """Creates the model's variables with a call on the smallest input it accepts."""
  inputs = tf.zeros((1,) + tuple(model.min_input_size()) + (channels,),
                    getattr(model, 'dtype', tf.float32))
  model(inputs, is_training=False)


def _is_ignored(name: str) -> bool:
  return name.endswith(_OPTIMIZER_SLOTS) or name.split('/')[-1] in _BOOKKEEPING


def detect_scope(shapes: Mapping[str, List[int]], path: str) -> str:
  """The scope prefix of the only I3D in a checkpoint's `{name: shape}`."""
  scopes = sorted(name[:-len(_FIRST_VARIABLE)] for name in shapes
                  if name.endswith(_FIRST_VARIABLE) and not _is_ignored(name))
  if not scopes:
    raise CheckpointMismatchError(
        f'{path}: no I3D variables (no name ends in {_FIRST_VARIABLE})')
  if len(scopes) > 1:
    raise CheckpointMismatchError(
        f'{path}: holds several I3Ds, under scopes {scopes}; pass scope= to choose one')
  return scopes[0]


# What TensorFlow's checkpoint reader raises on a damaged file: an index that is not an
# sstable, a data file cut short or with a wrong checksum.
_READ_ERRORS = (tf.errors.OpError, IndexError, ValueError)


def _first_line(error: BaseException) -> str:
  text = getattr(error, 'message', None) or str(error)
  return text.strip().splitlines()[0] if text.strip() else type(error).__name__


def _open(prefix: str):
  """The reader of a checkpoint and its `{name: shape}`; a damaged index is an error
  naming the file."""
  try:
    reader = tf.train.load_checkpoint(prefix)
  except _READ_ERRORS as e:
    raise CheckpointMismatchError(f'{prefix}.index: damaged or not a checkpoint index '
                                  f'({_first_line(e)})') from e
  return reader, reader.get_variable_to_shape_map()


def _read(reader, prefix: str, name: str) -> np.ndarray:
  """A tensor, its size and crc32c checked by TensorFlow's reader."""
  try:
    return reader.get_tensor(name)
  except _READ_ERRORS as e:
    raise CheckpointMismatchError(f'{prefix}.data-*: variable {name} is damaged '
                                  f'({_first_line(e)})') from e


def read_tensors(prefix: str) -> Tuple[Dict[str, np.ndarray], str]:
  """Every tensor of the one I3D in a checkpoint, by its name below the scope, and the
  scope (optimizer slots and bookkeeping left out).

  Raises:
    CheckpointMismatchError: Naming the file, and for damaged data the variable.
  """
  reader, shapes = _open(prefix)
  scope = detect_scope(shapes, prefix)
  return {name[len(scope):]: _read(reader, prefix, name) for name in sorted(shapes)
          if name.startswith(scope) and not _is_ignored(name)}, scope


def _check_scope(shapes: Mapping[str, List[int]], scope: str, prefix: str) -> None:
  if scope + _FIRST_VARIABLE not in shapes:
    found = sorted(name[:-len(_FIRST_VARIABLE)] or '(no scope)' for name in shapes
                   if name.endswith(_FIRST_VARIABLE) and not _is_ignored(name))
    raise CheckpointMismatchError(
        f'{prefix}: no I3D under the scope {scope!r} (it holds '
        f'{", ".join(found) or "no I3D"}): another layout than the one expected')


def verify(prefix: str, scope: str, channels: int, num_classes: int) -> None:
  """Checks a TF1 checkpoint before any work: its index readable, every tensor read
  (TensorFlow checks each one's size and crc32c), an I3D under `scope` for
  `channels`-channel inputs and `num_classes` classes. Loading it (`load_checkpoint`)
  then checks every variable's name and shape.

  Raises:
    CheckpointMismatchError: Naming the file and, for damaged data, the variable.
  """
  reader, shapes = _open(prefix)
  _check_scope(shapes, scope, prefix)
  first = shapes[scope + _FIRST_VARIABLE]
  logits = shapes.get(scope + 'Logits/Conv3d_0c_1x1/conv_3d/w')
  if first[3] != channels or logits is None or logits[-1] != num_classes:
    raise CheckpointMismatchError(
        f'{prefix}: an I3D for {first[3]}-channel inputs and '
        f'{logits[-1] if logits else "no"} classes, where {channels} and {num_classes} '
        'were expected')
  for name in sorted(shapes):
    _read(reader, prefix, name)


def _summarise(items: List[str], limit: int = 8) -> str:
  shown = ', '.join(items[:limit])
  return shown + (f' and {len(items) - limit} more' if len(items) > limit else '')


def load_checkpoint(model: tf.Module, path: str, scope: Optional[str] = None,
                    exclude: Sequence[str] = ()) -> str:
  """Restores a release (TF1) or `tf.train.Checkpoint` checkpoint into `model`.

  Builds the model's variables first if it has none, for the input channels that the
  checkpoint's first convolution expects.

  Args:
    model: An `InceptionI3d`.
    path: A checkpoint prefix, or a directory with a `checkpoint` file or `model.ckpt.*`.
    scope: The name prefix of the model's variables in a TF1 checkpoint, e.g.
      `Flow/inception_i3d/`; found from the names when there is only one I3D in it.
    exclude: Prefixes of the names below the model (`Logits/`) to leave as they are:
      neither read nor required, in the model or the checkpoint (a new logits layer
      for another label set). Everything else is loaded strictly. TF1 checkpoints only.

  Returns:
    The checkpoint prefix that was read.

  Raises:
    FileNotFoundError: If there is no checkpoint at `path`.
    CheckpointMismatchError: If a model variable is missing or has another shape, or
      the checkpoint holds variables that the model lacks; nothing is assigned then.
  """
  prefix = checkpoint_prefix(path)
  load_prefix(model, prefix, scope, exclude)
  return prefix


def logits_classes(prefix: str) -> Optional[int]:
  """The number of classes of the I3D in a checkpoint (its logits' width; TF1 or
  object-based), None without logits; a damaged index is an error naming the file."""
  _, shapes = _open(prefix)
  widths = [shape for name, shape in shapes.items()
            if '/Logits/Conv3d_0c_1x1/conv_3d/b' in '/' + name]
  return widths[0][-1] if widths and widths[0] else None


def load_prefix(model: tf.Module, prefix: str, scope: Optional[str] = None,
                exclude: Sequence[str] = ()) -> None:
  """`load_checkpoint` for a prefix already resolved (`catalogue.checkpoint_prefix`)."""
  reader, shapes = _open(prefix)
  if _OBJECT_GRAPH_KEY in shapes:
    _restore_object_checkpoint(model, prefix, shapes)
    return
  if scope is None:
    scope = detect_scope(shapes, prefix)
  _check_scope(shapes, scope, prefix)
  if not is_built(model):
    build(model, channels=shapes[scope + _FIRST_VARIABLE][3])

  def excluded(name: str) -> bool:
    return any(name.startswith(prefix) for prefix in exclude)

  values, missing, mismatched = {}, [], []
  for name, variable in model_variables(model).items():
    if excluded(name):
      continue
    key = scope + name
    if key not in shapes:
      missing.append(f'{key} {variable.shape.as_list()}')
      continue
    value = _read(reader, prefix, key)
    want = tuple(variable.shape)
    # The Kinetics-600 checkpoint keeps batch-norm parameters as [1, 1, 1, 1, C].
    if value.shape != want and '/batch_norm/' in name and value.shape == (1,) * 4 + want:
      value = value.reshape(want)
    if value.shape != want:
      mismatched.append(f'{key} {list(value.shape)} (model: {list(want)})')
      continue
    values[name] = value
  expected = {scope + name for name in model_variables(model)}
  unexpected = sorted(f'{key} {shapes[key]}' for key in shapes
                      if key.startswith(scope) and key not in expected and
                      not _is_ignored(key) and not excluded(key[len(scope):]))
  problems = [f'{label}: {_summarise(items)}' for label, items in
              (('missing from the checkpoint', missing),
               ('shape mismatch', mismatched),
               ('not in the model', unexpected)) if items]
  if problems:
    raise CheckpointMismatchError(
        f'{prefix} does not match the model (scope {scope!r}), nothing loaded: ' +
        '; '.join(problems))
  variables = model_variables(model)
  for name, value in values.items():
    variables[name].assign(tf.cast(value, variables[name].dtype))


def _restore_object_checkpoint(model: tf.Module, prefix: str,
                               shapes: Mapping[str, List[int]]) -> None:
  """Restores a checkpoint written by `save_checkpoint` (`tf.train.Checkpoint`)."""
  if not is_built(model):
    first = [name for name in shapes
             if '/Conv3d_1a_7x7/conv/w/.ATTRIBUTES/VARIABLE_VALUE' in name]
    if len(first) != 1:
      raise CheckpointMismatchError(
          f'{prefix}: a tf.train.Checkpoint, but not of one InceptionI3d saved as '
          '`model` by i3d.save_checkpoint')
    build(model, channels=shapes[first[0]][3])
  status = tf.train.Checkpoint(model=model).read(prefix)
  try:
    status.assert_consumed()
  except AssertionError as e:
    raise CheckpointMismatchError(f'{prefix} does not match the model: {e}') from e


def save_checkpoint(model: tf.Module, prefix: str) -> str:
  """Writes the model with TF2's `tf.train.Checkpoint(model=model)`; returns the path."""
  return tf.train.Checkpoint(model=model).write(prefix)


def release_tensors(model: tf.Module, layout: Layout) -> Dict[str, np.ndarray]:
  """The model's values under the names and shapes of a release layout."""
  tensors = {}
  for name, variable in model_variables(model).items():
    value = tf.cast(variable, tf.float32).numpy()  # The release stores float32.
    if layout.batch_norm_rank5 and '/batch_norm/' in name:
      value = value.reshape((1, 1, 1, 1, -1))
    tensors[layout.scope + name] = value
  return tensors


def write_release_checkpoint(tensors: Mapping[str, np.ndarray], directory: str,
                             extra_files: Optional[Mapping[str, str]] = None) -> str:
  """Writes `{name: array}` as a TF1 checkpoint `directory/model.ckpt` with its
  `checkpoint` file, as the release ships them; readable by TF1's `tf.train.Saver`.
  `extra_files` (`{file name: text}`) are written beside them.

  The directory is written under a temporary name and renamed into place, so that an
  interrupted write never leaves a checkpoint that looks complete. An existing
  directory is replaced.

  Returns:
    The checkpoint prefix.
  """
  with files.folder_written_atomically(directory) as staging:
    names = sorted(tensors)
    tf.raw_ops.SaveV2(
        prefix=os.path.join(staging, CHECKPOINT_BASENAME), tensor_names=names,
        shape_and_slices=[''] * len(names),
        tensors=[np.asarray(tensors[name]) for name in names])
    with open(os.path.join(staging, 'checkpoint'), 'w') as f:
      f.write(f'model_checkpoint_path: "{CHECKPOINT_BASENAME}"\n'
              f'all_model_checkpoint_paths: "{CHECKPOINT_BASENAME}"\n')
    for filename, text in (extra_files or {}).items():
      with open(os.path.join(staging, filename), 'w') as f:
        f.write(text)
  return os.path.join(os.path.abspath(directory), CHECKPOINT_BASENAME)


def save_release_checkpoint(model: tf.Module, directory: str, layout: str = 'rgb') -> str:
  """Writes the model in a release layout (`rgb`, `flow` or `kinetics600`), so that
  the original TF1 code can load it. Returns the checkpoint prefix."""
  if layout not in LAYOUTS:
    raise ValueError(f'Unknown layout {layout!r}; valid layouts: {", ".join(LAYOUTS)}')
  return write_release_checkpoint(release_tensors(model, LAYOUTS[layout]), directory)
