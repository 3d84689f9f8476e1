"""One run per folder: an exclusive `flock` on `<folder>/.lock`.

The kernel releases the lock when its process ends, however it ends (`kill -9` too), so
a lock is never stale; the file holds the holder's process id for the message a second
run gets.
"""

import contextlib
import fcntl
import os
from typing import Iterator

LOCK_FILE = '.lock'


class FolderBusyError(RuntimeError):
  """Another process holds the folder's lock."""


@contextlib.contextmanager
def folder_lock(folder: str) -> Iterator[None]:
  """Holds `<folder>/.lock` (creating the folder) for the block.

  Raises:
    FolderBusyError: At once, if another process holds it; the message names the
      folder and that process.
  """
  os.makedirs(folder, exist_ok=True)
  path = os.path.join(folder, LOCK_FILE)
  handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
  try:
    try:
      fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
      holder = os.pread(handle, 32, 0).decode(errors='replace').strip() or 'unknown'
      raise FolderBusyError(f'{folder}: another run (process {holder}) is writing there; '
                            'wait for it to end, or use another folder') from None
    os.ftruncate(handle, 0)
    os.pwrite(handle, f'{os.getpid()}\n'.encode(), 0)
    yield
  finally:
    os.close(handle)  # Releases the lock.
