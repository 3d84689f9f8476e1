"""`python -m i3d.train` on camera motions over real pictures: the command from list to
model, killed and resumed to the same weights, scored the same by `classify`; two
replicas against one device; refused settings and a diverging loss."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from i3d import catalogue
from i3d import provision
from i3d import releases
from tests import commands
from tests import test_export_runtimes
from tests.conftest import ROOT
from i3d.train import camera_motion

# The camera motions trained on: four of the eight, the fewest videos (8 training, 4
# held out) that still give batches from several classes and an evaluation over them.
CLASSES = camera_motion.CLASSES[:4]

# A few training steps per run of argv[3] (JSON: name, devices or null for the default
# strategy, Recipe settings), the weights before and after each saved to argv[2].
TRAIN_STEPS = r'''
import json
import sys
import numpy as np
import tensorflow as tf
cpu = tf.config.list_physical_devices('CPU')[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from i3d.videosets import labelled
from i3d import checkpoint
from i3d.train import data
from i3d.train import steps
from i3d.train.recipe import Recipe
folder, out, runs = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
classes = labelled.read_class_names(folder + '/classInd.txt')  # As the command reads them.
videos, _, _ = labelled.read_labelled(folder + '/trainlist01.txt', class_names=classes)
arrays = {}
for name, devices, settings in runs:
  recipe = Recipe(classes=tuple(classes), **settings)
  strategy = (tf.distribute.MirroredStrategy(devices) if devices else
              tf.distribute.get_strategy())
  assert strategy.num_replicas_in_sync == len(devices or [0])
  state, _ = steps.make_state(strategy, recipe)
  variables = checkpoint.model_variables(state.model)
  assert {v.dtype for v in variables.values()} == {tf.float32}
  arrays.update({f'before/{k}': v.numpy() for k, v in variables.items()})
  iterator = iter(data.distributed_dataset(strategy, data.ClipLoader(videos, classes,
                                                                      recipe), 0))
  step = steps.train_step_fn(strategy, state, recipe)
  for _ in range(recipe.steps):
    step(iterator)
  arrays.update({f'{name}/{k}': v.numpy() for k, v in variables.items()})
np.savez(out, **arrays)
'''


def train_steps(motions, tmp_path, runs, environment=None):
  """The arrays of `TRAIN_STEPS` for `runs`."""
  out = tmp_path / 'weights.npz'
  result = commands.run(
      ['-c', TRAIN_STEPS, str(motions), str(out), json.dumps(runs)],
      env=environment or env(), timeout=900)
  assert result.returncode == 0, result.stderr
  return np.load(out)


def env():
  return commands.user_env()


@pytest.fixture(scope='module')
def motions(tmp_path_factory):
  """4 classes of camera motion, 2 training and 1 test clip each, 12 frames."""
  provision.provision()
  folder = tmp_path_factory.mktemp('motions')
  camera_motion.generate(str(folder), 2, 1, 12, (112, 84), seed=1, classes=CLASSES)
  return folder


def train_command(motions, output, *extra):
  return [sys.executable, '-m', 'i3d.train', '--train_list', str(motions / 'trainlist01.txt'),
          '--eval_list', str(motions / 'testlist01.txt'), '--video_dir', str(motions),
          '--labels', str(motions / 'classInd.txt'), '--init', 'rgb_imagenet',
          '--output_dir', str(output), '--num_frames', '9', '--batch_size', '2',
          '--steps', '3', '--freeze_batch_norm', '--noflip', '--save_every', '1',
          '--log_every', '1', *extra]


def classify_top1(folder, model_dir, output):
  """`python -m i3d.classify` on `folder`'s held-out list with a trained model: its top-1."""
  scored = commands.run(
      ['-m', 'i3d.classify', '--videos', str(folder / 'testlist01.txt'),
       '--video_dir', str(folder), '--labels', str(folder / 'classInd.txt'),
       '--model_dir', str(model_dir), '--window_frames', '0', '--output_dir', str(output),
       '--noplots'], env=env(), timeout=600)
  assert scored.returncode == 0, scored.stderr
  return json.loads((output / 'metrics.json').read_text())['top1']


def weights(model_dir):
  reader = tf.train.load_checkpoint(str(model_dir / 'model' / 'model.ckpt'))
  return {k: reader.get_tensor(k) for k in reader.get_variable_to_shape_map()}


@pytest.fixture(scope='module')
def trained(motions, tmp_path_factory):
  """The training command's run on the camera motions: its folder and its output lines.
  --deterministic, so that a resumed run can be held to it bit for bit (without it,
  threads add partial sums in any order and the steps carry the rounding apart: 1.4e-3
  relative was seen on a few logits weights after four steps on an AVX2 EPYC)."""
  folder = tmp_path_factory.mktemp('trained') / 'whole'
  whole = commands.run(train_command(motions, folder, '--deterministic'), env=env(),
                       timeout=900)
  assert whole.returncode == 0, whole.stderr
  return folder, whole.stdout.strip().splitlines()


def test_command_trains_and_classify_agrees(motions, trained, tmp_path):
  folder, lines = trained
  assert lines[-1].startswith('eval top-1: ')
  top1 = float(lines[-1].split(': ')[1])
  assert [x.split(':')[0] for x in lines if x.startswith('step ')] == [
      f'step {s}/3' for s in range(1, 4)]
  for name in ('label_map.txt', 'train.json', 'model/model.ckpt.index', 'model/checkpoint'):
    assert (folder / name).exists(), name
  assert (folder / 'label_map.txt').read_text().split() == list(CLASSES)
  summary = json.loads((folder / 'train.json').read_text())
  assert summary['metrics']['top1'] == top1 and summary['num_classes'] == 4
  # The release's layout: the original TF1 code's variable names and shapes.
  names = set(weights(folder))
  assert 'RGB/inception_i3d/Logits/Conv3d_0c_1x1/conv_3d/w' in names
  assert weights(folder)['RGB/inception_i3d/Logits/Conv3d_0c_1x1/conv_3d/b'].shape == (4,)
  # classify scores the held-out list with the same top-1.
  assert classify_top1(motions, folder, tmp_path / 'scored') == top1
  # The folder refuses a run with other settings, naming them.
  other = commands.run(train_command(motions, folder, '--deterministic', '--seed', '3'),
                       env=env(), timeout=600)
  assert other.returncode == 1
  assert other.stderr.strip().endswith(
      'holds a run with other settings (seed: 0 -> 3); use another --output_dir, or the '
      'same settings to continue it')


def test_a_killed_run_resumes_to_the_same_weights_bit_for_bit(motions, trained, tmp_path):
  """Killed once the first step's checkpoint is written, then run again: the same end
  as the uninterrupted run, bit for bit."""
  folder, lines = trained
  killed = tmp_path / 'killed'
  process = commands.Command(train_command(motions, killed, '--deterministic'), env=env())
  deadline = time.monotonic() + 600
  while not (killed / 'train' / 'ckpt-1.index').exists():
    assert process.poll() is None and time.monotonic() < deadline
    time.sleep(0.05)
  os.kill(process.pid, signal.SIGKILL)
  process.wait()
  assert not (killed / 'model').exists()
  resumed = commands.run(train_command(motions, killed, '--deterministic'), env=env(),
                         timeout=900)
  assert resumed.returncode == 0, resumed.stderr
  assert 'continuing from' in resumed.stdout
  assert resumed.stdout.strip().splitlines()[-1] == lines[-1]
  expected, got = weights(folder), weights(killed)
  assert sorted(got) == sorted(expected)
  for name, value in expected.items():
    np.testing.assert_array_equal(got[name], value, err_msg=name)


def test_a_trained_model_exports_for_openvino_with_its_classes(trained, tmp_path):
  folder, _ = trained
  exported = commands.run(
      ['-m', 'i3d.export', '--model_dir', str(folder), '--format',
       'openvino', '--output_dir', str(tmp_path / 'ir')], env=env(), timeout=600)
  assert exported.returncode == 0, exported.stderr
  assert (tmp_path / 'ir' / 'label_map.txt').read_text().split() == list(CLASSES)
  clips = np.random.default_rng(0).uniform(-1, 1, (2, 9, 224, 224, 3)).astype(np.float32)
  model = releases.load_stream(catalogue.model_plan(str(folder)).streams[0])
  expected = model(tf.constant(clips), is_training=False)[0].numpy()
  got = test_export_runtimes.run_bare('openvino', tmp_path / 'ir' / 'rgb.xml',
                                      {'rgb': clips}, tmp_path)['logits']
  test_export_runtimes.assert_logits_equal(got, expected)


def test_a_diverging_loss_stops_the_run_naming_the_step(motions, tmp_path):
  result = commands.run(train_command(motions, tmp_path / 'o', '--learning_rate', '1e30'),
                        env=env(), timeout=600)
  assert result.returncode == 1
  [line] = result.stderr.strip().splitlines()
  assert 'the loss is nan' in line or 'the loss is inf' in line
  assert line.startswith('python -m i3d.train: step ')
  # Advice that can be followed: the folder takes no other settings.
  assert line.endswith(f'start again with a lower --learning_rate and another '
                       f'--output_dir (or remove {tmp_path / "o"})')
  assert not (tmp_path / 'o' / 'model').exists()


@pytest.fixture(scope='module')
def one_and_two_replicas(motions, tmp_path_factory):
  """Two steps of `TRAIN_STEPS` on one device and on two replicas: the global batch of
  2, batch norm frozen, no dropout (its masks differ by replica), no flips; what
  `train_command` runs with the two-worker test's flags."""
  settings = dict(num_frames=9, batch_size=2, steps=2, freeze_batch_norm=True,
                  dropout_keep_prob=1.0, flip=False)
  return train_steps(motions, tmp_path_factory.mktemp('replicas'), [
      ['one', ['/cpu:0'], settings], ['two', ['/cpu:0', '/cpu:1'], settings]])


def test_two_replicas_train_as_one_device(one_and_two_replicas):
  """MirroredStrategy over two logical CPUs against one, a clip a replica: the weights
  move the same after two steps."""
  arrays = one_and_two_replicas
  names = [k.split('/', 1)[1] for k in arrays.files if k.startswith('one/')]
  moved = max(np.abs(arrays[f'one/{n}'] - arrays[f'before/{n}']).max() for n in names)
  apart = max(np.abs(arrays[f'one/{n}'] - arrays[f'two/{n}']).max() for n in names)
  assert moved > 1e-4  # The weights did move.
  assert apart <= 1e-3 * moved


def free_ports(count):
  import socket  # pylint: disable=g-import-not-at-top
  sockets = [socket.socket() for _ in range(count)]
  for s in sockets:
    s.bind(('localhost', 0))
  ports = [s.getsockname()[1] for s in sockets]
  for s in sockets:
    s.close()
  return ports


def test_two_worker_processes_train_as_one(motions, one_and_two_replicas, tmp_path):
  """MultiWorkerMirroredStrategy over two processes on this machine (TF_CONFIG with
  loopback addresses), through the command, against the same steps on one device: the
  same weights."""
  common = ['--dropout_keep_prob', '1', '--steps', '2', '--save_every', '2']
  workers = [f'localhost:{port}' for port in free_ports(2)]
  processes = []
  scratch = tmp_path / 'scratch'  # The workers' temporary folder: left empty.
  scratch.mkdir()
  for index in range(2):
    config = json.dumps({'cluster': {'worker': workers},
                         'task': {'type': 'worker', 'index': index}})
    processes.append(subprocess.Popen(  # Each its own process, forked (tests/commands.py).
        [commands.PYTHON_SHIM, *train_command(motions, tmp_path / 'cluster', *common)[1:]],
        cwd=ROOT, env=commands.python_shim_env(dict(env(), TF_CONFIG=config,
                                                    TMPDIR=str(scratch))),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
  for process in processes:
    _, stderr = process.communicate(timeout=900)
    assert process.returncode == 0, stderr
  assert list(scratch.iterdir()) == []  # No summaries or saves of the second worker.
  cluster = weights(tmp_path / 'cluster')
  arrays = one_and_two_replicas
  names = [k.split('/', 1)[1] for k in arrays.files if k.startswith('one/')]
  assert sorted(cluster) == sorted(f'RGB/inception_i3d/{n}' for n in names)
  kept = [n for n in names if '/Logits/' not in n]  # Loaded from the release, then trained.
  moved = max(np.abs(arrays[f'one/{n}'] - arrays[f'before/{n}']).max() for n in kept)
  apart = max(np.abs(arrays[f'one/{n}'] - cluster[f'RGB/inception_i3d/{n}']).max()
              for n in names)
  assert moved > 1e-5  # The weights did move.
  assert apart <= 1e-3 * moved


def test_mixed_precision_moves_the_weights_as_float32_does(motions, tmp_path):
  """`--precision bfloat16`: float32 variables (batch norm's statistics too, trained
  here) that a step moves as float32 computation does, to bfloat16's precision: the
  update's relative error measured 0.08 with oneDNN's bfloat16 kernels and 0.22 with
  Eigen's (TensorFlow's path on CPUs without AVX-512, taken here when oneDNN cannot
  run bfloat16), against 1 and more for a wrong gradient."""
  from i3d.system import machine  # pylint: disable=g-import-not-at-top
  path = {'TF_ENABLE_ONEDNN_OPTS': '0'} if machine.bfloat16_cannot_run() else {}
  # 17 frames: with 9 to 16, TensorFlow 2.21's oneDNN gets a bfloat16 gradient wrong
  # (network.check_precision refuses them).
  arrays = train_steps(motions, tmp_path, [
      [precision, None, dict(num_frames=17, batch_size=2, steps=1, dropout_keep_prob=1.0,
                             precision=precision)]
      for precision in ('float32', 'bfloat16')], dict(env(), **path))
  names = [k.split('/', 1)[1] for k in arrays.files if k.startswith('float32/')]
  for group in ('conv_3d/w', 'moving_mean', 'moving_variance', 'Logits'):
    chosen = [n for n in names if group in n]
    full = np.concatenate([(arrays[f'float32/{n}'] - arrays[f'before/{n}']).ravel()
                           for n in chosen])
    half = np.concatenate([(arrays[f'bfloat16/{n}'] - arrays[f'before/{n}']).ravel()
                           for n in chosen])
    assert np.abs(full).max() > 0, group  # They moved.
    assert np.linalg.norm(half - full) <= 0.35 * np.linalg.norm(full), group


def test_precise_batch_norm_sets_the_saved_models_statistics(motions, tmp_path):
  """From scratch, batch norm trained, `--precise_bn_batches 2`: the model written (and
  evaluated) holds, in its first layer, the mean over the two training batches after the
  last step of their statistics under its final weights, recomputed here from the
  clips the loader makes for those positions."""
  from i3d.train import data  # pylint: disable=g-import-not-at-top
  from i3d.train.recipe import Recipe  # pylint: disable=g-import-not-at-top
  from i3d.videosets import labelled  # pylint: disable=g-import-not-at-top
  output = tmp_path / 'precise'
  command = train_command(motions, output, '--precise_bn_batches', '2', '--eval_every', '1')
  command[command.index('--init') + 1] = 'scratch'
  command.remove('--freeze_batch_norm')
  command[command.index('--steps') + 1] = '2'
  result = commands.run(command, env=env(), timeout=900)
  assert result.returncode == 0, result.stderr
  assert 'step 1: eval top-1' in result.stdout
  settings = json.loads((output / 'train.json').read_text())['settings']
  assert settings['precise_bn_batches'] == 2

  videos, classes, _ = labelled.read_labelled(str(motions / 'trainlist01.txt'))
  recipe = Recipe(**dict(settings, classes=tuple(classes),
                         lr_boundaries=tuple(settings['lr_boundaries'])))
  loader = data.ClipLoader(videos, classes, recipe)
  saved = weights(output)
  layer = 'RGB/inception_i3d/Conv3d_1a_7x7/'
  kernel = saved[layer + 'conv_3d/w']
  means = []
  for step in (2, 3):  # The two batches after the last (second) step.
    clips = np.stack([loader.example(step * 2 + k)[0] for k in range(2)])
    output_1a = tf.nn.conv3d(clips, kernel, [1, 2, 2, 2, 1], 'SAME').numpy()
    means.append(output_1a.reshape(-1, kernel.shape[-1]).astype(np.float64).mean(axis=0))
  np.testing.assert_allclose(saved[layer + 'batch_norm/moving_mean'], np.mean(means, 0),
                             rtol=1e-4, atol=1e-5)
  # Not the moving average training leaves (near its initial 0 after 2 steps).
  assert np.abs(np.mean(means, 0)).max() > 100 * 1e-5
