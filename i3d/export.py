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
import sys

from absl import app
from absl import flags
from absl import logging

from i3d import catalogue
from i3d import flags as shared
from i3d.catalogue.plan import MODEL_LABEL_MAP as LABEL_MAP
from i3d.system import faults
from i3d.system import files
from i3d.system import lock

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
  # Here, not at the top: TensorFlow loads only once the flags and folders are good
  # (`--help` and a bad flag answer at once).
  from i3d.quiet_tf import tf  # pylint: disable=g-import-not-at-top
  from i3d.runtime import serving  # pylint: disable=g-import-not-at-top
  if not os.environ.get('I3D_VERBOSE'):
    tf.get_logger().setLevel('ERROR')  # The save's and converter's INFO lines,
    logging.set_verbosity(logging.WARNING)  # some written through absl's logging.
  if _FORMAT.value == 'saved_model':
    serving.export_saved_model(plan, _OUTPUT_DIR.value)
    print(f'wrote the SavedModel of {", ".join(plan.checkpoint_names)} to '
          f'{_OUTPUT_DIR.value}')
    return
  if _FORMAT.value in ('onnx', 'openvino'):
    for path in serving.export_runtime(plan, _OUTPUT_DIR.value, _FORMAT.value):
      print(f'wrote {path} ({os.path.getsize(path) / 2**20:.1f} MiB)')
    return
  written = serving.export_tflite(plan, _OUTPUT_DIR.value, _NUM_FRAMES.value)
  for variant, path in written.items():
    print(f'wrote {path} ({variant}, {os.path.getsize(path) / 2**20:.1f} MiB)')


def main(argv):
  if len(argv) > 1:
    sys.exit(f'python -m i3d.export: unexpected arguments {argv[1:]}')
  faults.run_command('python -m i3d.export', export)


def run() -> None:
  flags.mark_flag_as_required('output_dir')
  app.run(main)


if __name__ == '__main__':
  run()
