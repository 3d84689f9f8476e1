"""`python -m i3d.classify.beam` on real distributed engines, all on loopback: Beam's
portable job service with the SDK workers in a separate worker pool (the protocol
Flink, Spark and Dataflow speak; workers in other processes, as the Flink-on-Kubernetes
worker-pool sidecar runs them), and Beam's Dask runner on a `dask.distributed` cluster
of a scheduler and two worker processes. In each, a worker process is killed with
kill -9 mid-run; the same command run again finishes, and every result equals the local
command's, each video written once."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from i3d import classify
from i3d.preprocess import sample
from tests import commands
from tests.conftest import ROOT
from tests.test_classify import assert_same_results, resized
from tests.test_preprocess import decode_all, write_video

pytest.importorskip('apache_beam')
BIN = os.path.dirname(sys.executable)
# The engines start `python` and `dask` from the PATH: this environment's.
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='3', PATH=f'{BIN}{os.pathsep}{os.environ["PATH"]}')
IDS = ['v0', 'v1', 'v2']


def free_port():
  with socket.socket() as s:
    s.bind(('127.0.0.1', 0))
    return s.getsockname()[1]


@contextlib.contextmanager
def started(*commands, ready):
  """Processes running for the block (each in its own group, killed after it); waits
  until `ready()`."""
  processes = [subprocess.Popen(c, cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
               for c in commands]
  try:
    deadline = time.time() + 60
    while not ready():
      assert all(p.poll() is None for p in processes) and time.time() < deadline
      time.sleep(0.2)
    yield processes
  finally:
    for p in processes:
      with contextlib.suppress(ProcessLookupError):
        os.killpg(p.pid, signal.SIGKILL)
      p.wait()


def listening(port):
  with socket.socket() as s:
    return s.connect_ex(('127.0.0.1', port)) == 0


def children(pid):
  """Process ids whose parent is `pid`."""
  found = []
  for entry in os.listdir('/proc'):
    if entry.isdigit():
      with contextlib.suppress(OSError):
        with open(f'/proc/{entry}/stat') as f:
          if int(f.read().rsplit(')', 1)[1].split()[1]) == pid:
            found.append(int(entry))
  return found


@pytest.fixture(scope='module')
def videos_and_local(tmp_path_factory):
  """Three short cuts of the sample, and the local command's results on them."""
  folder = tmp_path_factory.mktemp('videos')
  bunny = decode_all(os.path.join(sample.sample_videos(), 'bigbuckbunny.mp4'))
  for i, name in enumerate(IDS):
    write_video(str(folder / f'{name}.mp4'), resized(bunny[30 * i:30 * i + 20]), 25, 'mp4v')
  local = tmp_path_factory.mktemp('local')
  classify.classify_videos(classify.list_videos(str(folder)), str(local),
                           classify.Settings(eval_type='rgb', window_frames=16,
                                             window_stride=8, plots=False), workers=1)
  return folder, local


def beam_command(folder, out, *engine):
  return [sys.executable, '-m', 'i3d.classify.beam', '--videos', str(folder),
          '--output_dir', str(out), '--eval_type', 'rgb', '--window_frames', '16',
          '--window_stride', '8', '--noplots', *engine]


def killed_then_rerun(command, out, victims):
  """Runs `command`, kills a worker process (from `victims()`) once the first result is
  written, lets the job end as its engine ends it, then runs it again; returns the
  killed job's exit status and stderr."""
  job = subprocess.Popen(command, cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True, start_new_session=True)
  deadline = time.time() + 300
  while not (out / 'videos').is_dir() or not any(
      n.endswith('.npz') for n in os.listdir(out / 'videos')):
    assert job.poll() is None and time.time() < deadline, 'no result before the kill'
    time.sleep(0.05)
  done_before = {n: os.stat(out / 'videos' / n).st_mtime_ns
                 for n in os.listdir(out / 'videos') if n.endswith('.npz')}
  killed = victims()
  assert killed
  for pid in killed:
    with contextlib.suppress(ProcessLookupError):
      os.kill(pid, signal.SIGKILL)
  try:
    _, stderr = job.communicate(timeout=300)
  finally:
    with contextlib.suppress(ProcessLookupError):
      os.killpg(job.pid, signal.SIGKILL)
  rerun = commands.run(command, env=ENV, timeout=600)
  assert rerun.returncode == 0, rerun.stderr[-3000:]
  assert 'all videos: 3 ok, 0 failed, 0 pending' in rerun.stdout
  # What was written before the kill is kept, not redone; no temporaries are left.
  assert done_before == {n: os.stat(out / 'videos' / n).st_mtime_ns for n in done_before}
  assert sorted(os.listdir(out / 'videos')) == [f'{i}.npz' for i in IDS]
  return job.returncode, stderr


def test_portable_job_service_with_an_external_worker_pool(videos_and_local, tmp_path):
  folder, local = videos_and_local
  job_port, pool_port = free_port(), free_port()
  with started(
      [sys.executable, '-m', 'apache_beam.runners.portability.local_job_service_main',
       f'--port={job_port}'],
      [sys.executable, '-m', 'apache_beam.runners.worker.worker_pool_main',
       f'--service_port={pool_port}'],
      ready=lambda: listening(job_port) and listening(pool_port)) as (_, pool):
    out = tmp_path / 'out'
    command = beam_command(folder, out, '--runner=PortableRunner',
                           f'--job_endpoint=localhost:{job_port}',
                           '--environment_type=EXTERNAL',
                           f'--environment_config=localhost:{pool_port}')
    status, stderr = killed_then_rerun(command, out, lambda: children(pool.pid))
  # The job service fails the job: an error of the machine, exit status 4.
  assert status == 4
  assert 'classify.beam: the pipeline failed on its runner (Pipeline ' in stderr
  assert_same_results(local, out, IDS)


def test_dask_runner_on_a_scheduler_and_two_workers(videos_and_local, tmp_path):
  pytest.importorskip('dask.distributed')
  folder, local = videos_and_local
  port = free_port()
  address = f'tcp://127.0.0.1:{port}'
  dask = os.path.join(BIN, 'dask')
  worker = [dask, 'worker', address, '--nworkers', '1', '--nthreads', '1',
            '--no-dashboard', '--host', '127.0.0.1']
  with started([dask, 'scheduler', '--host', '127.0.0.1', '--port', str(port),
                '--no-dashboard'], ready=lambda: listening(port)):
    with started(worker, worker, ready=lambda: True) as workers:
      out = tmp_path / 'out'
      command = beam_command(folder, out,
                             '--runner=apache_beam.runners.dask.dask_runner.DaskRunner',
                             f'--dask_client_address={address}')
      # The worker processes under the nannies: a nanny restarts its worker and the
      # scheduler gives the lost task to a worker again.
      status, _ = killed_then_rerun(
          command, out, lambda: [c for w in workers for c in children(w.pid)][:1])
  assert status in (0, 4)  # Dask gives a lost worker's task to another (measured: 0).
  assert_same_results(local, out, IDS)
