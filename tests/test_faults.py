"""Faults and damaged files, from the outside: real processes, real files, real (tiny)
filesystems. Each case asserts the exit status, the one line, and what is and is not
left on disk."""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from i3d import provision
from i3d.system.lock import folder_lock
from i3d.catalogue import paths
from i3d.preprocess import sample
from tests import commands
from tests.conftest import ROOT, as_in_a_terminal

ENV = commands.user_env()


def run(*args, timeout=600):
  """A command as a user runs it, in a process of its own (forked from an interpreter that
  has imported TensorFlow: `tests/commands.py`)."""
  return commands.run(args, env=ENV, timeout=timeout)


def run_fresh(*args, timeout=600):
  """A command in a fresh interpreter: TensorFlow's start-up lines included."""
  return subprocess.run([sys.executable, *args], cwd=ROOT, env=ENV, capture_output=True,
                        text=True, check=False, timeout=timeout)


def one_line(result, program):
  lines = result.stderr.splitlines()
  assert len(lines) == 1, result.stderr
  assert lines[0].startswith(f'{program}: '), lines[0]
  return lines[0]


@pytest.fixture(scope='module')
def videos(tmp_path_factory):
  """Two real 4-s videos (the carphone pair) in a folder of their own."""
  provision.provision()
  folder = tmp_path_factory.mktemp('videos')
  for name in ('carphone_pristine', 'carphone_distorted'):
    shutil.copy(os.path.join(sample.sample_videos(), f'{name}.mp4'), folder / f'{name}.mp4')
  return folder


# Two 9-frame windows a video, its first and last: what these tests prove does not
# depend on the network's work, which one 100-frame window made twice as long a run.
SHORT_WINDOWS = ('--window_frames', '9', '--window_stride', '1000')


def classify_args(videos_dir, out, workers=1):
  return ['-m', 'i3d.classify', '--videos', str(videos_dir), '--output_dir', str(out),
          '--eval_type', 'rgb', *SHORT_WINDOWS, '--noplots', '--workers', str(workers)]


def classify(videos_dir, out, *extra):
  return run(*classify_args(videos_dir, out), *extra)


@contextlib.contextmanager
def tiny_disk(path, size='3m'):
  """A tmpfs of `size` at `path`; skips where mounting is not allowed."""
  os.makedirs(path)
  result = subprocess.run(['mount', '-t', 'tmpfs', '-o', f'size={size}', 'tmpfs', str(path)],
                          capture_output=True, check=False)
  if result.returncode != 0:
    pytest.skip(f'cannot mount a tmpfs here: {result.stderr.decode().strip()}')
  try:
    yield lambda options: subprocess.run(['mount', '-o', f'remount,{options}', str(path)],
                                         check=True)
  finally:
    subprocess.run(['umount', '-l', str(path)], check=False)


def test_a_full_disk_stops_the_run_and_writes_off_nothing(videos, tmp_path):
  out = tmp_path / 'disk' / 'out'
  with tiny_disk(tmp_path / 'disk') as remount:
    result = classify(videos, out)
    assert result.returncode == 4, result.stderr
    line = one_line(result, 'classify')
    assert 'No space left on device (an error of the machine' in line, line
    assert str(out) in line
    assert not list((out / 'videos').glob('*.failed.json')) if (out / 'videos').exists() else True
    remount('size=400m')
    again = classify(videos, out)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith('2 processed, 0 already done, 0 failed now')
    assert not (out / '.scratch').exists()
    remount('ro')
    read_only = classify(videos, tmp_path / 'disk' / 'other')
    assert read_only.returncode == 4
    assert 'Read-only file system (an error of the machine' in one_line(read_only, 'classify')


def damage(folder, how):
  """Damages the provisioned checkpoint copied to `folder` as a user might find it."""
  data = next(folder.glob('model.ckpt.data-*'))
  if how == 'data cut short':
    data.write_bytes(data.read_bytes()[:len(data.read_bytes()) // 2])
  elif how == 'data overwritten':
    raw = bytearray(data.read_bytes())
    raw[1000:5000] = os.urandom(4000)
    data.write_bytes(bytes(raw))
  elif how == 'index cut short':
    index = folder / 'model.ckpt.index'
    index.write_bytes(index.read_bytes()[:100])


@pytest.mark.parametrize('how, message', [
    ('data cut short', r'model\.ckpt\.data-\*: variable RGB/inception_i3d/\S+ is damaged'),
    ('data overwritten', r'model\.ckpt\.data-\*: variable RGB/inception_i3d/\S+ is damaged'),
    ('index cut short', r'model\.ckpt\.index: damaged or not a checkpoint index'),
    ('rgb as flow', r'flow_imagenet/model\.ckpt: no I3D under the scope '
                    r"'Flow/inception_i3d/' \(it holds RGB/inception_i3d/\)"),
])
def test_a_damaged_or_wrong_checkpoint_is_named_before_any_work(how, message, videos,
                                                                 tmp_path):
  import re  # pylint: disable=g-import-not-at-top
  checkpoints = tmp_path / 'checkpoints'
  name = 'flow_imagenet' if how == 'rgb as flow' else 'rgb_imagenet'
  shutil.copytree(os.path.join(paths.checkpoint_dir(), 'rgb_imagenet'), checkpoints / name)
  damage(checkpoints / name, how)
  eval_type = 'flow' if how == 'rgb as flow' else 'rgb'
  evaluated = run('evaluate_sample.py', '--eval_type', eval_type, '--checkpoint_dir',
                  str(checkpoints))
  assert evaluated.returncode == 1
  assert re.search(message, one_line(evaluated, 'evaluate_sample.py'))
  classified = run('-m', 'i3d.classify', '--videos', str(videos), '--output_dir',
                   str(tmp_path / 'out'), '--eval_type', eval_type, '--checkpoint_dir',
                   str(checkpoints))
  assert classified.returncode == 1
  assert re.search(message, one_line(classified, 'classify'))
  assert not (tmp_path / 'out').exists()  # No run.json, no lock: nothing at all.


def test_damaged_results_are_set_aside_and_redone(videos, tmp_path):
  out = tmp_path / 'out'
  assert classify(videos, out).returncode == 0
  pristine = out / 'videos' / 'carphone_pristine.npz'
  distorted = out / 'videos' / 'carphone_distorted.npz'
  good = pristine.read_bytes()
  pristine.write_bytes(good[:len(good) // 2])           # Cut: seen at launch.
  raw = bytearray(distorted.read_bytes())
  raw[200:260] = b'\0' * 60                             # Overwritten: seen when read.
  distorted.write_bytes(bytes(raw))
  result = classify(videos, out)
  assert result.returncode == 0, result.stderr
  lines = result.stderr.splitlines()
  assert any(f'{pristine}: damaged (not a whole .npz); moved to {pristine}.damaged, the '
             'video is done again' in line for line in lines), result.stderr
  assert result.stdout.startswith('1 processed, 1 already done, 0 failed now')
  assert (out / 'videos' / 'carphone_pristine.npz.damaged').read_bytes() == good[:len(good) // 2]
  assert pristine.read_bytes() == good
  assert any(f'{distorted}: damaged' in line and 'run again to redo the video' in line
             for line in lines), result.stderr
  third = classify(videos, out)
  assert third.returncode == 0 and third.stdout.startswith('1 processed, 1 already done')
  (out / 'run.json').write_text('')
  refused = classify(videos, out)
  assert refused.returncode == 1
  assert one_line(refused, 'classify').startswith(f'classify: {out}/run.json: damaged (')


def children(pid):
  with open(f'/proc/{pid}/task/{pid}/children') as f:
    return [int(p) for p in f.read().split()]


def alive(pid):
  try:
    os.kill(pid, 0)
  except ProcessLookupError:
    return False
  with open(f'/proc/{pid}/stat') as f:
    return f.read().split()[2] != 'Z'


def wait_for_children(process, count, deadline=120):
  start = time.time()
  while len(children(process.pid)) < count:
    assert process.poll() is None, process.stderr.read()
    assert time.time() - start < deadline
    time.sleep(0.05)
  return children(process.pid)


@pytest.mark.parametrize('command', ['classify', 'preprocess'])
def test_kill_9_leaves_no_process_behind_and_the_next_run_no_scratch(command, videos,
                                                                      tmp_path):
  out = tmp_path / 'out'
  if command == 'classify':
    args = classify_args(videos, out, workers=2)
  else:  # OpenCV's TV-L1 on two worker processes, 14 pairs (the fast one uses threads).
    args = ['-m', 'preprocess', '--video', str(videos / 'carphone_pristine.mp4'),
            '--out_prefix', str(out / 'p'), '--modalities', 'flow', '--end_sec', '0.6',
            '--flow_impl', 'opencv', '--workers', '2']
  process = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=ENV,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
  # Its workers (and multiprocessing's resource tracker) are running.
  workers = wait_for_children(process, 2)
  time.sleep(1)
  workers = children(process.pid)
  process.kill()
  process.wait()
  deadline = time.time() + 5
  while any(alive(pid) for pid in workers) and time.time() < deadline:
    time.sleep(0.1)
  assert not [pid for pid in workers if alive(pid)]
  if command == 'classify':
    assert (out / '.scratch').exists()  # What the kill left...
    result = classify(videos, out)
    assert result.returncode == 0, result.stderr
    assert not (out / '.scratch').exists()  # ... the next run removed.
  else:
    assert [n for n in os.listdir(out) if n.endswith('.tmp')]
    result = run(*args[:-2], '--workers', '1')
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(out)) == ['p_flow.gif', 'p_flow.npy']


def test_a_second_run_into_a_held_folder_is_refused_at_once(videos, tmp_path):
  with folder_lock(str(tmp_path / 'out')):
    result = classify(videos, tmp_path / 'out')
  assert result.returncode == 1
  assert one_line(result, 'classify') == (
      f'classify: {tmp_path}/out: another run (process {os.getpid()}) is writing there; '
      'wait for it to end, or use another folder')
  assert os.listdir(tmp_path / 'out') == ['.lock']


def bytes_written(path) -> int:
  try:
    return path.stat().st_size
  except FileNotFoundError:  # Gone between listing and looking.
    return 0


def test_preprocess_filesystem_errors_and_ctrl_c_get_one_line(videos, tmp_path):
  video = str(videos / 'carphone_pristine.mp4')
  (tmp_path / 'file').write_text('')
  under_a_file = run('-m', 'preprocess', '--video', video, '--out_prefix',
                     str(tmp_path / 'file' / 'p'))
  assert under_a_file.returncode == 1
  assert one_line(under_a_file, 'preprocess') == (
      f'preprocess: {tmp_path}/file/p_rgb.npy: {tmp_path}/file is a file, not a folder')
  process = subprocess.Popen(
      [sys.executable, '-m', 'preprocess', '--video', video, '--out_prefix',
       str(tmp_path / 'c'), '--modalities', 'flow', '--workers', '1'],
      cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
      preexec_fn=as_in_a_terminal)
  # Well into the TV-L1 pairs: some flow frames written (about 640 KB each).
  deadline = time.monotonic() + 60
  while process.poll() is None and time.monotonic() < deadline and not any(
      bytes_written(t) > 2**21 for t in tmp_path.glob('.c_flow.npy.*.tmp')):
    time.sleep(0.02)
  process.send_signal(signal.SIGINT)
  _, stderr = process.communicate(timeout=60)
  assert process.returncode == 130, stderr
  assert stderr == 'preprocess: interrupted\n'
  assert not [n for n in os.listdir(tmp_path) if n.startswith(('c_', '.c_'))]


def children(pid):
  """The processes whose parent is `pid` (Linux's /proc)."""
  found = []
  for entry in os.listdir('/proc'):
    try:
      with open(f'/proc/{entry}/stat') as f:
        if entry.isdigit() and int(f.read().rsplit(')', 1)[1].split()[1]) == pid:
          found.append(int(entry))
    except (OSError, IndexError, ValueError):
      pass
  return found


# A job interrupted by Ctrl-C whose clean-up then fails with another error, as
# TensorFlow's name scopes and an import cut short by KeyboardInterrupt do.
CTRL_C_THEN_ANOTHER_ERROR = """
import signal
from i3d.system import faults

def job():
  try:
    signal.raise_signal(signal.SIGINT)
  finally:
    raise IndexError('pop from empty list')

faults.run_command('prog', job)
"""


def test_an_error_on_the_way_out_of_ctrl_c_is_still_ctrl_c():
  result = subprocess.run([sys.executable, '-c', CTRL_C_THEN_ANOTHER_ERROR], cwd=ROOT,
                          capture_output=True, text=True, check=False, timeout=60,
                          preexec_fn=as_in_a_terminal)
  assert (result.returncode, result.stderr) == (130, 'prog: interrupted\n')


def test_ctrl_c_in_a_terminal_stops_the_workers_without_a_word(videos, tmp_path):
  """A terminal's Ctrl-C reaches the whole process group, the pool's workers too: one
  line, from the command, and no worker's KeyboardInterrupt traceback."""
  out = tmp_path / 'out'
  process = subprocess.Popen(
      [sys.executable, *classify_args(videos, out, workers=2)], cwd=ROOT, env=ENV,
      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
      preexec_fn=as_in_a_terminal, start_new_session=True)
  deadline = time.monotonic() + 300
  while process.poll() is None and time.monotonic() < deadline and len(
      children(process.pid)) < 2:
    time.sleep(0.05)
  time.sleep(1)  # The two workers importing their modules, or at work.
  os.killpg(process.pid, signal.SIGINT)  # As the terminal sends it: to every process.
  _, stderr = process.communicate(timeout=60)
  assert process.returncode == 130, stderr
  assert stderr.splitlines()[-1] == 'classify: interrupted'
  assert 'Traceback' not in stderr and 'KeyboardInterrupt' not in stderr, stderr


def test_messages_name_the_file_before_any_work(tmp_path):
  (tmp_path / 'file').write_text('')
  start = time.time()
  result = run_fresh('evaluate_sample.py', '--eval_type', 'rgb', '--save_logits',
                     str(tmp_path / 'file' / 'logits.npy'))
  assert result.returncode == 1
  assert one_line(result, 'evaluate_sample.py') == (
      f'evaluate_sample.py: {tmp_path}/file/logits.npy: {tmp_path}/file is a file, not a '
      'folder')
  folder = run_fresh('evaluate_sample.py', '--eval_type', 'rgb', '--rgb_sample',
                     str(tmp_path))
  assert one_line(folder, 'evaluate_sample.py') == (
      f'evaluate_sample.py: {tmp_path}: is a folder, not a .npy file')
  assert time.time() - start < 60


def test_multi_evaluate_resolves_paths_from_the_callers_folder(tmp_path):
  provision.provision()
  clip = np.load(f'{sample.provision()}_rgb.npy', mmap_mode='r')[:, :16]
  np.save(tmp_path / 'clip.npy', clip)
  env = commands.python_shim_env(dict(ENV, OUT_DIR='results'))
  result = subprocess.run(
      ['bash', os.path.join(ROOT, 'multi_evaluate.sh'), '--rgb_sample', 'clip.npy',
       '--top_k', '1'], cwd=tmp_path, env=env, capture_output=True, text=True, check=False,
      umask=0o022)
  assert 'imagenet_rgb: results/imagenet_rgb.txt' in result.stdout, result.stdout
  written = tmp_path / 'results' / 'imagenet_rgb.txt'
  assert written.read_text().startswith('Norm of logits: ')
  assert oct(os.stat(written).st_mode & 0o777) == oct(0o644)


def write_cut_avi(path, frames=50, keep=0.6):
  """An MJPG AVI whose header says `frames` frames, cut so that fewer decode."""
  import cv2  # pylint: disable=g-import-not-at-top
  writer = cv2.VideoWriter(str(path) + '.whole.avi', cv2.VideoWriter_fourcc(*'MJPG'), 25,
                           (320, 240))
  rng = np.random.default_rng(0)
  for _ in range(frames):
    writer.write(rng.integers(0, 255, (240, 320, 3), dtype=np.uint8))
  writer.release()
  data = open(str(path) + '.whole.avi', 'rb').read()
  os.remove(str(path) + '.whole.avi')
  with open(path, 'wb') as f:
    f.write(data[:int(len(data) * keep)])
  capture = cv2.VideoCapture(str(path))
  decoded = 0
  while capture.read()[0]:
    decoded += 1
  return decoded


def test_a_video_cut_short_is_used_with_one_warning_and_recorded(videos, tmp_path):
  folder = tmp_path / 'videos'
  folder.mkdir()
  cut = folder / '短い.avi'  # A name in a script the plot's font lacks.
  decoded = write_cut_avi(cut)
  assert 9 < decoded < 49
  warning = (f'the container says 50 frames, {decoded} could be decoded; using those')
  result = run('-m', 'preprocess', '--video', str(cut), '--out_prefix', str(tmp_path / 'p'),
               '--modalities', 'rgb')
  assert result.returncode == 0, result.stderr
  assert result.stderr == f'preprocess: warning: {cut}: {warning}\n'
  assert np.load(tmp_path / 'p_rgb.npy', mmap_mode='r').shape[1] == decoded
  shutil.copy(videos / 'carphone_pristine.mp4', folder / 'whole.mp4')
  out = tmp_path / 'out'
  result = run('-m', 'i3d.classify', '--videos', str(folder), '--output_dir', str(out),
               '--eval_type', 'rgb', *SHORT_WINDOWS, '--workers', '1')
  assert result.returncode == 0, result.stderr
  assert [line for line in result.stderr.splitlines() if not line.startswith(
      'classify: RGB only')] == [f'classify: warning: {cut}: {warning}']
  with np.load(out / 'videos' / '短い.npz') as arrays:
    meta = json.loads(str(arrays['metadata']))
  assert meta['warnings'] == [f'{cut}: {warning}'] and meta['frames'] == {'rgb': decoded}
  with np.load(out / 'videos' / 'whole.npz') as arrays:
    assert 'warnings' not in str(arrays['metadata'])
  # Counted in the summary, and in its row.
  assert result.stdout.splitlines()[0].endswith(
      'all videos: 2 ok (1 cut short), 0 failed, 0 pending')
  rows = {r['id']: r for r in map(json.loads, (out / 'summary.jsonl').read_text().splitlines())}
  assert rows['短い']['warnings'] == [f'{cut}: {warning}'] and 'warnings' not in rows['whole']
  # Refused where a flag asks: recorded as failed, the rest done.
  refused = run('-m', 'i3d.classify', '--videos', str(folder), '--output_dir',
                str(tmp_path / 'strict'), '--eval_type', 'rgb', *SHORT_WINDOWS,
                '--workers', '1', '--refuse_cut_short')
  assert refused.returncode == 0, refused.stderr
  assert refused.stdout.startswith('1 processed, 0 already done, 1 failed now')
  failure = json.loads((tmp_path / 'strict' / 'videos' / '短い.failed.json').read_text())
  assert failure['error'].endswith(
      f'{cut}: the container says 50 frames, {decoded} could be decoded; refused '
      '(--refuse_cut_short)')
  # Features say it too: one line, the metadata, the count.
  features = run('-m', 'i3d.features', '--videos', str(folder), '--output_dir',
                 str(tmp_path / 'features'), '--workers', '1')
  assert features.returncode == 0, features.stderr
  assert features.stderr.splitlines() == [f'features: warning: {cut}: {warning}']
  assert '(0 failed in all, 1 cut short, see' in features.stdout
  meta = json.loads((tmp_path / 'features' / 'meta' / '短い.json').read_text())
  assert meta['warnings'] == [f'{cut}: {warning}']


def test_ffmpegs_own_messages_are_held_back(tmp_path):
  truncated = tmp_path / 'cut.mp4'
  truncated.write_bytes(open(os.path.join(sample.sample_videos(), 'bigbuckbunny.mp4'),
                             'rb').read()[:5000])
  result = run('-m', 'preprocess', '--video', str(truncated), '--out_prefix',
               str(tmp_path / 'p'))
  assert result.returncode == 1
  assert result.stderr == (f'preprocess: {truncated}: not a video OpenCV can open '
                           '(unknown container or codec)\n')


def test_a_killed_worker_stops_the_run_and_writes_off_nothing(videos, tmp_path):
  out = tmp_path / 'out'
  process = subprocess.Popen([sys.executable, *classify_args(videos, out)], cwd=ROOT,
                             env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
  deadline = time.time() + 120
  worker = None
  while worker is None:
    assert process.poll() is None and time.time() < deadline, process.stderr.read()
    for pid in children(process.pid):
      with open(f'/proc/{pid}/cmdline', 'rb') as f:
        command = f.read()
      if b'spawn_main' in command and b'resource_tracker' not in command:
        worker = pid
    time.sleep(0.02)
  os.kill(worker, signal.SIGKILL)
  _, stderr = process.communicate(timeout=120)
  assert process.returncode == 4, stderr
  [line] = [x for x in stderr.splitlines() if not x.startswith('classify: RGB only')]
  assert line == ('classify: a worker process died (killed, or out of memory) (an error of '
                  'the machine; nothing was written off: run again once mended)')
  assert not list((out / 'videos').glob('*.failed.json')) if (out / 'videos').exists() else True
  again = classify(videos, out)
  assert again.returncode == 0 and ' 0 failed now' in again.stdout


def test_a_video_with_broken_timing_is_a_bad_video_and_the_rest_are_done(tmp_path):
  """An mp4 whose mdhd timescale is 0 reads as 0.00195 fps: resampled to 25 fps its 20
  frames became 256,000, written to scratch until the disk was full (exit 4, the good
  video never done, every rerun stopping there). Now it is a bad video, recorded."""
  import struct  # pylint: disable=g-import-not-at-top
  from tests.test_preprocess import numbered_frames, write_video  # pylint: disable=g-import-not-at-top
  provision.provision()
  folder = tmp_path / 'videos'
  folder.mkdir()
  write_video(str(folder / 'good.mp4'), numbered_frames(20, (64, 80)), 25, fourcc='mp4v')
  data = bytearray((folder / 'good.mp4').read_bytes())
  struct.pack_into('>I', data, data.find(b'mdhd') + 16, 0)
  (folder / 'broken.mp4').write_bytes(bytes(data))
  with tiny_disk(tmp_path / 'disk', size='50m'):
    out = tmp_path / 'disk' / 'out'
    result = classify(folder, out)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith('1 processed, 0 already done, 1 failed now'), result.stdout
    failure = (out / 'videos' / 'broken.failed.json').read_text()
    assert 'the container says 0.00195312 frames per second, below any video' in failure
    assert (out / 'videos' / 'good.npz').exists()
