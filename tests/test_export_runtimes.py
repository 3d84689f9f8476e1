"""`python -m i3d.export --format onnx|openvino`: models run by processes that import only
their runtime (ONNX Runtime, OpenVINO) and NumPy, against the library on the real
sample, for any batch and length; a joint export with a flow checkpoint of random values
in the release's layout."""

import json
import subprocess
import sys

import numpy as np
import pytest

from i3d import provision
from tests import reference
from tests.test_checkpoint import unscoped, with_random_flow
from tests.test_export import SAMPLE, library, run_export  # noqa: F401 (library: a fixture)

# Runs in a bare interpreter: the runtime and NumPy only. argv: model, inputs (name ->
# .npy), output .npz.
BARE = {
    'onnx': r'''
import json, sys
import numpy as np
import onnxruntime
session = onnxruntime.InferenceSession(sys.argv[1], providers=['CPUExecutionProvider'])
inputs = {name: np.load(path) for name, path in json.loads(sys.argv[2]).items()}
names = [o.name for o in session.get_outputs()]
np.savez(sys.argv[3], **dict(zip(names, session.run(names, inputs))))
print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'i3d'))))
''',
    'openvino': r'''
import json, sys
import numpy as np
import openvino
model = openvino.Core().compile_model(sys.argv[1], 'CPU', {'INFERENCE_PRECISION_HINT': 'f32'})
inputs = {name: np.load(path) for name, path in json.loads(sys.argv[2]).items()}
result = model(inputs)
np.savez(sys.argv[3], **{o.get_any_name(): result[o] for o in model.outputs})
print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'i3d'))))
''',
}
MODEL_FILE = {'onnx': '{}.onnx', 'openvino': '{}.xml'}


def run_bare(runtime, model, inputs, tmp_path):
  paths = {}
  for name, value in inputs.items():
    paths[name] = str(tmp_path / f'{name}.npy')
    np.save(paths[name], value)
  out = tmp_path / 'out.npz'
  result = subprocess.run([sys.executable, '-c', BARE[runtime], str(model),
                           json.dumps(paths), str(out)], cwd='/', capture_output=True,
                          text=True, timeout=600)
  assert result.returncode == 0, result.stderr
  assert json.loads(result.stdout.splitlines()[-1]) == []  # Neither TensorFlow nor i3d.
  return dict(np.load(out))


def assert_logits_equal(actual, expected):
  np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


@pytest.mark.parametrize('runtime', ['onnx', 'openvino'])
def test_export_equals_the_library_for_any_batch_and_length(runtime, tmp_path, library):
  provision.provision()
  out = tmp_path / 'model'
  result = run_export('--eval_type', 'rgb', '--format', runtime, '--output_dir', str(out))
  assert result.returncode == 0, result.stderr
  assert (out / 'label_map.txt').read_text().splitlines()[:2] == ['abseiling',
                                                                   'air drumming']
  sample = np.load(SAMPLE)
  for clips in (sample[:, :24], np.concatenate([sample[:, 40:49], sample[:, 90:99]])):
    outputs = run_bare(runtime, out / MODEL_FILE[runtime].format('rgb'), {'rgb': clips},
                       tmp_path)
    logits, features = library(clips)
    assert_logits_equal(outputs['logits'], logits)
    np.testing.assert_allclose(outputs['features'], features, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(outputs['probabilities'].sum(axis=1), 1, rtol=1e-5)
    assert (outputs['probabilities'].argmax(axis=1) == logits.argmax(axis=1)).all()


def test_joint_openvino_export_sums_the_streams(tmp_path, library):
  checkpoints = tmp_path / 'checkpoints'
  weights = with_random_flow(checkpoints, seed=6)
  result = run_export('--eval_type', 'joint', '--format', 'openvino', '--checkpoint_dir',
                      str(checkpoints), '--output_dir', str(tmp_path / 'joint'))
  assert result.returncode == 0, result.stderr
  rgb = np.load(SAMPLE)[:, :10]
  flow = np.random.default_rng(1).uniform(-1, 1, (1, 9, 224, 224, 2)).astype(np.float32)
  outputs = run_bare('openvino', tmp_path / 'joint' / 'joint.xml',
                     {'rgb': rgb, 'flow': flow}, tmp_path)
  rgb_logits, rgb_features = library(rgb)
  assert_logits_equal(outputs['logits'],
                      rgb_logits + reference.logits(flow, unscoped(weights)))
  assert outputs['features'].shape == (1, 2048)
  np.testing.assert_allclose(outputs['features'][:, :1024], rgb_features, rtol=1e-4,
                             atol=1e-5)
