"""The catalogue: releases against the release's own listings, plans, folders, and a
checkpoint lookup that agrees with TensorFlow's without importing it."""

import os
import pickle
import subprocess
import sys

import pytest

from i3d import catalogue
from i3d.catalogue import paths
from tests.conftest import LAYOUTS, RELEASES, ROOT


def test_the_table_matches_the_release_listings():
  assert set(catalogue.RELEASES) == set(RELEASES)
  for name, (layout, channels, classes) in RELEASES.items():
    release = catalogue.RELEASES[name]
    assert (release.layout, release.channels, release.num_classes) == (layout, channels,
                                                                       classes)
    assert len(catalogue.read_labels(release)) == classes
    # The listing of the release's .index: the first convolution takes `channels`.
    with open(os.path.join(LAYOUTS, f'{name}.txt')) as f:
      first = next(line for line in f if 'Conv3d_1a_7x7/conv_3d/w ' in line)
    assert first.split()[1] == f'7,7,7,{channels},64', first


def make_checkpoint(folder, checkpoint_line=None, files=('model.ckpt',)):
  os.makedirs(folder, exist_ok=True)
  for prefix in files:
    open(os.path.join(folder, prefix + '.index'), 'w').close()
  if checkpoint_line is not None:
    with open(os.path.join(folder, 'checkpoint'), 'w') as f:
      f.write(checkpoint_line + '\nall_model_checkpoint_paths: "x"\n')


@pytest.mark.parametrize('line, files', [
    (None, ('model.ckpt',)),                                     # No checkpoint file.
    ('model_checkpoint_path: "model.ckpt"', ('model.ckpt',)),   # Relative.
    ('model_checkpoint_path: "/cns/x/model.ckpt-1"', ('model.ckpt-1',)),  # The release's.
    ('model_checkpoint_path: "other"', ('other', 'model.ckpt')),
])
def test_checkpoint_lookup_agrees_with_tensorflow(tmp_path, line, files):
  """An independent formulation: TensorFlow's own `get_checkpoint_state` parser."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  folder = str(tmp_path / 'ckpt')
  make_checkpoint(folder, line, files)
  prefix = catalogue.checkpoint_prefix(folder)
  state = tf.train.get_checkpoint_state(folder)
  if state is None:
    assert prefix == os.path.join(folder, 'model.ckpt')
  else:
    recorded = state.model_checkpoint_path
    expected = recorded if os.path.exists(recorded + '.index') else os.path.join(
        folder, os.path.basename(recorded))
    assert prefix == expected


def test_a_checkpoint_file_naming_nothing_there_is_an_error(tmp_path):
  make_checkpoint(str(tmp_path), 'model_checkpoint_path: "gone"', files=())
  with pytest.raises(FileNotFoundError, match="its checkpoint file names .*gone"):
    catalogue.checkpoint_prefix(str(tmp_path))


def test_plans_resolve_auto_and_are_plain_data(tmp_path):
  make_checkpoint(str(tmp_path / 'rgb_imagenet'))
  plan = catalogue.make_plan('auto', True, str(tmp_path))
  assert (plan.eval_type, plan.requested, plan.modalities) == ('rgb', 'auto', ('rgb',))
  assert 'no flow_imagenet checkpoint in ' + str(tmp_path / 'flow_imagenet') in plan.note()
  assert pickle.loads(pickle.dumps(plan)) == plan
  make_checkpoint(str(tmp_path / 'flow_imagenet'))
  joint = catalogue.make_plan('auto', True, str(tmp_path))
  assert joint.eval_type == 'joint' and joint.note() is None
  assert [s.name for s in joint.streams] == ['rgb', 'flow']
  assert joint.modalities == ('rgb', 'flow') and joint.num_classes == 400
  assert joint.streams[1].prefix == str(tmp_path / 'flow_imagenet' / 'model.ckpt')
  with pytest.raises(catalogue.MissingCheckpointError,
                     match='rgb_scratch: no such folder; the rgb_scratch checkpoint'):
    catalogue.make_plan('rgb', False, str(tmp_path))
  with pytest.raises(ValueError, match="Unknown eval_type 'rgb400'"):
    catalogue.make_plan('rgb400', True, str(tmp_path))


def test_folders_follow_the_environment(monkeypatch, tmp_path):
  assert paths.clone_root() == ROOT
  assert paths.checkpoint_dir() == os.path.join(ROOT, 'data', 'checkpoints')
  monkeypatch.setenv('I3D_DATA_DIR', str(tmp_path))
  assert paths.checkpoint_dir() == str(tmp_path / 'checkpoints')
  assert paths.samples_dir() == str(tmp_path / 'samples')
  monkeypatch.setenv('I3D_CHECKPOINT_DIR', '/ckpt')
  monkeypatch.setenv('I3D_CACHE_DIR', '/cache')
  assert (paths.checkpoint_dir(), paths.cache_dir()) == ('/ckpt', '/cache')
  # Installed (no setup.py beside the package): the XDG folders.
  monkeypatch.delenv('I3D_DATA_DIR')
  monkeypatch.delenv('I3D_CACHE_DIR')
  monkeypatch.setattr(paths, '_SOURCE_ROOT', str(tmp_path))
  monkeypatch.setenv('XDG_DATA_HOME', '/xdg/data')
  monkeypatch.delenv('XDG_CACHE_HOME', raising=False)
  assert paths.data_dir() == '/xdg/data/kinetics-i3d'
  assert paths.cache_dir() == os.path.expanduser('~/.cache/kinetics-i3d')


def test_the_catalogue_assets_and_preprocess_import_no_tensorflow():
  code = ('import sys, i3d.catalogue, i3d.system.pool, i3d.system.store, i3d.system.pypi, '
          'i3d.videosets.labelled, i3d.videosets.scoring, i3d.flags, preprocess, '
          'i3d.preprocess.sample, i3d.preprocess.__main__, i3d.classify.scratch, '
          'i3d.classify.settings; '
          'print(sorted(m for m in ("tensorflow", "sonnet", "apache_beam") '
          'if m in sys.modules))')
  out = subprocess.run([sys.executable, '-c', code], cwd=ROOT, check=True,
                       capture_output=True, text=True).stdout
  assert out.strip() == '[]'
