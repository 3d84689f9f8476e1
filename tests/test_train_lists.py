"""Labelled sets as `python -m i3d.train` and `classify --labels` read them: UCF-101 and
HMDB-51 split files, class folders, CSVs, and their errors (no TensorFlow)."""

import pytest

from i3d.videosets import labelled
from i3d.videosets.sources import SourceError
from i3d.train import recipe as recipe_lib
from i3d.train.data import replica_positions

CLASSES = ['ApplyEyeMakeup', 'Archery', 'Basketball']


@pytest.fixture
def ucf(tmp_path):
  for name in CLASSES:
    (tmp_path / name).mkdir()
    for g in (1, 2):
      (tmp_path / name / f'v_{name}_g0{g}_c01.avi').write_bytes(b'x')
  (tmp_path / 'classInd.txt').write_text(
      ''.join(f'{i} {n}\n' for i, n in enumerate(CLASSES, start=1)))
  (tmp_path / 'trainlist01.txt').write_text(''.join(
      f'{n}/v_{n}_g01_c01.avi {i}\n' for i, n in enumerate(CLASSES, start=1)))
  (tmp_path / 'testlist01.txt').write_text(''.join(
      f'{n}/v_{n}_g02_c01.avi\n' for n in CLASSES))
  return tmp_path


def test_ucf_lists_with_class_index(ucf):
  names = labelled.read_class_names(str(ucf / 'classInd.txt'))
  assert names == CLASSES
  videos, classes, skipped = labelled.read_labelled(str(ucf / 'trainlist01.txt'), str(ucf),
                                                    'train', names)
  assert classes == CLASSES and skipped == 0
  assert [(v.label, v.path) for v in videos] == [
      (n, str(ucf / n / f'v_{n}_g01_c01.avi')) for n in CLASSES]
  assert videos[0].id == 'ApplyEyeMakeup__v_ApplyEyeMakeup_g01_c01'
  test, _, _ = labelled.read_labelled(str(ucf / 'testlist01.txt'), None, 'test', names)
  assert [v.label for v in test] == CLASSES
  # Without --labels: the sorted names found.
  _, found, _ = labelled.read_labelled(str(ucf / 'testlist01.txt'))
  assert found == sorted(CLASSES)


def test_ucf_errors_name_the_line(ucf):
  names = labelled.read_class_names(str(ucf / 'classInd.txt'))
  bad = ucf / 'bad.txt'
  bad.write_text('Archery/v_Archery_g01_c01.avi 1\n')
  with pytest.raises(SourceError, match=rf'{bad} line 1: class index 1 is not '
                     r"'Archery' in the class names"):
    labelled.read_labelled(str(bad), str(ucf), 'train', names)
  bad.write_text('Archery/v_Archery_g01_c01.avi 2\nArchery/v_Archery_g09_c01.avi 2\n')
  with pytest.raises(SourceError, match=rf'{bad} line 2: {ucf}/Archery/'
                     r'v_Archery_g09_c01.avi: no such video'):
    labelled.read_labelled(str(bad), str(ucf), 'train', names)
  videos, _, skipped = labelled.read_labelled(str(bad), str(ucf), 'train', names,
                                              skip_missing=True)
  assert (len(videos), skipped) == (1, 1)
  bad.write_text('Fencing/v_Fencing_g01_c01.avi\n')
  with pytest.raises(SourceError, match=rf"{bad} line 1: unknown class 'Fencing'"):
    labelled.read_labelled(str(bad), str(ucf), 'test', names)
  (ucf / 'unreadable.txt').write_text('Archery/v_Archery_g01_c01.avi\n')

  def refuse(path):
    raise ValueError(f'{path}: not a video OpenCV can open')
  with pytest.raises(SourceError, match=r'line 1: .*v_Archery_g01_c01.avi: not a video'):
    labelled.read_labelled(str(ucf / 'unreadable.txt'), str(ucf), 'test', names,
                           check_video=refuse)


def test_hmdb_split_files(tmp_path):
  splits = tmp_path / 'splits'
  splits.mkdir()
  for label in ('brush_hair', 'cartwheel'):
    (tmp_path / 'videos' / label).mkdir(parents=True)
    lines = []
    for i, role in enumerate(('1', '2', '0', '1')):
      (tmp_path / 'videos' / label / f'{label}_{i}.avi').write_bytes(b'x')
      lines.append(f'{label}_{i}.avi {role}\n')
    (splits / f'{label}_test_split1.txt').write_text(''.join(lines))
  pattern = str(splits / '*_test_split1.txt')
  train, classes, _ = labelled.read_labelled(pattern, str(tmp_path / 'videos'), 'train')
  test, _, _ = labelled.read_labelled(pattern, str(tmp_path / 'videos'), 'test')
  assert classes == ['brush_hair', 'cartwheel']
  assert [v.path.rsplit('/', 1)[1] for v in train] == [
      'brush_hair_0.avi', 'brush_hair_3.avi', 'cartwheel_0.avi', 'cartwheel_3.avi']
  assert [v.label for v in test] == ['brush_hair', 'cartwheel']


def test_class_folders_and_csv(tmp_path):
  for label in ('b', 'a'):
    (tmp_path / 'set' / label).mkdir(parents=True)
    (tmp_path / 'set' / label / 'x.mp4').write_bytes(b'x')
  videos, classes, _ = labelled.read_labelled(str(tmp_path / 'set'))
  assert classes == ['a', 'b'] and [v.label for v in videos] == ['a', 'b']
  (tmp_path / 'set.csv').write_text('path,label\nset/a/x.mp4,a\nset/b/x.mp4,b\n')
  videos, classes, _ = labelled.read_labelled(str(tmp_path / 'set.csv'))
  assert [v.label for v in videos] == ['a', 'b']


def test_class_names_files(tmp_path):
  (tmp_path / 'one.txt').write_text('run\njump\n')
  assert labelled.read_class_names(str(tmp_path / 'one.txt')) == ['run', 'jump']
  (tmp_path / 'gap.txt').write_text('1 run\n3 jump\n')
  with pytest.raises(SourceError, match='line 2: index 3, expected 2'):
    labelled.read_class_names(str(tmp_path / 'gap.txt'))


def test_recipe_learning_rates():
  assert recipe_lib.Recipe(init='scratch').base_learning_rate == 0.1
  fine = recipe_lib.Recipe(init='rgb_imagenet', lr_boundaries=(10, 20))
  assert [fine.learning_rate_at(s) for s in (0, 9, 10, 19, 20)] == pytest.approx(
      [0.01, 0.01, 0.001, 0.001, 0.0001])
  with pytest.raises(ValueError, match='needs a pretrained --init'):
    recipe_lib.Recipe(init='scratch', train_layers='logits')


def test_replicas_split_the_global_batch_as_one_device_takes_it():
  """Two replicas (one input pipeline, or one each) see, step by step, the positions one
  device sees: the data of a step does not depend on how it is split."""
  one = [replica_positions(j, 4, 4, 0, 1, first_step=3).tolist() for j in range(2)]
  shared = [replica_positions(j, 4, 2, 0, 2, first_step=3).tolist() for j in range(4)]
  apart = [[replica_positions(j, 4, 2, w, 1, first_step=3).tolist() for w in (0, 1)]
           for j in range(2)]
  assert one == [[12, 13, 14, 15], [16, 17, 18, 19]]
  assert [a + b for a, b in zip(shared[::2], shared[1::2])] == one
  assert [a + b for a, b in apart] == one


def test_cosine_schedule_with_warm_up():
  """PySlowFast's cosine to 0 over the run, times MMAction2's linear warm-up from a
  tenth, worked out by hand for 100 steps at 0.01 with 10 steps of warm-up."""
  recipe = recipe_lib.Recipe(steps=100, lr_schedule='cosine', warmup_steps=10)
  assert recipe.learning_rate_at(0) == pytest.approx(0.01 * 1.0 * 0.1)
  # Step 5: cos(pi / 20) = 0.98769, warm-up factor 0.1 + 0.9 * 0.5 = 0.55.
  assert recipe.learning_rate_at(5) == pytest.approx(0.01 * (1 + 0.987688) / 2 * 0.55,
                                                     rel=1e-5)
  assert recipe.learning_rate_at(50) == pytest.approx(0.005)  # Half way: half the rate.
  assert recipe.learning_rate_at(99) == pytest.approx(0.01 * (1 - 0.999507) / 2, rel=1e-3)
  rates = [recipe.learning_rate_at(s) for s in range(100)]
  assert max(rates) == pytest.approx(recipe.learning_rate_at(10))  # Warm-up ends on top.
  constant = recipe_lib.Recipe(lr_schedule='constant', warmup_steps=4)
  assert [constant.learning_rate_at(s) for s in (0, 2, 4, 500)] == pytest.approx(
      [0.001, 0.0055, 0.01, 0.01])
  # Recorded only when not the default, so earlier runs' folders resume.
  assert 'lr_schedule' not in recipe_lib.Recipe().to_json()
  assert recipe.to_json()['lr_schedule'] == 'cosine' and recipe.to_json()['warmup_steps'] == 10
  with pytest.raises(ValueError, match='step schedule'):
    recipe_lib.Recipe(lr_schedule='cosine', lr_boundaries=(10,))
  with pytest.raises(ValueError, match='--warmup_steps must be in'):
    recipe_lib.Recipe(steps=10, warmup_steps=11)


def test_precise_batch_norm_setting():
  """Off by default and then unrecorded (earlier folders resume); nothing to do with
  batch norm frozen; a negative count refused naming the flag."""
  assert 'precise_bn_batches' not in recipe_lib.Recipe().to_json()
  assert recipe_lib.Recipe(precise_bn_batches=8).to_json()['precise_bn_batches'] == 8
  assert recipe_lib.Recipe(precise_bn_batches=8).uses_precise_bn
  assert not recipe_lib.Recipe(precise_bn_batches=8, freeze_batch_norm=True).uses_precise_bn
  assert not recipe_lib.Recipe().uses_precise_bn
  with pytest.raises(ValueError, match='--precise_bn_batches must be at least 0'):
    recipe_lib.Recipe(precise_bn_batches=-1)
