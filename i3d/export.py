r"""The release's networks (or a trained model) as files that need none of this code: a
SavedModel, TFLite, ONNX or OpenVINO IR.

  python -m i3d.export --eval_type rgb --output_dir E                   (a SavedModel)
  python -m i3d.export --eval_type rgb --output_dir E --format tflite   (three .tflite)
  python -m i3d.export --eval_type rgb --output_dir E --format onnx     (rgb.onnx)
  python -m i3d.export --eval_type rgb --output_dir E --format openvino (rgb.xml, .bin)
  python -m i3d.export --model_dir M --output_dir E --format onnx   (a trained model)

The SavedModel's `serving_default` takes float32 `[B, T, 224, 224, C]` in [-1, 1], B and
T free (T at least 9): `rgb` (C = 3) and/or `flow` (C = 2) as the evaluation type
needs, and returns `logits` and `probabilities` `[B, classes]`, `features` (`Mixed_5c`
averaged over time and space, `[B, 1024]` a stream, RGB then flow for `joint`), and the
top 5 (a fixed 5: signatures take no optional arguments) as `top_k_indices`,
`top_k_probabilities` and `top_k_classes` (class names). The label map is also an asset,
`assets/label_map.txt`. `joint` sums its streams' logits, as `evaluate_sample.py` does.

TFLite has no 3D pools (`MaxPool3D`, `AvgPool3D`), and its 3D convolution is a slow
reference kernel that its quantizer skips: the TFLite models are built with
`InceptionI3d(ops='2d')` (the same variables; pools from 2D pools, identical values; 3D
convolutions as sums of 2D ones, one per temporal tap), for a fixed `--num_frames` and
batch 1, as `<name>_float32.tflite`, `<name>_float16.tflite` (float16 weights) and
`<name>_int8.tflite` (dynamic-range int8 weights), with `label_map.txt`; they return
the logits, probabilities and features.

ONNX (tf2onnx, opset 17) and OpenVINO IR (`openvino.convert_model`, float32 weights)
models are converted from the SavedModel's function less its checks and strings: inputs
as the SavedModel's (`rgb`, `flow`; axes `batch` and `frames` free, frames at least 9),
outputs `logits`, `probabilities` and `features`, with `label_map.txt` beside them; they
equal the library's logits to 1e-4 (`tests/test_export_runtimes.py`).
"""

import os
import shutil
import sys
from typing import Dict, List, Optional

from absl import app
from absl import flags
from absl import logging

from i3d import catalogue
from i3d import flags as shared
from i3d import quiet_tf
from i3d import releases
from i3d.catalogue import CHANNELS, IMAGE_SIZE, MIN_FRAMES
from i3d.model import InceptionI3d
from i3d.quiet_tf import tf
from i3d.runtime import convert
from i3d.system import faults
from i3d.system import files
from i3d.system import lock

TOP_K = 5
LABEL_MAP = 'label_map.txt'
TFLITE_VARIANTS = ('float32', 'float16', 'int8')


def _features(end_points) -> tf.Tensor:
  return tf.reduce_mean(end_points['Mixed_5c'], axis=[1, 2, 3])


class Served(tf.Module):
  """The networks of a plan behind one signature; the label map as an asset."""

  def __init__(self, models: Dict[str, InceptionI3d], labels: List[str],
               label_map_path: str):
    super().__init__(name='i3d')
    self.models = models
    self.label_map = tf.saved_model.Asset(label_map_path)
    self._labels = tf.constant(labels)

  def outputs(self, inputs: Dict[str, tf.Tensor], top_k: bool = True):
    """The served outputs. The SavedModel's (with `top_k`) also check the inputs' values
    as `evaluate_sample.py` checks them; TFLite's, which has no strings and no assertions,
    take them as they come."""
    logits, features = 0., []
    for modality, model in self.models.items():
      # A loaded signature does not check its inputs' shapes; these do, at run time.
      frames = tf.ensure_shape(inputs[modality],
                               [None, None, IMAGE_SIZE, IMAGE_SIZE, CHANNELS[modality]])
      checks = [tf.debugging.assert_greater_equal(
          tf.shape(frames)[1], MIN_FRAMES,
          message=f'{modality}: I3D needs at least {MIN_FRAMES} frames')]
      if top_k:  # A NaN or out-of-range input would get a confident, meaningless answer.
        checks += [
            tf.debugging.assert_all_finite(frames, f'{modality}: holds NaN or infinite '
                                           'values'),
            tf.debugging.assert_less_equal(
                tf.reduce_max(tf.abs(frames)), 1.0,
                message=f'{modality}: values outside [-1, 1] (preprocess video as '
                'python -m preprocess does)')]
      with tf.control_dependencies(checks):
        frames = tf.identity(frames)
      stream_logits, end_points = model(frames, is_training=False)
      logits += stream_logits
      features.append(_features(end_points))
    probabilities = tf.nn.softmax(logits)
    result = {'logits': logits, 'probabilities': probabilities,
              'features': tf.concat(features, axis=-1)}
    if top_k:
      top = tf.math.top_k(probabilities, k=min(TOP_K, int(self._labels.shape[0])))
      result.update(top_k_indices=top.indices, top_k_probabilities=top.values,
                    top_k_classes=tf.gather(self._labels, top.indices))
    return result

  def signature(self, num_frames: Optional[int] = None, batch: Optional[int] = None,
                top_k: bool = True):
    specs = {m: tf.TensorSpec([batch, num_frames, IMAGE_SIZE, IMAGE_SIZE, CHANNELS[m]],
                              tf.float32, name=m) for m in self.models}
    function = tf.function(lambda **inputs: self.outputs(inputs, top_k))
    return function.get_concrete_function(**specs)


def load_models(plan: catalogue.Plan, ops: str = '3d') -> Dict[str, InceptionI3d]:
  return {stream.modality: releases.load_stream(stream, ops=ops)
          for stream in plan.streams}


def export_saved_model(plan: catalogue.Plan, output_dir: str) -> str:
  """Writes the plan's networks as a SavedModel in `output_dir`, whole or not at all."""
  with files.folder_written_atomically(output_dir) as staging:
    label_map = os.path.join(staging, LABEL_MAP)
    files.write_atomically(label_map, ('\n'.join(plan.labels) + '\n').encode())
    served = Served(load_models(plan), list(plan.labels), label_map)
    with quiet_tf.without_noise(drop_all=True):
      tf.saved_model.save(served, staging,
                          signatures={'serving_default': served.signature()})
    os.remove(label_map)  # Copied into assets/ by the save.
  return output_dir


def plain_function(served: Served):
  """The served outputs without the checks and the strings that ONNX and OpenVINO do
  not convert, and the inputs' specs: any batch and length."""
  specs = [tf.TensorSpec([None, None, IMAGE_SIZE, IMAGE_SIZE, CHANNELS[m]], tf.float32,
                         name=m) for m in served.models]
  names = list(served.models)
  function = tf.function(lambda *inputs: served.outputs(dict(zip(names, inputs)),
                                                        top_k=False), autograph=False)
  return function, specs


def export_runtime(plan: catalogue.Plan, output_dir: str, runtime: str) -> List[str]:
  """Writes `<eval_type>.onnx` or `<eval_type>.xml` and `.bin`, and the label map, whole
  or not at all; returns the model's paths."""
  served = Served(load_models(plan), list(plan.labels), os.devnull)
  function, specs = plain_function(served)
  with files.folder_written_atomically(output_dir) as staging:
    files.write_atomically(os.path.join(staging, LABEL_MAP),
                           ('\n'.join(plan.labels) + '\n').encode())
    if runtime == 'onnx':
      proto = convert.to_onnx(function, specs)
      names = [f'{plan.eval_type}.onnx']
      files.write_atomically(os.path.join(staging, names[0]), proto.SerializeToString())
    else:
      model = convert.to_openvino(function.get_concrete_function(*specs))
      names = [f'{plan.eval_type}.xml', f'{plan.eval_type}.bin']
      convert.save_openvino(model, os.path.join(staging, names[0]))
  return [os.path.join(output_dir, name) for name in names]


def tflite_converter(saved_model: str, variant: str):
  converter = tf.lite.TFLiteConverter.from_saved_model(saved_model)
  if variant in ('float16', 'int8'):
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
  if variant == 'float16':
    converter.target_spec.supported_types = [tf.float16]
  return converter


def export_tflite(plan: catalogue.Plan, output_dir: str, num_frames: int,
                  variants=TFLITE_VARIANTS) -> Dict[str, str]:
  """Writes `<eval_type>_<variant>.tflite` and the label map; returns the files' paths.

  The models take batch 1 and `num_frames` frames, under the input names of the
  SavedModel (`rgb`, `flow`), and return `logits`, `probabilities` and `features`
  (TFLite has no strings: the class names are in `label_map.txt`); their signature
  runner (`interpreter.get_signature_runner()`) uses those names.
  """
  if num_frames < MIN_FRAMES:
    raise ValueError(f'--num_frames {num_frames}: I3D needs at least {MIN_FRAMES}')
  written = {}
  with files.folder_written_atomically(output_dir) as staging:
    label_map = os.path.join(staging, LABEL_MAP)
    files.write_atomically(label_map, ('\n'.join(plan.labels) + '\n').encode())
    served = Served(load_models(plan, ops='2d'), list(plan.labels), label_map)
    fixed = os.path.join(staging, 'fixed_shape_saved_model')
    with quiet_tf.without_noise(drop_all=True):
      tf.saved_model.save(served, fixed, signatures={'serving_default': served.signature(
          num_frames=num_frames, batch=1, top_k=False)})
    for variant in variants:
      name = f'{plan.eval_type}_{variant}.tflite'
      with quiet_tf.without_noise(drop_all=True):
        data = tflite_converter(fixed, variant).convert()
      files.write_atomically(os.path.join(staging, name), data)
      written[variant] = os.path.join(output_dir, name)
    shutil.rmtree(fixed)
  return written


_EVAL_TYPE = shared.eval_type('rgb')
_IMAGENET_PRETRAINED = shared.imagenet_pretrained()
_CHECKPOINT_DIR = shared.checkpoint_dir()
_OUTPUT_DIR = flags.DEFINE_string('output_dir', None, 'Where to write the model.')
_FORMAT = flags.DEFINE_enum('format', 'saved_model',
                            ['saved_model', 'tflite', 'onnx', 'openvino'],
                            'A SavedModel, three .tflite files, an ONNX model (pip install '
                            '\'.[onnx]\') or OpenVINO IR (pip install \'.[openvino]\').')
_MODEL_DIR = shared.model_dir()
_NUM_FRAMES = flags.DEFINE_integer('num_frames', 64, 'Frames the TFLite models take.')


def check_output_dir(output_dir: str) -> None:
  """Refuses a folder that holds anything but an earlier export (it is replaced whole)."""
  if os.path.isfile(output_dir):
    raise ValueError(f'{output_dir}: is a file, not a folder')
  if not os.path.isdir(output_dir):
    return
  ours = {'saved_model.pb', 'variables', 'assets', 'fingerprint.pb', LABEL_MAP}
  others = [n for n in os.listdir(output_dir)
            if n not in ours and not n.endswith(('.tflite', '.onnx', '.xml', '.bin'))]
  if others:
    raise ValueError(f'{output_dir}: holds other files ({", ".join(sorted(others)[:3])}); '
                     'the export replaces the folder whole: name a new or empty one')


def export() -> None:
  # Two exports into one folder at once: the second is refused (each replaces it whole).
  with lock.replacement_lock(_OUTPUT_DIR.value):
    _export()


def _export() -> None:
  check_output_dir(_OUTPUT_DIR.value)
  if _MODEL_DIR.value:
    plan = catalogue.model_plan(_MODEL_DIR.value)
  else:
    plan = catalogue.make_plan(_EVAL_TYPE.value, _IMAGENET_PRETRAINED.value,
                               _CHECKPOINT_DIR.value)
  files.check_writable(os.path.join(_OUTPUT_DIR.value, LABEL_MAP))
  if _FORMAT.value == 'saved_model':
    export_saved_model(plan, _OUTPUT_DIR.value)
    print(f'wrote the SavedModel of {", ".join(plan.checkpoint_names)} to '
          f'{_OUTPUT_DIR.value}')
    return
  if _FORMAT.value in ('onnx', 'openvino'):
    for path in export_runtime(plan, _OUTPUT_DIR.value, _FORMAT.value):
      print(f'wrote {path} ({os.path.getsize(path) / 2**20:.1f} MiB)')
    return
  for variant, path in export_tflite(plan, _OUTPUT_DIR.value, _NUM_FRAMES.value).items():
    print(f'wrote {path} ({variant}, {os.path.getsize(path) / 2**20:.1f} MiB)')


def main(argv):
  if len(argv) > 1:
    sys.exit(f'python -m i3d.export: unexpected arguments {argv[1:]}')
  if not os.environ.get('I3D_VERBOSE'):
    tf.get_logger().setLevel('ERROR')  # The save's and converter's INFO lines,
    logging.set_verbosity(logging.WARNING)  # some written through absl's logging.
  faults.run_command('python -m i3d.export', export)


def run() -> None:
  flags.mark_flag_as_required('output_dir')
  app.run(main)


if __name__ == '__main__':
  run()
