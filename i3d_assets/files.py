"""Writing files and folders whole or not at all: staged beside the target, then renamed.

An interrupted or failed write leaves the target untouched (a killed process may leave a
hidden `.<name>.*.tmp` file or `.<name>.*` folder beside it, never a half-written target).
"""

import contextlib
import os
import shutil
import tempfile
from typing import Iterator


def write_atomically(path: str, data: bytes) -> None:
  """Writes `data` to `path` (creating its folder), replacing any file there at once."""
  directory = os.path.dirname(os.path.abspath(path))
  os.makedirs(directory, exist_ok=True)
  handle, temporary = tempfile.mkstemp(prefix=f'.{os.path.basename(path)}.', suffix='.tmp',
                                       dir=directory)
  try:
    with os.fdopen(handle, 'wb') as f:
      f.write(data)
      f.flush()
      os.fsync(f.fileno())
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
