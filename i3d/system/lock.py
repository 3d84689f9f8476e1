"""One run per folder: an exclusive `flock` on `<folder>/.lock` (or, for the shards of an
array job, a shared one and an exclusive one per shard).

The kernel releases the lock when its process ends, however it ends (`kill -9` too), so
a lock is never stale; the file holds the holder's process id for the message a second
run gets.
"""

import contextlib
import fcntl
import os
from typing import Iterator, Optional

LOCK_FILE = '.lock'
_SHARDS = 'shards'


class FolderBusyError(RuntimeError):
  """Another process holds the folder's lock."""


@contextlib.contextmanager
def folder_lock(folder: str, shard: Optional[str] = None) -> Iterator[None]:
  """Holds `<folder>/.lock` (creating the folder) for the block: exclusively, or, for
  one shard of an array job, shared with the other shards while `<folder>/.lock.<shard>`
  is held exclusively. A run without a shard thus waits for no shard (it is refused
  while any runs), and two runs of one shard are refused.

  Raises:
    FolderBusyError: At once, if another process holds what this one needs; the
      message names the folder and that process.
  """
  os.makedirs(folder, exist_ok=True)
  if shard is None:
    with _flock(folder, LOCK_FILE, fcntl.LOCK_EX, 'another run'):
      yield
    return
  with _flock(folder, LOCK_FILE, fcntl.LOCK_SH, 'a run of the whole list'):
    with _flock(folder, f'{LOCK_FILE}.{shard}', fcntl.LOCK_EX, f'another run of shard {shard}'):
      yield


@contextlib.contextmanager
def _flock(folder: str, name: str, mode: int, holder_is: str) -> Iterator[None]:
  path = os.path.join(folder, name)
  handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
  try:
    try:
      fcntl.flock(handle, mode | fcntl.LOCK_NB)
    except BlockingIOError:
      holder = os.pread(handle, 32, 0).decode(errors='replace').strip() or 'unknown'
      who = 'shards of an array job' if holder == _SHARDS else f'process {holder}'
      raise FolderBusyError(f'{folder}: {holder_is} ({who}) is writing there; wait for '
                            'it to end, or use another folder') from None
    # Who holds it, for the message of a run refused: a process, or the shards.
    os.ftruncate(handle, 0)
    os.pwrite(handle, f'{os.getpid() if mode == fcntl.LOCK_EX else _SHARDS}\n'.encode(), 0)
    yield
  finally:
    os.close(handle)  # Releases the lock.


@contextlib.contextmanager
def replacement_lock(path: str) -> Iterator[None]:
  """Holds `.<name>.lock` beside `path` for a write that replaces `path` whole (an
  export's folder), which a lock inside it would not survive. A second writer is refused
  at once; the lock file is removed when the block ends.

  Raises:
    FolderBusyError: If another process holds it; the message names `path` and it.
  """
  path = os.path.abspath(path)
  folder = os.path.dirname(path)
  os.makedirs(folder, exist_ok=True)
  lock_path = os.path.join(folder, f'.{os.path.basename(path)}.lock')
  handle = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
  try:
    try:
      fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
      # Its last holder may have removed the file after this one opened it: the lock
      # taken is then on a file nobody else will open.
      if os.fstat(handle).st_ino != os.stat(lock_path).st_ino:
        raise BlockingIOError
    except (BlockingIOError, FileNotFoundError):
      holder = os.pread(handle, 32, 0).decode(errors='replace').strip() or 'unknown'
      raise FolderBusyError(f'{path}: another process ({holder}) is writing it; wait for '
                            'it to end, or use another folder') from None
    os.ftruncate(handle, 0)
    os.pwrite(handle, f'{os.getpid()}\n'.encode(), 0)
    try:
      yield
    finally:
      os.unlink(lock_path)  # While held: a process that opened it will find it gone.
  finally:
    os.close(handle)
