"""The assets: the ordered process pool, the stores, atomic folder writes."""

import functools
import os
import time

import pytest

from i3d.system import files
from i3d.system import store as store_lib
from i3d.system.pool import OrderedMap


def square_after(delay_per_item, item):
  """Later items finish first when the delay shrinks with the item."""
  time.sleep(delay_per_item * (5 - item % 5))
  return item * item, os.getpid()


def fail_on_three(item):
  if item == 3:
    raise ValueError('three')
  return item


@pytest.mark.parametrize('processes', [0, 1, 3])
def test_results_come_back_in_order(processes):
  fn = functools.partial(square_after, 0.01)
  with OrderedMap(fn, range(12), processes=processes) as results:
    values = list(results)
  assert [v for v, _ in values] == [i * i for i in range(12)]
  pids = {pid for _, pid in values}
  assert (pids == {os.getpid()}) if processes == 0 else (os.getpid() not in pids)


def test_only_ahead_items_are_taken_before_results_are():
  taken = []

  def items():
    for i in range(10):
      taken.append(i)
      yield i

  with OrderedMap(abs, items(), processes=2, ahead=3) as results:
    assert taken == [0, 1, 2]  # Started at once, before the first result is asked for.
    iterator = iter(results)
    assert next(iterator) == 0
    assert taken == [0, 1, 2, 3]
    assert list(iterator) == list(range(1, 10))


def test_in_process_map_is_lazy():
  taken = []
  results = OrderedMap(lambda i: taken.append(i) or i, range(5))
  assert taken == []
  assert list(results) == list(range(5)) and taken == list(range(5))


@pytest.mark.parametrize('processes', [0, 2])
def test_an_error_is_raised_where_its_result_is_taken(processes):
  with OrderedMap(fail_on_three, range(6), processes=processes) as results:
    iterator = iter(results)
    assert [next(iterator) for _ in range(3)] == [0, 1, 2]
    with pytest.raises(ValueError, match='three'):
      next(iterator)


# Starts a map whose workers import a slow module, says so, then waits for results;
# Ctrl-C is answered with one line.
CTRL_C_WHILE_WORKERS_START = """
import sys
from i3d.system.pool import OrderedMap
from tests import slow_start
try:
  with OrderedMap(abs, range(4), processes=2, initializer=slow_start.ready) as results:
    print('started', flush=True)
    list(results)
except KeyboardInterrupt:
  sys.exit('interrupted')
"""


def test_ctrl_c_while_workers_import_their_modules_is_answered_once():
  """A terminal's Ctrl-C reaches every process of the group. Workers still importing
  their modules once printed KeyboardInterrupt's traceback each; they now leave
  quietly and only the parent answers."""
  import signal  # pylint: disable=g-import-not-at-top
  import subprocess  # pylint: disable=g-import-not-at-top
  import sys  # pylint: disable=g-import-not-at-top
  from tests.conftest import ROOT, as_in_a_terminal  # pylint: disable=g-import-not-at-top
  process = subprocess.Popen([sys.executable, '-c', CTRL_C_WHILE_WORKERS_START], cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             preexec_fn=as_in_a_terminal, start_new_session=True)
  assert process.stdout.readline() == 'started\n'  # The workers are importing (2 s).
  time.sleep(0.5)
  os.killpg(process.pid, signal.SIGINT)
  stdout, stderr = process.communicate(timeout=60)
  assert (process.returncode, stdout, stderr) == (1, '', 'interrupted\n')


# One worker busy with a progress bar (slow to stop), one idle; Ctrl-C is answered with
# one line.
CTRL_C_WHILE_A_WORKER_SHOWS_A_BAR = """
import sys
from i3d.system.pool import OrderedMap
from tests import slow_start
try:
  with OrderedMap(slow_start.with_a_bar, [sys.argv[1], ''], processes=2) as results:
    list(results)
except KeyboardInterrupt:
  sys.exit('interrupted')
"""


def test_ctrl_c_while_a_worker_shows_a_progress_bar_leaves_no_semaphore(tmp_path):
  """The idle worker leaves on Ctrl-C and the executor then ends the busy one with
  SIGTERM. tqdm's lock was a multiprocessing one in each worker, a named semaphore that
  the ended worker could not remove: the resource tracker warned of it after
  'interrupted'."""
  import signal  # pylint: disable=g-import-not-at-top
  import subprocess  # pylint: disable=g-import-not-at-top
  import sys  # pylint: disable=g-import-not-at-top
  from tests.conftest import ROOT, as_in_a_terminal  # pylint: disable=g-import-not-at-top
  started = tmp_path / 'started'
  process = subprocess.Popen(
      [sys.executable, '-c', CTRL_C_WHILE_A_WORKER_SHOWS_A_BAR, str(started)], cwd=ROOT,
      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
      preexec_fn=as_in_a_terminal, start_new_session=True)
  deadline = time.monotonic() + 60
  while not started.exists():
    assert process.poll() is None and time.monotonic() < deadline
    time.sleep(0.05)
  time.sleep(1)  # The other worker done with its item, idle.
  os.killpg(process.pid, signal.SIGINT)
  stdout, stderr = process.communicate(timeout=60)
  assert (process.returncode, stdout, stderr.splitlines()[-1:]) == (1, '', ['interrupted'])
  assert 'leaked' not in stderr, stderr


def test_local_store_writes_whole_files_and_removes_temporaries(tmp_path):
  store = store_lib.open_store(str(tmp_path))
  assert isinstance(store, store_lib.LocalStore)
  assert store.read('a/b.txt') is None and not store.exists('a/b.txt')
  store.write('a/b.txt', b'data')
  assert store.read('a/b.txt') == b'data' and store.path('a/b.txt') == str(tmp_path / 'a/b.txt')
  (tmp_path / 'a' / '.b.txt.x1.tmp').write_bytes(b'half')
  store.remove_temporaries('a')
  assert sorted(os.listdir(tmp_path / 'a')) == ['b.txt']
  store.remove('a/b.txt')
  store.remove('a/b.txt')  # Not there: nothing to do.
  assert os.listdir(tmp_path / 'a') == []
  assert isinstance(store_lib.open_store(f'file://{tmp_path}'), store_lib.LocalStore)
  assert not store_lib.is_local('gs://bucket/out')


def test_beam_store_on_beams_local_filesystem(tmp_path):
  pytest.importorskip('apache_beam')
  store = store_lib.BeamStore(str(tmp_path))
  store.write('videos/x.json', b'{}')
  assert store.read('videos/x.json') == b'{}' and store.exists('videos/x.json')
  store.remove('videos/x.json')
  assert store.read('videos/x.json') is None


def test_a_failed_folder_write_leaves_the_old_folder(tmp_path):
  target = tmp_path / 'checkpoint'
  with files.folder_written_atomically(str(target)) as staging:
    open(os.path.join(staging, 'old'), 'w').close()
  with pytest.raises(KeyboardInterrupt):
    with files.folder_written_atomically(str(target)) as staging:
      open(os.path.join(staging, 'new'), 'w').close()
      raise KeyboardInterrupt
  assert os.listdir(tmp_path) == ['checkpoint'] and os.listdir(target) == ['old']
  with files.folder_written_atomically(str(target)) as staging:
    open(os.path.join(staging, 'new'), 'w').close()
  assert os.listdir(tmp_path) == ['checkpoint'] and os.listdir(target) == ['new']
