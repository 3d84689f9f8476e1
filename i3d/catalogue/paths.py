"""Where the project keeps its data and downloads, from a clone or an installed package.

From a clone (the package's folder has `setup.py` beside it), everything stays in the
clone: `data/checkpoints/`, `data/samples/` and `.cache/`. Installed as a package,
`$XDG_DATA_HOME/kinetics-i3d` (`~/.local/share/kinetics-i3d`) and
`$XDG_CACHE_HOME/kinetics-i3d` (`~/.cache/kinetics-i3d`). Environment variables
override these, and a command's flags override those:

  I3D_DATA_DIR        holds checkpoints/ and samples/
  I3D_CHECKPOINT_DIR  the release checkpoints, one folder each (<name>/model.ckpt.*)
  I3D_CACHE_DIR       files downloaded from PyPI (kept between runs)
"""

import os
from typing import Optional

# The folder holding the `i3d` package: a clone's root, or site-packages.
_SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
APP_NAME = 'kinetics-i3d'


def clone_root() -> Optional[str]:
  """The repository's root when running from a clone (editable installs too), else None."""
  if os.path.isfile(os.path.join(_SOURCE_ROOT, 'setup.py')):
    return _SOURCE_ROOT
  return None


def _folder(variable: str, in_clone: str, xdg_variable: str, xdg_default: str) -> str:
  """`$variable`; else `in_clone` in a clone; else `APP_NAME` in the XDG folder."""
  if os.environ.get(variable):
    return os.environ[variable]
  root = clone_root()
  if root:
    return os.path.join(root, in_clone)
  xdg = os.environ.get(xdg_variable) or os.path.expanduser(xdg_default)
  return os.path.join(xdg, APP_NAME)


def data_dir() -> str:
  """The folder of checkpoints and samples: `$I3D_DATA_DIR`, or the default above."""
  return _folder('I3D_DATA_DIR', 'data', 'XDG_DATA_HOME', '~/.local/share')


def checkpoint_dir() -> str:
  """The folder of the release checkpoints: `$I3D_CHECKPOINT_DIR`, or `<data>/checkpoints`."""
  return os.environ.get('I3D_CHECKPOINT_DIR') or os.path.join(data_dir(), 'checkpoints')


def samples_dir() -> str:
  """The folder of the real sample video, its arrays and the sample videos."""
  return os.path.join(data_dir(), 'samples')


def cache_dir() -> str:
  """The folder of PyPI downloads: `$I3D_CACHE_DIR`, or the default above."""
  return _folder('I3D_CACHE_DIR', '.cache', 'XDG_CACHE_HOME', '~/.cache')
