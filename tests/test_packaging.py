"""The package installed the ordinary way (a wheel, not editable) and used from another
folder: what it holds, and that its commands work with the checkpoints given by the
environment."""

import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from i3d import provision
from i3d.catalogue import paths
from i3d.preprocess import sample
from tests.conftest import ROOT

# One namespace, and the card's top-level preprocess.
PACKAGES = {'i3d', 'preprocess'}
# Files a researcher keeps beside their work, named as the commands once were.
LOCAL_FILES = ('train.py', 'classify.py', 'preprocess.py')
COMMANDS = ('i3d-evaluate-sample', 'i3d-classify', 'i3d-classify-beam', 'i3d-live',
            'i3d-train', 'i3d-camera-motion', 'i3d-fvd', 'i3d-export', 'i3d-provision',
            'i3d-preprocess', 'i3d-features', 'i3d-convert')


def source_files():
  """The clone's files as git sees them (tracked, and new ones not ignored)."""
  listed = subprocess.run(['git', 'ls-files', '-co', '--exclude-standard'], cwd=ROOT,
                          check=True, capture_output=True, text=True).stdout.splitlines()
  return [name for name in listed if os.path.isfile(os.path.join(ROOT, name))]


@pytest.fixture(scope='module')
def installed(tmp_path_factory):
  """A wheel built from a copy of the clone, installed into a folder of its own."""
  root = tmp_path_factory.mktemp('packaging')
  source = root / 'source'
  for name in source_files():
    os.makedirs(source / os.path.dirname(name), exist_ok=True)
    shutil.copy2(os.path.join(ROOT, name), source / name)
  subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--quiet', '--no-deps',
                  '--no-build-isolation', '--wheel-dir', str(root / 'dist'), str(source)],
                 check=True, capture_output=True)
  [wheel] = list((root / 'dist').glob('*.whl'))
  subprocess.run([sys.executable, '-m', 'pip', 'install', '--quiet', '--no-deps',
                  '--target', str(root / 'site'), str(wheel)], check=True,
                 capture_output=True)
  elsewhere = root / 'elsewhere'
  elsewhere.mkdir()
  for name in LOCAL_FILES:  # Would run (and fail) instead of the project's if found.
    (elsewhere / name).write_text('raise SystemExit("the local file ran")\n')
  provision.provision()
  env = dict(os.environ, PYTHONPATH=str(root / 'site'),
             PATH=f'{root / "site" / "bin"}{os.pathsep}{os.environ["PATH"]}',
             I3D_CHECKPOINT_DIR=paths.checkpoint_dir(), I3D_DATA_DIR=str(root / 'data'),
             I3D_CACHE_DIR=str(root / 'cache'))
  return wheel, root / 'site', elsewhere, env


def run(args, cwd, env):
  return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True,
                        text=True, check=False)


def test_the_wheel_holds_the_packages_and_the_class_lists_only(installed):
  wheel, _, _, _ = installed
  names = zipfile.ZipFile(wheel).namelist()
  top = {name.split('/')[0] for name in names if not name.split('/')[0].endswith(
      '.dist-info')}
  assert top == PACKAGES
  assert {'i3d/catalogue/label_maps/label_map.txt',
          'i3d/catalogue/label_maps/label_map_600.txt'} <= set(names)
  assert not [n for n in names if n.startswith(('tests/', 'bench/', 'data/'))]
  assert 'i3d/fvd/__main__.py' in names


def test_installed_fvd_command_runs_from_elsewhere(installed):
  _, _, elsewhere, env = installed
  import numpy as np  # pylint: disable=g-import-not-at-top
  videos = np.random.default_rng(0).integers(0, 256, [2, 2, 9, 32, 32, 3], np.uint8)
  for name, value in zip(('a.npy', 'b.npy'), videos):
    np.save(elsewhere / name, value)
  result = run(['-m', 'i3d.fvd', '--real', 'a.npy', '--generated', 'b.npy',
                '--num_frames', '9'], elsewhere, env)
  assert result.returncode == 0, result.stderr
  assert float(result.stdout.splitlines()[-1].split('FVD: ')[1]) > 0


def test_installed_package_imports_from_elsewhere(installed):
  _, site, elsewhere, env = installed
  code = ('import i3d; from i3d import catalogue, classify; '
          'print(i3d.__file__); print(catalogue.read_labels('
          'catalogue.RELEASES["rgb_scratch_kin600"])[0]); '
          'print(classify.Settings().checkpoint_dir)')
  result = run(['-c', code], elsewhere, env)
  assert result.returncode == 0, result.stderr
  location, first_class, checkpoint_dir = result.stdout.split('\n')[:3]
  assert location.startswith(str(site))
  assert first_class == 'abseiling' and checkpoint_dir == paths.checkpoint_dir()


def test_installed_commands_run_from_elsewhere(installed):
  _, _, elsewhere, env = installed
  video = os.path.join(sample.sample_videos(), 'carphone_pristine.mp4')
  # The preprocessing command, checking that it never imported TensorFlow (as
  # python -m i3d.preprocess: a local preprocess.py shadows python -m preprocess).
  code = ('import runpy, sys\n'
          f'sys.argv = ["preprocess", "--video", {video!r}, "--out_prefix", "p",\n'
          '            "--modalities", "rgb", "--nogif"]\n'
          'try:\n  runpy.run_module("i3d.preprocess", run_name="__main__")\n'
          'except SystemExit as e:\n  assert not e.code, e.code\n'
          'print("tensorflow" in sys.modules)\n')
  result = run(['-c', code], elsewhere, env)
  assert result.returncode == 0, result.stderr
  assert result.stdout.splitlines()[-1] == 'False'
  assert (elsewhere / 'p_rgb.npy').exists()

  folder = elsewhere / 'videos'
  folder.mkdir()
  shutil.copy(video, folder / 'carphone.mp4')
  result = run(['-m', 'i3d.classify', '--videos', 'videos', '--output_dir', 'out',
                '--checkpoint_dir', paths.checkpoint_dir(), '--eval_type', 'rgb',
                '--window_frames', '9', '--window_stride', '1000', '--noplots',
                '--workers', '1'], elsewhere, env)
  assert result.returncode == 0, result.stderr
  assert result.stdout.startswith('1 processed, 0 already done, 0 failed now')
  assert (elsewhere / 'out' / 'videos' / 'carphone.npz').exists()

  # The evaluation script, on an input given by flag; the checkpoints by environment.
  result = run(['-m', 'i3d.evaluate_sample', '--eval_type', 'rgb', '--top_k', '3',
                '--rgb_sample', str(elsewhere / 'p_rgb.npy')], elsewhere, env)
  assert result.returncode == 0, result.stderr
  assert result.stdout.startswith('Norm of logits: ')
  assert len(result.stdout.splitlines()) == 6


def test_commands_are_not_shadowed_by_a_users_own_files(installed):
  """From a folder holding train.py, classify.py and preprocess.py of its own, every
  command is the project's; only `python -m preprocess` is shadowed, as Python runs the
  folder's file first (the README says so), and i3d-preprocess is not."""
  _, site, elsewhere, env = installed
  # absl's --help prints the command's usage and flags, and exits with status 1.
  for args, flag in ((['-m', 'i3d.train', '--help'], '--train_list'),
                     (['-m', 'i3d.classify', '--help'], '--videos'),
                     (['-m', 'i3d.preprocess', '--help'], '--out_prefix'),
                     (['-m', 'i3d.live', '--help'], '--source')):
    result = run(args, elsewhere, env)
    assert flag in result.stdout, (args, result.stderr)
    assert 'the local file ran' not in result.stdout + result.stderr
  for command in COMMANDS:
    script = site / 'bin' / command
    assert script.exists(), command
    result = subprocess.run([command, '--help'], cwd=elsewhere, env=env,
                            capture_output=True, text=True, check=False)
    assert 'USAGE' in result.stdout and 'Traceback' not in result.stderr, command
    assert 'the local file ran' not in result.stdout + result.stderr
  shadowed = run(['-m', 'preprocess', '--help'], elsewhere, env)
  assert 'the local file ran' in shadowed.stderr
  # Outside such a folder, python -m preprocess is the project's command.
  plain = run(['-m', 'preprocess', '--help'], site, env)
  assert '--out_prefix' in plain.stdout and 'Preprocesses a video' in plain.stdout


def test_the_wheel_installs_one_namespace_and_preprocess(installed):
  _, site, _, _ = installed
  top = {name for name in os.listdir(site)
         if not name.endswith(('.dist-info', '__pycache__')) and name != 'bin'}
  assert top == PACKAGES
