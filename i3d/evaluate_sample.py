r"""Classifies a sample with the release's I3D checkpoints and prints the top classes.

  python -m i3d.evaluate_sample --eval_type rgb     (or, in a clone: python evaluate_sample.py)

prints, in the original release's format:

  Norm of logits: <L2 norm of the logits>

  Top classes and probabilities
  <probability> <logit> <class name>      (top_k lines, most probable first)

`joint` sums the RGB and flow logits with equal weight, then takes the softmax.
Exit status: 0 on success, 1 on bad input, 3 when a needed checkpoint is absent, 4 on an
error of the machine (no space, a read-only filesystem, out of memory), 130 on Ctrl-C.
"""

import io
import os
import sys

from absl import app
from absl import flags
import numpy as np

from i3d import catalogue
from i3d import flags as shared
from i3d import precision as precision_lib
from i3d.catalogue import paths
from i3d.catalogue import CHANNELS, IMAGE_SIZE, MIN_FRAMES
from i3d.system import faults
from i3d.system import files

SAMPLES = paths.samples_dir()

_EVAL_TYPE = shared.eval_type('joint')
_IMAGENET_PRETRAINED = shared.imagenet_pretrained()
_CHECKPOINT_DIR = shared.checkpoint_dir()
_RGB_SAMPLE = flags.DEFINE_string(
    'rgb_sample', os.path.join(SAMPLES, 'bigbuckbunny_rgb.npy'),
    'RGB input, .npy float32 [1, T, 224, 224, 3] in [-1, 1] (python -m preprocess).')
_FLOW_SAMPLE = flags.DEFINE_string(
    'flow_sample', os.path.join(SAMPLES, 'bigbuckbunny_flow.npy'),
    'Flow input, .npy float32 [1, T, 224, 224, 2] in [-1, 1] (python -m preprocess).')
_VIDEO = flags.DEFINE_string(
    'video', None, 'A video file to classify, preprocessed on the fly with the default '
    'recipe; replaces --rgb_sample and --flow_sample.')
_PRECISION = shared.precision()
_MODEL_DIR = shared.model_dir()
_TOP_K = flags.DEFINE_integer('top_k', 20, 'How many classes to print.', lower_bound=1)
_SAVE_LOGITS = flags.DEFINE_string(
    'save_logits', None, 'Also write the logits, float32 [num_classes], to this .npy.')


# The first bytes of every .npy file.
NPY_MAGIC = b'\x93NUMPY'


class InputError(ValueError):
  """A sample that the network cannot take; the message names the file."""


def load_sample(path: str, channels: int) -> np.ndarray:
  """Reads and checks a `[1, T, 224, 224, channels]` float32 sample in [-1, 1]."""
  if os.path.isdir(path):
    raise InputError(f'{path}: is a folder, not a .npy file')
  if not os.path.isfile(path):
    raise InputError(f'{path}: no such file')
  with open(path, 'rb') as f:
    if f.read(len(NPY_MAGIC)) != NPY_MAGIC:  # np.load calls any other file a pickle.
      raise InputError(f'{path}: not a .npy array (no NumPy header: a file of another '
                       'kind; python -m preprocess writes them)')
  try:
    sample = np.load(path, mmap_mode='r', allow_pickle=False)
  except (ValueError, OSError) as e:
    raise InputError(f'{path}: not a .npy array ({e})') from e
  expected = f'[1, T, {IMAGE_SIZE}, {IMAGE_SIZE}, {channels}]'
  if sample.ndim != 5:
    raise InputError(f'{path}: rank {sample.ndim} (shape {sample.shape}), expected {expected}')
  if sample.shape[0] != 1 or sample.shape[2:] != (IMAGE_SIZE, IMAGE_SIZE, channels):
    raise InputError(f'{path}: shape {sample.shape}, expected {expected}')
  if sample.dtype != np.float32:
    raise InputError(f'{path}: dtype {sample.dtype}, expected float32')
  if sample.shape[1] < MIN_FRAMES:
    raise InputError(f'{path}: {sample.shape[1]} frames, the network needs at least '
                     f'{MIN_FRAMES}')
  sample = np.asarray(sample)
  if not np.isfinite(sample).all():
    raise InputError(f'{path}: holds NaN or infinite values')
  low, high = sample.min(), sample.max()
  if low < -1 or high > 1:
    raise InputError(f'{path}: values in [{low}, {high}], expected [-1, 1]')
  return sample


def save_array(path: str, array: np.ndarray) -> None:
  """np.save, whole or not at all: an interrupted run leaves nothing."""
  buffer = io.BytesIO()
  np.save(buffer, array)
  files.write_atomically(path, buffer.getvalue())


def evaluate() -> None:
  if _SAVE_LOGITS.value:
    files.check_writable(_SAVE_LOGITS.value)
  # Checkpoints first: a missing one is reported before any heavy work.
  if _MODEL_DIR.value:
    plan = catalogue.model_plan(_MODEL_DIR.value)
  else:
    plan = catalogue.make_plan(_EVAL_TYPE.value, _IMAGENET_PRETRAINED.value,
                               _CHECKPOINT_DIR.value)
  choice = precision_lib.choose(_PRECISION.value)
  if choice.message:
    print(f'evaluate_sample.py: {choice.message}', file=sys.stderr)
  # Here, not at the top: TensorFlow loads only once the flags are good (`--help` and
  # a bad flag answer at once).
  from i3d import releases  # pylint: disable=g-import-not-at-top
  from i3d.quiet_tf import tf  # pylint: disable=g-import-not-at-top
  models = [releases.load_stream(stream, dtype=choice.precision) for stream in plan.streams]
  samples = read_samples(plan.modalities)
  logits = sum(forward(model, samples[stream.modality])
               for model, stream in zip(models, plan.streams))
  labels = plan.labels
  predictions = tf.nn.softmax(logits).numpy()
  print('Norm of logits: %f' % np.linalg.norm(logits))
  print('\nTop classes and probabilities')
  for index in np.argsort(predictions)[::-1][:_TOP_K.value]:
    print(predictions[index], logits[index], labels[index])
  if _SAVE_LOGITS.value:
    save_array(_SAVE_LOGITS.value, logits.astype(np.float32))


def forward(model, sample: np.ndarray) -> np.ndarray:
  """The logits `[num_classes]`, float32, of one network for one sample.

  As a compiled graph (`tf.function`): faster than eager even for one call, tracing
  included (bench/forward.py). XLA is not used: on CPUs it is about 4x slower here.
  """
  from i3d.quiet_tf import tf  # pylint: disable=g-import-not-at-top
  logits, _ = tf.function(model, autograph=False)(tf.constant(sample), is_training=False)
  return tf.cast(logits, tf.float32).numpy()[0]


def read_samples(modalities):
  """`{modality: sample}` from --video, or from --rgb_sample / --flow_sample."""
  if _VIDEO.value:
    # Imported here: only --video needs the preprocessing (and OpenCV).
    from i3d import preprocess  # pylint: disable=g-import-not-at-top
    return preprocess.video_to_arrays(_VIDEO.value, modalities)
  paths_of = {'rgb': _RGB_SAMPLE.value, 'flow': _FLOW_SAMPLE.value}
  return {m: load_sample(paths_of[m], CHANNELS[m]) for m in modalities}


def main(argv):
  if len(argv) > 1:
    sys.exit(f'evaluate_sample.py: unexpected arguments {argv[1:]}')
  faults.run_command('evaluate_sample.py', evaluate)


def run() -> None:
  app.run(main)


if __name__ == '__main__':
  run()
