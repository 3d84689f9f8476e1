"""`python -m i3d.live` on the real sample played as a live stream: its windows
against `classify`'s, and sources that cannot be opened, stop, or are interrupted."""

import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from i3d import classify
from i3d import provision
from i3d.preprocess import sample
from tests import commands
from tests.conftest import ROOT, as_in_a_terminal
from tests.test_classify import load
from tests.test_faults import write_cut_avi

PROGRAM = 'python -m i3d.live'


def command(*args):
  return [sys.executable, '-m', 'i3d.live', *args], commands.user_env()


def run_stream(*args):
  argv, env = command(*args)
  return commands.run(argv, env=env, timeout=600)


@pytest.fixture(scope='module')
def bunny():
  provision.provision()
  return os.path.join(sample.sample_videos(), 'bigbuckbunny.mp4')


def test_realtime_windows_equal_classify_windows(bunny, tmp_path):
  # Windows of 16 frames every 16, not the default 64: what is compared does not depend
  # on their length.
  result = run_stream('--source', bunny, '--realtime', '--window_frames', '16', '--stride',
                      '16', '--output', str(tmp_path / 'windows.jsonl'))
  assert result.returncode == 0, result.stderr
  lines = result.stdout.strip().splitlines()
  assert lines[-1].startswith('summary: ')
  with open(tmp_path / 'windows.jsonl') as f:
    windows = [json.loads(line) for line in f]
  # 132 frames: windows start at 0, 16, ..., 112; the network may lag behind.
  assert 1 <= len(windows) <= 8
  assert f'summary: {len(windows)} windows classified, {8 - len(windows)} skipped' in lines[-1]
  for window, line in zip(windows, lines[1:]):
    assert window['start_frame'] % 16 == 0
    assert f'(latency {window["latency_s"]:.2f} s)' in line
  settings = classify.Settings(eval_type='rgb', window_frames=16, window_stride=16,
                               plots=False)
  classify.classify_videos([classify.Video('bunny', bunny)], str(tmp_path / 'c'), settings,
                           workers=1)
  [result_file] = (tmp_path / 'c' / 'videos').glob('*.npz')
  expected = load(result_file)
  starts = expected['window_starts'].tolist()
  for window in windows:
    logits = expected['window_logits'][starts.index(window['start_frame'])]
    np.testing.assert_allclose(window['logits'], logits, rtol=1e-4,
                               atol=1e-4 * np.abs(logits).max())


def test_a_source_that_cannot_be_opened(tmp_path):
  not_video = tmp_path / 'notes.mp4'
  not_video.write_text('not a video')
  for source, message in (
      (str(tmp_path / 'missing.mp4'), f'{tmp_path / "missing.mp4"}: no such file'),
      (str(not_video), f'{not_video}: not a video OpenCV can open')):
    result = run_stream('--source', source)
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith(f'{PROGRAM}: {message}')


def test_a_window_beyond_any_clip_is_a_bad_flag(bunny):
  # --window_frames 100000 was taken, and its memory reported as the machine's error.
  result = run_stream('--source', bunny, '--window_frames', '100000')
  assert result.returncode == 1
  assert 'flag --window_frames=100000: 100000 is not an integer in the range [9, 1024]' in (
      result.stderr)


def test_a_stream_that_stops_midway(bunny, tmp_path):
  cut = tmp_path / 'cut.avi'
  decoded = write_cut_avi(cut, frames=100, keep=0.7)
  assert 9 < decoded < 90
  result = run_stream('--source', str(cut), '--window_frames', '9', '--stride', '50')
  assert result.returncode == 1
  [line] = result.stderr.splitlines()
  assert line.startswith(f'{PROGRAM}: the stream stopped: {cut}: the container says 100 '
                         f'frames, {decoded} could be decoded')
  # What came before the stop was classified, and the run summed up.
  windows = len([start for start in range(0, decoded, 50) if start + 9 <= decoded])
  assert result.stdout.strip().splitlines()[-1].startswith(
      f'summary: {windows} windows classified')


def test_ctrl_c_stops_with_a_summary(bunny, tmp_path):
  argv, env = command('--source', bunny, '--realtime', '--output',
                      str(tmp_path / 'w.jsonl'))
  process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True,
                             preexec_fn=as_in_a_terminal)
  assert process.stdout.readline().startswith(f'{bunny}: windows of 64 frames')
  process.send_signal(signal.SIGINT)
  stdout, stderr = process.communicate(timeout=120)
  assert process.returncode == 130
  assert stdout.strip().splitlines()[-1].startswith('summary: ')
  assert stderr.strip() == f'{PROGRAM}: interrupted'
  assert (tmp_path / 'w.jsonl').exists()  # What was classified, written whole.
  assert not [n for n in os.listdir(tmp_path) if n.startswith('.')]
