"""`python -m i3d.export`: a SavedModel run by a process that imports only TensorFlow,
and TFLite models run by TFLite's interpreter, against the library on the real sample."""

import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
import tensorflow as tf

from i3d import provision
from i3d import releases
from i3d import catalogue
from i3d.catalogue import paths
from tests import commands
from tests import reference
from tests.test_checkpoint import unscoped, with_random_flow

SAMPLE = os.path.join(paths.samples_dir(), 'bigbuckbunny_rgb.npy')

# Runs in a bare interpreter: TensorFlow and NumPy only.
BARE = r'''
import json, sys
import numpy as np
import tensorflow as tf
model = tf.saved_model.load(sys.argv[1])
serve = model.signatures['serving_default']
inputs = {name: tf.constant(np.load(path)) for name, path in json.loads(sys.argv[2]).items()}
outputs = {k: v.numpy() for k, v in serve(**inputs).items()}
outputs = {k: v.astype(bytes) if v.dtype == object else v for k, v in outputs.items()}
np.savez(sys.argv[3], **outputs)
print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('i3d', 'sonnet',
                                                                    'i3d.catalogue'))))
'''

# Each input in turn through the SavedModel, in one bare interpreter: what each call
# raised (the whole message), or '' where it returned.
BARE_REFUSALS = r'''
import json, sys
import numpy as np
import tensorflow as tf
serve = tf.saved_model.load(sys.argv[1]).signatures['serving_default']
raised = {}
for name, path in json.loads(sys.argv[2]).items():
  try:
    serve(rgb=tf.constant(np.load(path)))
    raised[name] = ''
  except Exception as e:
    raised[name] = f'{type(e).__name__}: {e}'
print(json.dumps(raised))
'''


def run_export(*args):
  return commands.run(['-m', 'i3d.export', *args], env=commands.user_env())


def run_bare(model_dir, inputs, out):
  result = subprocess.run(
      [sys.executable, '-c', BARE, str(model_dir), json.dumps(inputs), str(out)],
      cwd='/', capture_output=True, text=True, timeout=600,
      env=dict(os.environ, PYTHONPATH=''))
  return result, (dict(np.load(out)) if result.returncode == 0 else None)


@pytest.fixture(scope='module')
def library():
  """The library's logits and features for inputs, from the provisioned rgb_imagenet."""
  provision.provision()
  model = releases.load_release(catalogue.RELEASES['rgb_imagenet'])

  def forward(x):
    logits, end_points = model(tf.constant(x), is_training=False)
    return logits.numpy(), tf.reduce_mean(end_points['Mixed_5c'], [1, 2, 3]).numpy()
  return forward


@pytest.fixture(scope='module')
def saved_model(tmp_path_factory):
  provision.provision()
  out = tmp_path_factory.mktemp('export') / 'rgb'
  result = run_export('--eval_type', 'rgb', '--output_dir', str(out))
  assert result.returncode == 0, result.stderr
  assert result.stderr == ''
  return out


def test_saved_model_runs_without_this_code_and_equals_the_library(saved_model, library,
                                                                   tmp_path):
  result, outputs = run_bare(saved_model, {'rgb': SAMPLE}, tmp_path / 'out.npz')
  assert result.returncode == 0, result.stderr
  assert json.loads(result.stdout.strip().splitlines()[-1]) == []  # No i3d, no Sonnet.
  logits, features = library(np.load(SAMPLE))
  np.testing.assert_allclose(outputs['logits'], logits, rtol=1e-5,
                             atol=1e-5 * np.abs(logits).max())
  np.testing.assert_allclose(outputs['features'], features, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(outputs['probabilities'], tf.nn.softmax(logits).numpy(),
                             rtol=1e-5, atol=1e-7)
  labels = catalogue.read_labels(catalogue.RELEASES['rgb_imagenet'])
  top = np.argsort(logits[0])[::-1][:5]
  assert outputs['top_k_indices'][0].tolist() == top.tolist()
  assert [c.decode() for c in outputs['top_k_classes'][0]] == [labels[i] for i in top]
  with open(saved_model / 'assets' / 'label_map.txt') as f:
    assert f.read().splitlines() == labels


def test_saved_model_takes_any_batch_and_length_and_refuses_bad_inputs(saved_model,
                                                                       library, tmp_path):
  sample = np.load(SAMPLE)
  two = np.concatenate([sample[:, :9], sample[:, 20:29]])
  np.save(tmp_path / 'two.npy', two)
  result, outputs = run_bare(saved_model, {'rgb': str(tmp_path / 'two.npy')},
                             tmp_path / 'out.npz')
  assert result.returncode == 0, result.stderr
  logits, _ = library(two)
  np.testing.assert_allclose(outputs['logits'], logits, rtol=1e-5,
                             atol=1e-5 * np.abs(logits).max())
  refusals = {}
  for name, bad, message in (
      ('short', sample[:, :8], 'rgb: I3D needs at least 9 frames'),
      ('channels', sample[..., :2], 'is not compatible with expected shape '
                                    '[?,?,224,224,3]'),
      ('rank', sample[0], 'is not compatible with expected shape [?,?,224,224,3]'),
      ('size', sample[:, :, :200], 'is not compatible with expected shape '
                                   '[?,?,224,224,3]'),
      # Values evaluate_sample.py refuses: a confident answer would mean nothing.
      ('nan', np.full_like(sample[:, :9], np.nan), 'rgb: holds NaN or infinite values'),
      ('range', np.full_like(sample[:, :9], 255.), 'rgb: values outside [-1, 1]')):
    np.save(tmp_path / f'{name}.npy', bad)
    refusals[name] = message
  result = subprocess.run(
      [sys.executable, '-c', BARE_REFUSALS, str(saved_model),
       json.dumps({name: str(tmp_path / f'{name}.npy') for name in refusals})],
      cwd='/', capture_output=True, text=True, timeout=600, env=dict(os.environ, PYTHONPATH=''))
  assert result.returncode == 0, result.stderr
  raised = json.loads(result.stdout.splitlines()[-1])
  for name, message in refusals.items():
    assert message in raised[name], (name, raised[name])


def test_joint_saved_model_sums_the_streams(tmp_path, library):
  """With a flow checkpoint (random values, the release's layout): logits RGB + flow,
  features RGB then flow."""
  checkpoints = tmp_path / 'checkpoints'
  weights = with_random_flow(checkpoints, seed=5)
  result = run_export('--eval_type', 'joint', '--checkpoint_dir', str(checkpoints),
                      '--output_dir', str(tmp_path / 'joint'))
  assert result.returncode == 0, result.stderr
  rng = np.random.default_rng(0)
  rgb = np.load(SAMPLE)[:, :10]
  flow = rng.uniform(-1, 1, (1, 9, 224, 224, 2)).astype(np.float32)
  np.save(tmp_path / 'rgb.npy', rgb)
  np.save(tmp_path / 'flow.npy', flow)
  result, outputs = run_bare(tmp_path / 'joint', {'rgb': str(tmp_path / 'rgb.npy'),
                                                  'flow': str(tmp_path / 'flow.npy')},
                             tmp_path / 'out.npz')
  assert result.returncode == 0, result.stderr
  rgb_logits, rgb_features = library(rgb)
  flow_logits = reference.logits(flow, unscoped(weights))
  expected = rgb_logits + flow_logits
  np.testing.assert_allclose(outputs['logits'], expected, rtol=1e-4,
                             atol=1e-4 * np.abs(expected).max())
  assert outputs['features'].shape == (1, 2048)
  np.testing.assert_allclose(outputs['features'][:, :1024], rgb_features, rtol=1e-5,
                             atol=1e-6)


def test_export_refuses_a_folder_of_other_files(tmp_path):
  (tmp_path / 'notes.txt').write_text('mine')
  result = run_export('--output_dir', str(tmp_path))
  assert result.returncode == 1
  assert result.stderr == (f'python -m i3d.export: {tmp_path}: holds other files '
                           '(notes.txt); the export replaces the folder whole: name a new '
                           'or empty one\n')
  assert (tmp_path / 'notes.txt').read_text() == 'mine'


# Largest logit difference from the float32 network allowed, as a fraction of the
# largest logit, per TFLite variant: float32 is the same arithmetic in another order;
# float16 weights round to 11 bits; int8 weights (dynamic range) to 8 (measured here:
# 0.2%, and 3% of the largest logit; bench/export.py).
TFLITE_TOLERANCE = {'float32': 1e-4, 'float16': 1e-2, 'int8': 8e-2}


def test_tflite_models_equal_the_library_within_their_rounding(tmp_path, library):
  provision.provision()
  result = run_export('--eval_type', 'rgb', '--format', 'tflite', '--num_frames', '16',
                      '--output_dir', str(tmp_path / 'lite'))
  assert result.returncode == 0, result.stderr
  sample = np.load(SAMPLE)[:, :16]
  logits, features = library(sample)
  scale = np.abs(logits).max()
  for variant, tolerance in TFLITE_TOLERANCE.items():
    path = tmp_path / 'lite' / f'rgb_{variant}.tflite'
    assert f'wrote {path} ({variant}, ' in result.stdout
    with warnings.catch_warnings():
      warnings.simplefilter('ignore')  # tf.lite.Interpreter's move to LiteRT.
      interpreter = tf.lite.Interpreter(model_path=str(path), num_threads=2)
    outputs = interpreter.get_signature_runner()(rgb=sample)
    assert np.abs(outputs['logits'] - logits).max() <= tolerance * scale, variant
    assert outputs['logits'].argmax() == logits.argmax()
    if variant == 'float32':
      np.testing.assert_allclose(outputs['features'], features, atol=1e-4)
  assert (tmp_path / 'lite' / 'label_map.txt').read_text().splitlines()[0] == 'abseiling'
  assert not (tmp_path / 'lite' / 'fixed_shape_saved_model').exists()
