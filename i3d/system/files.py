"""Writing files and folders whole or not at all: staged beside the target, then renamed.

An interrupted or failed write leaves the target untouched (a killed process may leave a
hidden `.<name>.<pid>@<host>.*.tmp` file or `.<name>.<pid>@<host>.*` folder beside it,
never a half-written target; the next write of that target removes them). What is written
gets the modes the user's umask gives, as `open` and `mkdir` would.

A temporary names its writer by process id and host, as git's and SQLite's lock files do,
because shards on several hosts (a SLURM array) write into one shared folder: a process
id means something only on its own host. A temporary of this host is removed once its
writer is gone; one of another host is never judged by its process id, and is removed
only once untouched for `FOREIGN_TEMPORARY_AGE_S` (an hour): results are written whole in
seconds, and streamed arrays grow with every frame, so no live write is that still.
Temporaries named by older versions (no host) are judged as this host's.
"""

import contextlib
import errno
import functools
import os
import re
import shutil
import socket
import tempfile
import time
from typing import Iterator, Optional, Tuple

# How long another host's temporary must lie untouched before it is taken for a killed
# writer's (see the module's docstring).
FOREIGN_TEMPORARY_AGE_S = 3600
# `<pid>@<host>` in a temporary's name; the host part is absent in older names.
_WRITER = r'(\d+)(?:@([A-Za-z0-9-]+))?\.'


@functools.lru_cache(maxsize=None)
def _umask() -> int:
  """The process's umask, read without changing it (Linux shows it in /proc); where
  it cannot be read, set and restored at once."""
  try:
    with open('/proc/self/status') as f:
      for line in f:
        if line.startswith('Umask:'):
          return int(line.split()[1], 8)
  except OSError:
    pass
  mask = os.umask(0o022)
  os.umask(mask)
  return mask


def chmod_as_created(path: str) -> None:
  """Gives a staged file (0600) or folder (0700) the mode a plain `open` or `mkdir`
  would have given it under the user's umask."""
  base = 0o777 if os.path.isdir(path) else 0o666
  os.chmod(path, base & ~_umask())


def temporary_file(path: str) -> Tuple[int, str]:
  """A new hidden temporary file beside `path` (creating its folder), named with this
  process's id so that a later process can tell whether its writer is gone."""
  directory = os.path.dirname(os.path.abspath(path))
  os.makedirs(directory, exist_ok=True)
  return tempfile.mkstemp(prefix=_temporary_prefix(path), suffix='.tmp', dir=directory)


def host() -> str:
  """This host's name as temporaries record it: letters, digits and dashes."""
  return re.sub(r'[^A-Za-z0-9-]', '-', socket.gethostname()) or 'localhost'


def _temporary_prefix(path: str) -> str:
  """Names this process's temporaries of `path`: hidden, with the writer's pid and host."""
  return f'.{os.path.basename(os.path.abspath(path))}.{os.getpid()}@{host()}.'


def _alive(pid: int) -> bool:
  try:
    os.kill(pid, 0)
  except ProcessLookupError:
    return False
  except PermissionError:
    return True
  return True


def _last_touched(path: str) -> float:
  """The latest modification time of a file, or of a folder and everything in it."""
  latest = os.lstat(path).st_mtime
  if os.path.isdir(path) and not os.path.islink(path):
    for folder, _, names in os.walk(path):
      for name in names:
        try:
          latest = max(latest, os.lstat(os.path.join(folder, name)).st_mtime)
        except FileNotFoundError:
          pass
  return latest


def _writer_gone(path: str, pid: Optional[str], writer_host: Optional[str]) -> bool:
  """Whether the process that wrote a temporary is gone (see the module's docstring)."""
  if pid is None:  # A name without a writer: nobody's.
    return True
  if writer_host is None or writer_host == host():
    return not _alive(int(pid))
  try:
    return time.time() - _last_touched(path) > FOREIGN_TEMPORARY_AGE_S
  except FileNotFoundError:  # Renamed into place, or removed, meanwhile.
    return False


def remove_stale_temporaries(path: str) -> None:
  """Removes the temporary files and staging folders of `path` whose writing process is
  gone (a killed run's)."""
  path = os.path.abspath(path)
  directory = os.path.dirname(path)
  if not os.path.isdir(directory):
    return
  pattern = re.compile(re.escape(f'.{os.path.basename(path)}.') + _WRITER)
  for name in os.listdir(directory):
    match = pattern.match(name)
    stale = os.path.join(directory, name)
    if not match or not _writer_gone(stale, match.group(1), match.group(2)):
      continue
    if os.path.isdir(stale) and not os.path.islink(stale):
      shutil.rmtree(stale, ignore_errors=True)
    elif name.endswith('.tmp'):
      try:
        os.remove(stale)
      except FileNotFoundError:
        pass


_TEMPORARY_WRITER = re.compile(r'\.' + _WRITER + r'[^.]*\.tmp$')


def remove_dead_temporaries(directory: str) -> None:
  """Removes the temporary files in `directory` whose writing process is gone (or that
  name none): what killed runs left, never what a live one (another shard, on this host
  or another) is writing."""
  if not os.path.isdir(directory):
    return
  for name in os.listdir(directory):
    if not is_temporary(name):
      continue
    match = _TEMPORARY_WRITER.search(name)
    path = os.path.join(directory, name)
    if _writer_gone(path, *(match.groups() if match else (None, None))):
      try:
        os.remove(path)
      except FileNotFoundError:
        pass


def check_writable(path: str) -> None:
  """Fails now, not after the work, if a file cannot be written at `path`.

  Raises:
    ValueError: If `path` is a folder, or a part of its folder is a file.
    OSError: If its folder exists but may not be written: EROFS on a read-only file
      system, else EACCES.
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
    if os.statvfs(folder).f_flag & os.ST_RDONLY:  # The machine's, not a permission.
      raise OSError(errno.EROFS, os.strerror(errno.EROFS), folder)
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
    chmod_as_created(temporary)
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
  untouched; an existing one is replaced only after the new one is complete. Staging
  folders that a killed process left are removed first.
  """
  directory = os.path.abspath(directory)
  parent = os.path.dirname(directory)
  os.makedirs(parent, exist_ok=True)
  remove_stale_temporaries(directory)
  staging = tempfile.mkdtemp(prefix=_temporary_prefix(directory), dir=parent)
  chmod_as_created(staging)  # mkdtemp makes it private; what it becomes is not.
  try:
    yield staging
    if os.path.exists(directory):
      retired = tempfile.mkdtemp(prefix=_temporary_prefix(directory) + 'old.', dir=parent)
      os.replace(directory, os.path.join(retired, 'old'))
      os.replace(staging, directory)
      shutil.rmtree(retired)
    else:
      os.replace(staging, directory)
  except BaseException:
    shutil.rmtree(staging, ignore_errors=True)
    raise
