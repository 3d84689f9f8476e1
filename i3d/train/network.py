"""The network to train: an `InceptionI3d` for the new classes, initialised from a
release, a checkpoint or nothing, with the logits layer new when the classes change.
Its variables are float32 whatever `recipe.precision` (bfloat16: mixed precision)."""

from typing import List, Optional

import numpy as np

from i3d import checkpoint
from i3d import precision
from i3d import releases
from i3d.catalogue import CHANNELS, IMAGE_SIZE, MIN_FRAMES, RELEASES
from i3d.model import InceptionI3d
from i3d.quiet_tf import tf
from i3d.train.recipe import Recipe

LOGITS = 'Logits/'


def build(recipe: Recipe) -> InceptionI3d:
  """The model with its variables, before any checkpoint is read."""
  model = InceptionI3d(num_classes=len(recipe.classes),
                       compute_dtype=tf.as_dtype(recipe.precision))
  # The smallest input builds every variable (none depends on the clip's length).
  model(tf.zeros([1, MIN_FRAMES, IMAGE_SIZE, IMAGE_SIZE, CHANNELS[recipe.modality]]),
        is_training=False)
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
  stream = (releases.release_stream(RELEASES[recipe.init], checkpoint_dir)
            if recipe.init in RELEASES else None)
  prefix = stream.prefix if stream else checkpoint.checkpoint_prefix(recipe.init)
  same_classes = checkpoint.logits_classes(prefix) == len(recipe.classes)
  exclude = () if same_classes else (LOGITS,)
  if stream:
    releases.load_into(model, stream, exclude)
  else:
    checkpoint.load_prefix(model, prefix, exclude=exclude)
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
