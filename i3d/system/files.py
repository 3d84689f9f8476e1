"""Writing files and folders whole or not at all: staged beside the target, then renamed.

An interrupted or failed write leaves the target untouched (a killed process may leave a
hidden `.<name>.*.tmp` file or `.<name>.*` folder beside it, never a half-written target).
"""

import contextlib
import errno
import os
import shutil
import tempfile
from typing import Iterator, Tuple


def temporary_file(path: str) -> Tuple[int, str]:
  """A new hidden temporary file beside `path` (creating its folder), named with this
  process's id so that a later process can tell whether its writer is gone."""
  directory = os.path.dirname(os.path.abspath(path))
  os.makedirs(directory, exist_ok=True)
  return tempfile.mkstemp(prefix=f'.{os.path.basename(path)}.{os.getpid()}.',
                          suffix='.tmp', dir=directory)


def _alive(pid: int) -> bool:
  try:
    os.kill(pid, 0)
  except ProcessLookupError:
    return False
  except PermissionError:
    return True
  return True


def remove_stale_temporaries(path: str) -> None:
  """Removes the temporaries of `path` whose writing process is gone (a killed run's)."""
  directory = os.path.dirname(os.path.abspath(path))
  if not os.path.isdir(directory):
    return
  prefix = f'.{os.path.basename(path)}.'
  for name in os.listdir(directory):
    if name.startswith(prefix) and name.endswith('.tmp'):
      pid = name[len(prefix):].split('.', 1)[0]
      if pid.isdigit() and not _alive(int(pid)):
        try:
          os.remove(os.path.join(directory, name))
        except FileNotFoundError:
          pass


def check_writable(path: str) -> None:
  """Fails now, not after the work, if a file cannot be written at `path`.

  Raises:
    ValueError: If `path` is a folder, or a part of its folder is a file.
    OSError: If its folder exists but may not be written (EACCES, EROFS).
  """
  path = os.path.abspath(path)
  if os.path.isdir(path):
    raise ValueError(f'{path}: is a folder, not a file to write')
  folder = os.path.dirname(path)
  while not os.path.exists(folder):
    folder = os.path.dirname(folder)
  if not os.path.isdir(folder):
    raise ValueError(f'{path}: {folder} is a file, not a folder')
  if not os.access(folder, os.W_OK):
    raise PermissionError(errno.EACCES, 'Permission denied (may not write there)', folder)


def write_atomically(path: str, data: bytes) -> None:
  """Writes `data` to `path` (creating its folder), replacing any file there at once."""
  handle, temporary = temporary_file(path)
  try:
    try:
      with os.fdopen(handle, 'wb') as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    except OSError as e:  # No space, say: name the file (a write error names none).
      raise OSError(e.errno, e.strerror, path) from e
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)
  except BaseException:
    os.remove(temporary)
    raise


def is_temporary(name: str) -> bool:
  """Whether a file name is one of `write_atomically`'s (or `NpyWriter`'s) temporaries."""
  return name.startswith('.') and name.endswith('.tmp')


@contextlib.contextmanager
def folder_written_atomically(directory: str) -> Iterator[str]:
  """Yields an empty staging folder that replaces `directory` once the block succeeds.

  On an exception the staging folder is removed and `directory` (new or existing) is
  untouched; an existing one is replaced only after the new one is complete.
  """
  directory = os.path.abspath(directory)
  parent = os.path.dirname(directory)
  os.makedirs(parent, exist_ok=True)
  staging = tempfile.mkdtemp(prefix=f'.{os.path.basename(directory)}.', dir=parent)
  os.chmod(staging, 0o755)  # mkdtemp makes it private; what it becomes is not.
  try:
    yield staging
    if os.path.exists(directory):
      retired = tempfile.mkdtemp(prefix=f'.{os.path.basename(directory)}.old.', dir=parent)
      os.replace(directory, os.path.join(retired, 'old'))
      os.replace(staging, directory)
      shutil.rmtree(retired)
    else:
      os.replace(staging, directory)
  except BaseException:
    shutil.rmtree(staging, ignore_errors=True)
    raise
