"""Writing a file whole or not at all: a temporary file beside it, renamed into place.

An interrupted or failed write leaves the target untouched (a killed process may leave a
hidden `.<name>.*.tmp` beside it, never a half-written target).
"""

import os
import tempfile


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
