"""C++ libraries' own lines on stderr (TensorFlow's start-up chatter, OpenCV's [ WARN ]
lines), held back where they say nothing a user can act on. `I3D_VERBOSE=1` shows
everything.

Python's `sys.stderr` cannot catch them: they are written to file descriptor 2 directly.
"""

import contextlib
import os
import sys
import tempfile
from typing import Iterator, Sequence


@contextlib.contextmanager
def held_back(noise: Sequence[str] = (), drop_all: bool = False) -> Iterator[None]:
  """Runs the block with file descriptor 2 captured; then passes on the lines that hold
  none of `noise`, or, with `drop_all`, nothing unless the block raises."""
  if os.environ.get('I3D_VERBOSE'):
    yield
    return
  sys.stderr.flush()
  saved = os.dup(2)
  with tempfile.TemporaryFile() as captured:
    os.dup2(captured.fileno(), 2)
    try:
      yield
    except BaseException:
      drop_all = False
      raise
    finally:
      sys.stderr.flush()
      os.dup2(saved, 2)
      os.close(saved)
      captured.seek(0)
      for line in captured.read().decode(errors='replace').splitlines(keepends=True):
        if not drop_all and not any(words in line for words in noise):
          sys.stderr.write(line)
      sys.stderr.flush()
