"""The network to train: an `InceptionI3d` for the new classes, initialised from a
release, a checkpoint or nothing, with the logits layer new when the classes change."""

from typing import List, Optional

from i3d_catalogue import CHANNELS, RELEASES, paths, release_prefix

from i3d import checkpoint
from i3d.model import InceptionI3d
from i3d.quiet_tf import tf
from train.recipe import Recipe

LOGITS = 'Logits/'


def build(recipe: Recipe) -> InceptionI3d:
  """The model with its variables, before any checkpoint is read."""
  model = InceptionI3d(num_classes=len(recipe.classes))
  frames = max(recipe.num_frames, 9)
  model(tf.zeros([1, frames, 224, 224, CHANNELS[recipe.modality]]), is_training=False)
  return model


def initialise(model: InceptionI3d, recipe: Recipe, checkpoint_dir: Optional[str] = None) -> str:
  """Loads `recipe.init` into `model`: every variable strictly, but the logits when the
  checkpoint has another number of classes (they stay as initialised). Returns what was
  loaded, for the log."""
  if recipe.init == 'scratch':
    return 'scratch (random initialisation)'
  if recipe.init in RELEASES:
    release = RELEASES[recipe.init]
    if release.modality != recipe.modality:
      raise ValueError(f'--init {recipe.init} is a {release.modality} network; the '
                       f'training set is {recipe.modality}')
    prefix = release_prefix(release, checkpoint_dir or paths.checkpoint_dir())
  else:
    prefix = checkpoint.checkpoint_prefix(recipe.init)
  reader = tf.train.load_checkpoint(prefix)
  logits = [n for n in reader.get_variable_to_shape_map()
            if f'/{LOGITS}Conv3d_0c_1x1/conv_3d/b' in '/' + n]
  same_classes = bool(logits) and reader.get_variable_to_shape_map()[logits[0]] == [
      len(recipe.classes)]
  checkpoint.load_checkpoint(model, prefix, exclude=() if same_classes else (LOGITS,))
  return prefix + ('' if same_classes else ' (a new logits layer)')


def trainable(model: InceptionI3d, recipe: Recipe) -> List[tf.Variable]:
  """The variables SGD updates: every trainable one (not batch norm's moving
  statistics), or only the logits layer's (`--train_layers logits`)."""
  variables = list(model.trainable_variables)
  if recipe.train_layers == 'logits':
    variables = [v for v in variables if f'/{LOGITS}' in v.name]
  return variables


def decayed(model: InceptionI3d) -> List[tf.Variable]:
  """The convolution kernels, which weight decay applies to."""
  return [v for v in model.trainable_variables if v.name.endswith('/w:0')]
