"""Faults of the commands added after classify and preprocess (train, export, FVD, live),
tried from the outside as a user meets them: each gives one line naming the file or
flag, the documented exit status, and leaves nothing behind that the next run keeps."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from i3d import provision
from i3d.catalogue import paths
from i3d.fvd import distance
from i3d.fvd import saved
from i3d.preprocess import sample
from i3d.train import camera_motion
from i3d.train import recipe as recipe_lib
from i3d.videosets import sources
from tests import commands
from tests.conftest import ROOT
from tests.test_faults import SHORT_WINDOWS, one_line, tiny_disk

ENV = commands.user_env()


def run(*args, timeout=600, env=None):
  """A command as a user runs it, in a process of its own (`tests/commands.py`)."""
  return commands.run(args, env=env or ENV, timeout=timeout)


@pytest.fixture(scope='module')
def motions(tmp_path_factory):
  """4 classes of camera motion, one training and one test clip each, 12 frames: the
  fewest videos that still take a batch of 2 and an evaluation over several classes."""
  provision.provision()
  folder = tmp_path_factory.mktemp('motions')
  camera_motion.generate(str(folder), 1, 1, 12, (112, 84), seed=1,
                         classes=camera_motion.CLASSES[:4])
  return folder


def train_args(motions, output, *extra):
  return ['-m', 'i3d.train', '--train_list', str(motions / 'trainlist01.txt'),
          '--eval_list', str(motions / 'testlist01.txt'), '--labels',
          str(motions / 'classInd.txt'), '--output_dir', str(output), '--num_frames', '9',
          '--batch_size', '2', '--steps', '2', '--save_every', '2', '--freeze_batch_norm',
          '--noflip', *extra]


def zero_the_middle(path):
  """A video whose container opens but whose frames are gone (header and tail kept)."""
  size = os.path.getsize(path)
  with open(path, 'r+b') as f:
    f.seek(2000)
    f.write(b'\0' * (size - 3000))


@pytest.fixture
def damaged_set(motions, tmp_path):
  """The set with one training video that opens but decodes no frame."""
  folder = tmp_path / 'set'
  subprocess.run(['cp', '-r', str(motions), str(folder)], check=True)
  video = folder / 'PanLeft' / 'v_PanLeft_g01_c01.avi'
  zero_the_middle(video)
  return folder, video


def test_an_undecodable_training_video_is_named_before_step_1(damaged_set, tmp_path):
  folder, video = damaged_set
  result = run(*train_args(folder, tmp_path / 'o'))
  assert result.returncode == 1
  assert one_line(result, 'python -m i3d.train').endswith(
      f'{folder / "trainlist01.txt"} line 1: {video}: no frame could be decoded')
  assert not (tmp_path / 'o').exists()
  skipped = run(*train_args(folder, tmp_path / 'o', '--skip_missing', '--steps', '1'))
  assert skipped.returncode == 0, skipped.stderr
  assert 'skipped 1 training and 0 held-out videos' in skipped.stderr
  assert skipped.stdout.splitlines()[-1].startswith('eval top-1: ')


def test_a_training_video_cut_short_is_said_and_recorded_or_refused(motions, tmp_path):
  """A training clip that decodes fewer frames than its container says was looped in
  training without a word. Now: one line on stderr, `train.json` lists it, and
  --refuse_cut_short refuses it before step 1."""
  from tests.test_faults import write_cut_avi  # pylint: disable=g-import-not-at-top
  folder = tmp_path / 'set'
  subprocess.run(['cp', '-r', str(motions), str(folder)], check=True)
  video = folder / 'PanLeft' / 'v_PanLeft_g01_c01.avi'
  decoded = write_cut_avi(video)
  note = f'{video}: the container says 50 frames, {decoded} could be decoded'
  # One step of 4: one epoch of the 4 training videos, each epoch a permutation.
  result = run(*train_args(folder, tmp_path / 'o', '--steps', '1', '--batch_size', '4'))
  assert result.returncode == 0, result.stderr
  assert f'python -m i3d.train: warning: {note}; using those' in result.stderr.splitlines()
  summary = json.loads((tmp_path / 'o' / 'train.json').read_text())
  assert summary['cut_short_videos'] == [f'{note}; using those']
  refused = run(*train_args(folder, tmp_path / 'strict', '--refuse_cut_short'))
  assert refused.returncode == 1
  assert one_line(refused, 'python -m i3d.train').endswith(
      f'{note}; refused (--refuse_cut_short)')
  assert not (tmp_path / 'strict').exists()


# Trains through the API, which reads the lists without decoding them: the video is met
# inside the input pipeline, as a video damaged during a run would be.
API_TRAIN = '''
import sys
from i3d.system import faults
from i3d.videosets import labelled

def job():
  from i3d.train import recipe as recipe_lib, run as run_lib
  folder = sys.argv[1]
  names = labelled.read_class_names(folder + '/classInd.txt')
  train, names, _ = labelled.read_labelled(folder + '/trainlist01.txt', None, 'train', names)
  test, _, _ = labelled.read_labelled(folder + '/testlist01.txt', None, 'test', names)
  recipe = recipe_lib.Recipe(classes=tuple(names), num_frames=9, batch_size=2, steps=6,
                             freeze_batch_norm=True, flip=False)
  run_lib.train(recipe, train, test, sys.argv[2], run_lib.Schedule(save_every=1))

faults.run_command('train', job)
'''


def test_a_video_that_fails_during_training_stops_it_in_one_line(damaged_set, tmp_path):
  folder, video = damaged_set
  result = run('-c', API_TRAIN, str(folder), str(tmp_path / 'o'), timeout=300)
  assert result.returncode == 1  # Not an abort (134), not a hang (the timeout).
  assert one_line(result, 'train') == f'train: {video}: no frame could be decoded'
  assert not (tmp_path / 'o' / 'model').exists()


def test_a_full_disk_during_a_checkpoint_exits_4_and_the_next_run_finishes(motions,
                                                                           tmp_path):
  with tiny_disk(tmp_path / 'disk', size='30m') as remount:
    out = tmp_path / 'disk' / 'o'
    full = run(*train_args(motions, out))
    assert full.returncode == 4, full.stderr
    line = one_line(full, 'python -m i3d.train')
    assert 'No space left on device' in line and 'an error of the machine' in line
    assert str(out / 'train') in line
    assert (out / 'settings.json').exists() and not (out / 'model').exists()
    remount('size=400m')
    again = run(*train_args(motions, out))
    assert again.returncode == 0, again.stderr
    assert sorted(os.listdir(out / 'train')) == [
        'checkpoint', 'ckpt-2.data-00000-of-00001', 'ckpt-2.index']
    assert (out / 'model' / 'model.ckpt.index').exists()


@pytest.mark.parametrize('export_format', ['saved_model', 'openvino'])
def test_a_full_disk_during_an_export_exits_4_and_leaves_nothing(export_format, tmp_path):
  # OpenVINO's writer once failed with a 20-line "basic_ios::clear" traceback, exit 1.
  with tiny_disk(tmp_path / 'disk', size='10m'):
    result = run('-m', 'i3d.export', '--output_dir', str(tmp_path / 'disk' / 'E'),
                 '--format', export_format)
    assert result.returncode == 4, result.stderr
    line = one_line(result, 'python -m i3d.export')
    assert 'No space left on device' in line and str(tmp_path / 'disk') in line
    assert os.listdir(tmp_path / 'disk') == []


def test_a_second_export_into_the_same_folder_at_once_is_refused(tmp_path):
  # Both once reported success, and only one format survived.
  import time  # pylint: disable=g-import-not-at-top
  out = tmp_path / 'E'
  first = subprocess.Popen([sys.executable, '-m', 'i3d.export', '--output_dir', str(out)],
                           cwd=ROOT, env=ENV, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
  deadline = time.monotonic() + 120
  while not (tmp_path / '.E.lock').exists():
    assert first.poll() is None and time.monotonic() < deadline
    time.sleep(0.02)
  second = run('-m', 'i3d.export', '--output_dir', str(out), '--format', 'onnx')
  assert second.returncode == 1
  assert one_line(second, 'python -m i3d.export') == (
      f'python -m i3d.export: {out}: another process ({first.pid}) is writing it; wait for '
      'it to end, or use another folder')
  _, stderr = first.communicate(timeout=300)
  assert first.returncode == 0, stderr
  assert (out / 'saved_model.pb').exists()
  assert sorted(os.listdir(tmp_path)) == ['E']  # The lock file is gone with the export.


def test_what_a_killed_run_left_is_removed_by_the_next(motions, tmp_path):
  out = tmp_path / 'o'
  # What kill -9 leaves: TensorFlow's checkpoint being written, a staging folder of the
  # final model, each of a process that is gone (pid 2**22 + 1 exceeds Linux's pid_max).
  (out / 'train' / 'ckpt-2_temp').mkdir(parents=True)
  (out / 'train' / 'ckpt-2_temp' / 'part').write_bytes(b'x' * 1000)
  gone = 2 ** 22 + 1
  (out / f'.model.{gone}.abcd').mkdir()
  result = run(*train_args(motions, out, '--steps', '1', '--save_every', '1'))
  assert result.returncode == 0, result.stderr
  assert not (out / 'train' / 'ckpt-2_temp').exists()
  assert not (out / f'.model.{gone}.abcd').exists()
  assert 'save_counter' not in result.stderr and not result.stderr.strip()

  exported = tmp_path / 'E'
  (tmp_path / f'.E.{gone}.wxyz').mkdir()
  export = run('-m', 'i3d.export', '--output_dir', str(exported), '--format',
               'saved_model')
  assert export.returncode == 0, export.stderr
  assert sorted(os.listdir(tmp_path)) == ['E', 'o']


@pytest.mark.parametrize('flag', ['--init', '--checkpoint_dir'])
def test_a_garbage_checkpoint_for_train_is_named(flag, motions, tmp_path):
  release = tmp_path / 'checkpoints' / 'rgb_imagenet'
  release.mkdir(parents=True)
  (release / 'model.ckpt.index').write_text('garbage')
  (release / 'model.ckpt.data-00000-of-00001').write_text('x')
  value = release if flag == '--init' else release.parent
  result = run(*train_args(motions, tmp_path / 'o', flag, str(value)))
  assert result.returncode == 1
  assert one_line(result, 'python -m i3d.train') == (
      f'python -m i3d.train: {release / "model.ckpt.index"}: damaged or not a checkpoint '
      'index (file is too short to be an sstable)')


@pytest.mark.parametrize('flags, message', [
    (['--num_frames', '100000'], 'flag --num_frames=100000: 100000 is not an integer in '
     'the range [9, 1024]'),
    (['--seed', '-1'], 'flag --seed=-1: -1 is not a non-negative integer'),
    (['--lr_boundaries', 'a,b'], "flag --lr_boundaries=['a', 'b']: must be positive step "
     'numbers, increasing'),
    (['--lr_boundaries', '-3'], "flag --lr_boundaries=['-3']: must be positive"),
    (['--learning_rate', '-1'], 'flag --learning_rate=-1.0: must be more than 0'),
    (['--weight_decay', '-5'], 'flag --weight_decay=-5: -5.0 is not a non-negative'),
])
def test_train_checks_every_flag_before_writing(flags, message, tmp_path):
  result = run('-m', 'i3d.train', '--train_list', 'x', '--eval_list', 'y',
               '--output_dir', str(tmp_path / 'o'), *flags)
  assert result.returncode == 1
  assert message in result.stderr
  assert not (tmp_path / 'o').exists()


@pytest.mark.parametrize('content, message', [
    ('{\n "seed": 0,\n', 'settings.json: damaged (Expecting property name'),
    (None, 'holds a run with other settings (bogus: 1 -> null)'),
])
def test_a_damaged_or_unknown_settings_file_is_named(content, message, motions, tmp_path):
  out = tmp_path / 'o'
  out.mkdir()
  classes = (motions / 'classInd.txt').read_text().split()[1::2]
  settings = recipe_lib.Recipe(classes=tuple(classes), num_frames=9, batch_size=2, steps=1,
                               freeze_batch_norm=True, flip=False).to_json()
  settings['bogus'] = 1
  (out / 'settings.json').write_text(content or json.dumps(settings))
  result = run(*train_args(motions, out, '--steps', '1'))
  assert result.returncode == 1
  assert message in one_line(result, 'python -m i3d.train')


def write_statistics(path, seed=0, **replace):
  """Statistics of 4 random embeddings, saved as the command saves them, with arrays of
  the file replaced."""
  embeddings = np.random.default_rng(seed).normal(size=(4, 400)).astype(np.float32)
  stats = distance.Statistics.of(embeddings)
  saved.save(str(path), saved.Embedded(str(path), saved.Settings(16, 'float32', 'tf1'),
                                       stats, embeddings))
  if replace:
    arrays = dict(np.load(path))
    arrays.update(replace)
    np.savez(path, **arrays)


@pytest.mark.parametrize('damage, message', [
    ('cut', 'a damaged .npz (File is not a zip file)'),
    ('shape', 'statistics of shapes (10,) and (400, 400), where FVD has [400] and '
     '[400, 400]'),
    ('count', 'statistics of 1 video(s); FVD needs at least 2'),
    ('not_psd', 'the covariance is not positive semi-definite'),
])
def test_fvd_names_damaged_statistics(damage, message, tmp_path):
  good, bad = tmp_path / 'good.npz', tmp_path / 'bad.npz'
  write_statistics(good)
  if damage == 'cut':
    write_statistics(bad, seed=1)
    bad.write_bytes(bad.read_bytes()[:5000])
  elif damage == 'shape':
    write_statistics(bad, mean=np.zeros(10))
  elif damage == 'count':
    write_statistics(bad, count=1, covariance=np.eye(400), embeddings=np.zeros((1, 400)))
  else:
    write_statistics(bad, covariance=-5 * np.eye(400))
  result = run('-m', 'i3d.fvd', '--real', str(good), '--generated', str(bad))
  assert result.returncode == 1
  assert one_line(result, 'python -m i3d.fvd') == f'python -m i3d.fvd: {bad}: {message}'


def test_files_are_written_with_the_users_umask(tmp_path):
  video = os.path.join(sample.sample_videos(), 'carphone_pristine.mp4')
  private = dict(ENV)

  def under_umask_077(*args):
    return commands.run(args, env=private, umask=0o077)

  assert under_umask_077('-m', 'preprocess', '--video', video, '--out_prefix',
                         str(tmp_path / 'p'), '--end_sec', '0.5').returncode == 0
  videos = tmp_path / 'videos'
  videos.mkdir()
  os.symlink(video, videos / 'carphone.mp4')
  classified = under_umask_077('-m', 'i3d.classify', '--videos', str(videos), '--output_dir',
                               str(tmp_path / 'c'), *SHORT_WINDOWS, '--noplots',
                               '--workers', '1')
  assert classified.returncode == 0, classified.stderr
  write_statistics(tmp_path / 'g.npz')
  arrays = np.random.default_rng(0).integers(0, 256, (2, 9, 32, 32, 3), np.uint8)
  np.save(tmp_path / 'a.npy', arrays)
  fvd = under_umask_077('-m', 'i3d.fvd', '--real', str(tmp_path / 'a.npy'), '--num_frames',
                        '9', '--save_stats', str(tmp_path / 's.npz'))
  assert fvd.returncode == 0, fvd.stderr
  exported = under_umask_077('-m', 'i3d.export', '--output_dir', str(tmp_path / 'E'))
  assert exported.returncode == 0, exported.stderr
  written = [tmp_path / name for name in ('p_rgb.npy', 'p_flow.npy', 'p_rgb.gif', 's.npz')]
  written += [tmp_path / 'c' / name for name in ('run.json', 'summary.csv',
                                                  'videos/carphone.npz')]
  written += [tmp_path / 'E' / 'assets' / 'label_map.txt']
  assert {oct(os.stat(path).st_mode & 0o777) for path in written} == {'0o600'}
  assert oct(os.stat(tmp_path / 'E').st_mode & 0o777) == '0o700'


def test_ids_of_videos_outside_a_lists_folder_are_readable(tmp_path):
  lists = tmp_path / 'lists'
  lists.mkdir()
  video = os.path.join(sample.sample_videos(), 'bikes.mp4')
  (lists / 'list.txt').write_text(video + '\n')
  [listed] = sources.list_videos(str(lists / 'list.txt'))
  assert listed.id == os.path.splitext(video)[0].lstrip('/').replace('/', '__')
  assert sources.video_id(str(lists / '.hidden.mp4'), str(lists)) == '_hidden'
  # A folder of results named by the ids of earlier versions is refused, naming one.
  old = tmp_path / 'out' / 'videos'
  old.mkdir(parents=True)
  (old / '..__..__data__bikes.npz').write_bytes(b'')
  result = run('-m', 'i3d.classify', '--videos', str(lists / 'list.txt'), '--output_dir',
               str(tmp_path / 'out'), '--eval_type', 'rgb', '--checkpoint_dir',
               paths.checkpoint_dir())
  assert result.returncode == 1
  assert one_line(result, 'classify').startswith(
      f'classify: {old / "..__..__data__bikes.npz"}: a result named by an earlier '
      "version's id")


def test_smaller_faults_get_one_line(tmp_path):
  folder = run('-m', 'i3d.live', '--source', str(tmp_path))
  assert folder.returncode == 1
  assert one_line(folder, 'python -m i3d.live') == (
      f'python -m i3d.live: {tmp_path}: is a folder (a source is a camera number, a URL '
      'or a video file)')
  text = tmp_path / 'text.npy'
  text.write_text('hello')
  npy = run('evaluate_sample.py', '--eval_type', 'rgb', '--rgb_sample', str(text))
  assert npy.returncode == 1
  assert one_line(npy, 'evaluate_sample.py') == (
      f'evaluate_sample.py: {text}: not a .npy array (no NumPy header: a file of another '
      'kind; python -m preprocess writes them)')
  camera = run('-m', 'i3d.live', '--source', '7')
  assert camera.returncode == 1
  assert one_line(camera, 'python -m i3d.live') == (
      'python -m i3d.live: 7: cannot be opened (no such camera, or a stream OpenCV cannot '
      'reach or decode)')


def test_camera_motion_writes_the_named_classes_and_refuses_unknown_ones(tmp_path):
  done = run('-m', 'i3d.train.camera_motion', '--output_dir', str(tmp_path / 'two'),
             '--classes', 'TiltUp,PanLeft', '--train_per_class', '1', '--test_per_class',
             '1', '--frames', '2', '--size', '32,24')
  assert done.returncode == 0, done.stderr
  assert (tmp_path / 'two' / 'classInd.txt').read_text() == '1 TiltUp\n2 PanLeft\n'
  assert len((tmp_path / 'two' / 'testlist01.txt').read_text().split()) == 2
  refused = run('-m', 'i3d.train.camera_motion', '--output_dir', str(tmp_path / 'bad'),
                '--classes', 'PanLeft,Sideways')
  assert refused.returncode == 1
  assert one_line(refused, 'python -m i3d.train.camera_motion').endswith(
      "unknown camera motions ['Sideways']; known: "
      'PanLeft, PanRight, TiltUp, TiltDown, ZoomIn, '
      'ZoomOut, RotateClockwise, RotateAnticlockwise')


def test_a_read_only_file_system_is_named_as_such(tmp_path):
  # It was reported as "Permission denied", as if the user had named a folder of others.
  from i3d.preprocess import sample as samples  # pylint: disable=g-import-not-at-top
  with tiny_disk(tmp_path / 'disk') as remount:
    remount('ro')
    result = run('-m', 'preprocess', '--video', samples.sample_video(), '--out_prefix',
                 str(tmp_path / 'disk' / 'x'), '--nogif', timeout=120)
    assert result.returncode == 4, result.stderr
    assert one_line(result, 'preprocess') == (
        f'preprocess: {tmp_path / "disk"}: Read-only file system (an error of the machine; '
        'nothing was written off: run again once mended)')
