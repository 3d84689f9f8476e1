"""A plan's networks as files that other runtimes load: the SavedModel's serving module
(`Served`: logits, probabilities, features and the top 5, inputs checked) and the
SavedModel, ONNX, OpenVINO IR and TFLite files written from it, each folder whole or not
at all. `python -m i3d.export` is the command; its docstring says what each holds."""

import os
import shutil
from typing import Dict, List, Optional

from i3d import catalogue
from i3d import quiet_tf
from i3d import releases
from i3d.catalogue import CHANNELS, IMAGE_SIZE, MIN_FRAMES
from i3d.catalogue.plan import MODEL_LABEL_MAP as LABEL_MAP
from i3d.model import InceptionI3d
from i3d.quiet_tf import tf
from i3d.runtime import convert
from i3d.system import files

TOP_K = 5
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


def write_label_map(folder: str, labels: List[str]) -> str:
  """`folder`'s label map, a class name a line in logit order; returns its path."""
  path = os.path.join(folder, LABEL_MAP)
  files.write_atomically(path, ('\n'.join(labels) + '\n').encode())
  return path


def load_models(plan: catalogue.Plan, ops: str = '3d') -> Dict[str, InceptionI3d]:
  return {stream.modality: releases.load_stream(stream, ops=ops)
          for stream in plan.streams}


def export_saved_model(plan: catalogue.Plan, output_dir: str) -> str:
  """Writes the plan's networks as a SavedModel in `output_dir`, whole or not at all."""
  with files.folder_written_atomically(output_dir) as staging:
    label_map = write_label_map(staging, plan.labels)
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
    write_label_map(staging, plan.labels)
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
    label_map = write_label_map(staging, plan.labels)
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
