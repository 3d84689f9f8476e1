"""TensorFlow, imported without the C++ start-up lines it prints whatever the log level.

`import tensorflow` writes, straight to the process's stderr and before its logging is
set up, lines that say nothing a user can act on ("All log messages before
absl::InitializeLog() ...", "oneDNN custom operations are on", "Could not find cuda
drivers"); `TF_CPP_MIN_LOG_LEVEL` silences the later ones only. The import runs with
stderr captured, and whatever else it printed is passed on. Set `I3D_VERBOSE=1` to see
everything.

Usage: `from i3d.quiet_tf import tf` (every module of `i3d` that uses TensorFlow takes it
from here, so whichever is imported first imports it quietly), and
`with without_noise():` around the first look for GPUs (CUDA's "failed call to cuInit"
on machines without one).
"""

import os

from i3d.system import stderr

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


def without_noise(drop_all: bool = False):
  """Runs the block with TensorFlow's chatter held back (see `i3d.system.stderr`), or,
  with `drop_all` (for steps as chatty as TFLite's converter), everything unless the
  block raises."""
  return stderr.held_back(_NOISE, drop_all)


def _import_quietly():
  """Imports TensorFlow without its start-up lines."""
  if not os.environ.get('I3D_VERBOSE'):
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
  with without_noise():
    import tensorflow  # pylint: disable=g-import-not-at-top
  return tensorflow


tf = _import_quietly()
