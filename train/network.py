"""The network to train: an `InceptionI3d` for the new classes, initialised from a
release, a checkpoint or nothing, with the logits layer new when the classes change.
Its variables are float32 whatever `recipe.precision` (bfloat16: mixed precision)."""

from typing import List, Optional

from i3d_catalogue import CHANNELS, RELEASES, paths, release_prefix
import numpy as np

from i3d import checkpoint
from i3d import precision
from i3d.model import InceptionI3d
from i3d.quiet_tf import tf
from train.recipe import Recipe

LOGITS = 'Logits/'


def build(recipe: Recipe) -> InceptionI3d:
  """The model with its variables, before any checkpoint is read."""
  model = InceptionI3d(num_classes=len(recipe.classes),
                       compute_dtype=tf.as_dtype(recipe.precision))
  frames = max(recipe.num_frames, 9)
  model(tf.zeros([1, frames, 224, 224, CHANNELS[recipe.modality]]), is_training=False)
  return model


def check_precision(recipe: Recipe) -> Optional[str]:
  """Refuses bfloat16 where it cannot run, or where this TensorFlow gets the network's
  gradients wrong; returns a warning where it runs slower than float32 (no bfloat16
  units).

  TensorFlow 2.21's oneDNN CPU kernel for the bfloat16 Conv3D filter gradient is wrong
  (by the gradient's own size) when the time axis is 2 long: in I3D, Mixed_5b and
  Mixed_5c for clips of 9 to 16 frames. Probed on one small convolution rather than
  assumed from the version, so a fixed TensorFlow (or a GPU) passes.
  """
  if recipe.precision != 'bfloat16':
    return None
  # Refuses a oneDNN held below bfloat16.
  slower = precision.choose('bfloat16', fallback='float32').message
  if -(-recipe.num_frames // 8) != 2:
    return slower
  rng = np.random.default_rng(0)
  for shape, channels in (((1, 2, 4, 4, 32), 32), ((1, 2, 7, 7, 32), 128)):
    x = tf.constant(rng.normal(size=shape), tf.float32)
    w = tf.Variable(rng.normal(size=(3, 3, 3, shape[-1], channels)), dtype=tf.float32)
    upstream = tf.constant(rng.normal(size=shape[:-1] + (channels,)), tf.float32)
    gradients = []
    for dtype in (tf.float32, tf.bfloat16):
      with tf.GradientTape() as tape:
        y = tf.nn.conv3d(tf.cast(x, dtype), tf.cast(w, dtype), [1] * 5, 'SAME')
        loss = tf.reduce_sum(tf.cast(y, tf.float32) * upstream)
      gradients.append(tape.gradient(loss, w).numpy())
    full, half = gradients
    if not np.abs(full - half).max() <= 0.05 * np.abs(full).max():  # NaN: wrong too.
      raise ValueError(
          f'--precision bfloat16 with --num_frames {recipe.num_frames}: this TensorFlow '
          'computes a wrong bfloat16 Conv3D filter gradient where the time axis is 2 '
          'long (Mixed_5b/5c for 9 to 16 frames; oneDNN, TensorFlow 2.21); use '
          '--num_frames 17 or more, --precision float32, or TF_ENABLE_ONEDNN_OPTS=0')
  return slower


def initialise(model: InceptionI3d, recipe: Recipe, checkpoint_dir: Optional[str] = None) -> str:
  """Loads `recipe.init` into `model`: every variable strictly, but the logits when the
  checkpoint has another number of classes (they stay as initialised). Returns what was
  loaded, for the log."""
  if recipe.init == 'scratch':
    return 'scratch (random initialisation)'
  if recipe.init in RELEASES:
    release = RELEASES[recipe.init]
    if release.modality != recipe.modality:
      raise ValueError(f'--init {recipe.init} is a {release.modality} network, not '
                       f'{recipe.modality} (--modality)')
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
