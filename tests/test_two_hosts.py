"""Shards on two hosts writing into one shared folder (a SLURM array on a cluster file
system), the second host simulated by a PID and UTS namespace of its own (`unshare`,
another hostname): no shard deletes what another host's live process is writing, and the
run finishes whole. Temporaries name their writer as `<pid>@<host>`
(`i3d.system.files`)."""

import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from i3d import provision
from i3d.system import files
from tests import commands
from tests.conftest import ROOT
from tests.test_preprocess import numbered_frames, write_video

HOST_B = 'shard-host-b'
ENV = commands.user_env()
IDS = ('p', 'q', 'r')


def _namespaces_work():
  try:
    return subprocess.run(['unshare', '--pid', '--uts', '--fork', '--mount-proc', 'true'],
                          capture_output=True, check=False).returncode == 0
  except FileNotFoundError:
    return False


def on_host_b(command):
  """`command` as a process of another host: its own process ids and hostname."""
  return ['unshare', '--pid', '--uts', '--fork', '--mount-proc', 'sh', '-c',
          f'hostname {HOST_B} && exec "$@"', 'sh', *command]


@pytest.fixture(scope='module')
def videos(tmp_path_factory):
  folder = tmp_path_factory.mktemp('two_hosts') / 'videos'
  folder.mkdir()
  for index, name in enumerate(IDS):
    write_video(str(folder / f'{name}.avi'), numbered_frames(10 + index, (64, 80)), 25)
  provision.provision()
  return folder


COMMANDS = {
    'classify': (['-m', 'i3d.classify', '--window_frames', '0', '--noplots', '--workers', '1'],
                 'videos', '.npz'),
    'features': (['-m', 'i3d.features', '--snippet_frames', '9', '--workers', '1'], '', '.npy'),
}


def test_a_temporary_is_judged_by_its_own_hosts_rules(tmp_path):
  gone = 2 ** 22 + 1  # Above Linux's pid_max: no such process here.
  here = files.host()
  names = {
      'live here': f'.a.npz.{os.getpid()}@{here}.x1.tmp',
      'dead here': f'.b.npz.{gone}@{here}.x2.tmp',
      'fresh elsewhere': f'.c.npz.{gone}@{HOST_B}.x3.tmp',
      'old elsewhere': f'.d.npz.{os.getpid()}@{HOST_B}.x4.tmp',
      'older version, dead': f'.e.npz.{gone}.x5.tmp',
      'nobody': '.f.npz.x6.tmp',
  }
  for name in names.values():
    (tmp_path / name).write_bytes(b'part')
  hour_and_more = time.time() - files.FOREIGN_TEMPORARY_AGE_S - 60
  os.utime(tmp_path / names['old elsewhere'], (hour_and_more, hour_and_more))
  files.remove_dead_temporaries(str(tmp_path))
  assert sorted(os.listdir(tmp_path)) == sorted(
      [names['live here'], names['fresh elsewhere']])


@pytest.mark.skipif(not _namespaces_work(), reason='needs unshare (PID and UTS namespaces)')
@pytest.mark.parametrize('command', COMMANDS)
def test_shards_on_two_hosts_keep_each_others_work(command, videos, tmp_path):
  args, results, suffix = COMMANDS[command]
  out = tmp_path / 'out'
  folder = out / results
  folder.mkdir(parents=True)
  # Host A's shard is writing a result (this process, alive on this host) as host B's
  # shard starts and clears what killed runs left.
  writing = folder / f'.q{suffix}.{os.getpid()}@{files.host()}.abcd1234.tmp'
  writing.write_bytes(b'half of a result')
  common = [sys.executable, *args, '--videos', str(videos), '--output_dir', str(out)]
  on_b = subprocess.run(on_host_b([*common, '--shard', '0/2']), cwd=ROOT, env=ENV,
                        capture_output=True, text=True, timeout=600, check=False)
  assert on_b.returncode == 0, on_b.stderr
  assert writing.read_bytes() == b'half of a result'  # Nothing of host A's deleted.
  on_a = commands.run([*common, '--shard', '1/2'], env=ENV)  # Forked, on this host.
  assert on_a.returncode == 0, on_a.stderr
  assert writing.exists()  # Its writer here is alive.
  writing.unlink()  # Its writer finishes.
  for name in IDS:  # Every result there, whole.
    path = folder / f'{name}{suffix}'
    if suffix == '.npz':
      with np.load(path) as result:
        assert result['logits'].shape == (400,)
        assert json.loads(str(result['metadata']))['frames'] == {'rgb': 10 + IDS.index(name)}
    else:
      assert np.load(path).shape == (1, 1024)
  left = [n for _, _, names in os.walk(out) for n in names if files.is_temporary(n)]
  assert not left
