"""A map over worker processes (or threads) that keeps order and a bounded number of
items in flight.

Both the TV-L1 flow of one video (frame pairs) and `classify` (whole videos) need the
same thing: work spread over workers, results back in input order, and memory that
does not grow with the input because only a few items are ahead of the consumer.
"""

import collections
import concurrent.futures
import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
from typing import Any, Callable, Iterable, Iterator, Optional, Sequence

import tqdm

# prctl's option to have a signal sent to this process when its parent dies (Linux).
_PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
  """Makes this (worker) process get SIGKILL when its parent dies, on Linux.

  Without it, workers whose parent was killed (`kill -9`, out of memory) go on with
  their work, parentless, until it is done. Elsewhere this does nothing.
  """
  if not sys.platform.startswith('linux'):
    return
  libc = ctypes.CDLL(None, use_errno=True)
  libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
  if os.getppid() != parent:  # It died before the request was made.
    os.kill(os.getpid(), signal.SIGKILL)


# Whether this worker is still starting (in `_start_worker`).
_starting = False


def _leave_quietly(unused_signal, unused_frame):
  if _starting:  # concurrent.futures logs a traceback for any exception raised here.
    os._exit(128 + signal.SIGINT)  # pylint: disable=protected-access
  raise SystemExit(128 + signal.SIGINT)


@contextlib.contextmanager
def _sigint_held():
  """Holds back a Ctrl-C (SIGINT) until the block has ended, here and in the worker
  processes the block starts.

  A worker starts with the signal blocked (it inherits the mask) and answers one that
  came meanwhile once `_start_worker` can leave quietly: the default handler printed
  each worker's KeyboardInterrupt traceback from the middle of its imports. This process
  notes the signal (another thread may take it) and raises it again after the block, so
  it is never answered halfway through starting a worker.
  """
  if (threading.current_thread() is not threading.main_thread() or
      signal.getsignal(signal.SIGINT) is None):
    yield  # Only the main thread answers signals in Python.
    return
  caught = []
  previous = signal.signal(signal.SIGINT, lambda *unused: caught.append(True))
  held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
  try:
    yield
  finally:
    signal.pthread_sigmask(signal.SIG_SETMASK, held)
    signal.signal(signal.SIGINT, previous)
    if caught:
      signal.raise_signal(signal.SIGINT)


def _start_worker(parent: int, initializer: Optional[Callable], initargs: Sequence[Any]):
  die_with_parent(parent)
  # A terminal's Ctrl-C reaches the whole process group: the parent answers it (one
  # line); a worker leaves quietly (SystemExit unwinds its locks, and multiprocessing
  # prints no traceback for it) rather than each printing KeyboardInterrupt's. Until
  # here SIGINT was held (`_sigint_held`); one that came meanwhile arrives now.
  global _starting
  _starting = True
  # tqdm's class-wide lock would be a multiprocessing one: a named semaphore that the
  # resource tracker follows. Once one worker has left on Ctrl-C, the executor ends the
  # others with SIGTERM, which removes nothing, and the tracker warned of the semaphore
  # after the parent's one line. A spawned worker shares the lock with no other process:
  # a thread lock does the same.
  tqdm.tqdm.set_lock(threading.RLock())
  signal.signal(signal.SIGINT, _leave_quietly)
  signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
  if initializer is not None:
    initializer(*initargs)
  _starting = False


class OrderedMap:
  """`fn(item)` for each item, in the items' order, on `processes` worker processes.

  Work on the first `ahead` items starts when the map is made (not at the first `next`),
  so the caller can do other work meanwhile. Each result taken lets one more item start.
  With `processes` 0, `fn` runs in this process, lazily, as results are taken.

  Use as a context manager: leaving it ends the workers and cancels work not started.
  An exception raised by `fn` is raised where its result is taken; return errors as
  values instead to go on with the next items.

  Workers are spawned, not forked: the parent may hold TensorFlow's threads, and a
  worker only imports what `fn`'s module needs. On Linux they die with their parent
  (a parent-death signal), so a killed run leaves no worker behind.
  """

  def __init__(self, fn: Callable[[Any], Any], items: Iterable[Any], processes: int = 0,
               ahead: Optional[int] = None, initializer: Optional[Callable] = None,
               initargs: Sequence[Any] = (), threads: bool = False):
    """Starts the workers and the first items.

    Args:
      fn: A picklable function of one item (module level, or a `functools.partial` of one).
      items: Any iterable; consumed only as far as work is started.
      processes: Worker processes; 0 runs `fn` in this process.
      ahead: Items started but not yet taken, at most; default twice `processes`.
      initializer: Run once in each worker process with `initargs` (not in this one).
      initargs: Its arguments.
      threads: Run `fn` on `processes` threads of this process instead, for work
        that releases Python's lock (compiled code); `initializer` is not run.
    """
    if processes < 0:
      raise ValueError(f'processes must be 0 or more, got {processes}')
    self._fn = fn
    self._items = iter(items)
    self._executor = None
    self._pending = collections.deque()
    if processes:
      self._ahead = max(1, ahead if ahead is not None else 2 * processes)
      if threads:
        self._executor = concurrent.futures.ThreadPoolExecutor(processes)
      else:
        self._executor = concurrent.futures.ProcessPoolExecutor(
            processes, mp_context=multiprocessing.get_context('spawn'),
            initializer=_start_worker,
            initargs=(os.getpid(), initializer, tuple(initargs)))
      try:
        for _ in range(self._ahead):
          if not self._start_next():
            break
      except BaseException:  # Ctrl-C, say: no `with` block will close the workers.
        self.close()
        raise

  def _start_next(self) -> bool:
    for item in self._items:
      with _sigint_held():  # A submission may start a worker process.
        self._pending.append(self._executor.submit(self._fn, item))
      return True
    return False

  def __iter__(self) -> Iterator[Any]:
    if self._executor is None:
      for item in self._items:
        yield self._fn(item)
      return
    while self._pending:
      future = self._pending.popleft()
      self._start_next()
      yield future.result()

  def close(self) -> None:
    """Ends the workers; work not yet started is cancelled."""
    if self._executor is not None:
      self._executor.shutdown(cancel_futures=True)

  def __enter__(self) -> 'OrderedMap':
    return self

  def __exit__(self, *exc) -> None:
    self.close()
