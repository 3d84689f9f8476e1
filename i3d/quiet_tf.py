"""TensorFlow, imported without the C++ start-up lines it prints whatever the log level.

`import tensorflow` writes, straight to the process's stderr and before its logging is
set up, lines that say nothing a user can act on ("All log messages before
absl::InitializeLog() ...", "oneDNN custom operations are on", "Could not find cuda
drivers"); `TF_CPP_MIN_LOG_LEVEL` silences the later ones only. The import runs with
stderr captured, and whatever else it printed is passed on. Set `I3D_VERBOSE=1` to see
everything.

Usage: `from i3d.quiet_tf import tf` (the `i3d` package imports it first), and
`with without_noise():` around the first look for GPUs (CUDA's "failed call to cuInit"
on machines without one).
"""

import contextlib
import os
import sys
import tempfile
from typing import Iterator

# Lines of TensorFlow's start-up chatter: passed on only with I3D_VERBOSE.
_NOISE = (
    'All log messages before absl::InitializeLog()',
    'oneDNN custom operations are on',
    'Could not find cuda drivers',
    'cpu_feature_guard',
    'To enable the following instructions',
    'Unable to register cu',
    'TF-TRT Warning',
    'failed call to cuInit',
    'computation placer already registered',
)


@contextlib.contextmanager
def without_noise(drop_all: bool = False) -> Iterator[None]:
  """Runs the block with file descriptor 2 captured; then passes on what is not noise,
  or, with `drop_all` (for steps as chatty as TFLite's converter), nothing unless the
  block raises."""
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
        if not drop_all and not any(noise in line for noise in _NOISE):
          sys.stderr.write(line)
      sys.stderr.flush()


def _import_quietly():
  """Imports TensorFlow without its start-up lines."""
  if not os.environ.get('I3D_VERBOSE'):
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
  with without_noise():
    import tensorflow  # pylint: disable=g-import-not-at-top
  return tensorflow


tf = _import_quietly()
