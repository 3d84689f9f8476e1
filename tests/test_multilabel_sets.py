"""Multi-label sets: Charades' CSV and classes file, the generic `path,labels` CSV, and
their errors naming file and line; the generated camera-motion set in Charades' format."""

import math

import numpy as np
import pytest

from i3d.train import camera_motion
from i3d.videosets import multilabel
from i3d.videosets.sources import SourceError

HEADER = ('id,subject,scene,quality,relevance,verified,script,objects,descriptions,'
          'actions,length\n')


def write(path, text):
  path.write_text(text)
  return str(path)


def test_charades_csv_and_classes(tmp_path):
  classes = write(tmp_path / 'Charades_v1_classes.txt',
                  'c000 Holding some clothes\nc001 Putting clothes somewhere\n'
                  'c002 Taking some clothes from somewhere\n')
  names = multilabel.read_class_names(classes)
  assert names == ['c000', 'c001', 'c002']
  for video in ('46GP8', 'N11GT', 'ZZXQF'):
    (tmp_path / f'{video}.mp4').write_bytes(b'')
  source = write(tmp_path / 'Charades_v1_test.csv', HEADER +
                 '46GP8,HR43,Kitchen,6,7,Yes,"A person, cooking; then",pan,"x",'
                 'c002 11.90 21.20;c000 0.00 12.60,24.83\n'
                 'N11GT,KYG6,Stairs,6,7,Yes,script,,,,30.00\n'
                 'ZZXQF,X,Y,6,7,Yes,s,,,c001 3 4.5,8.5\n')
  actions, got_names, skipped = multilabel.read_multilabel(source, class_names=names)
  assert got_names == names and skipped == 0
  assert [a.id for a in actions] == ['46GP8', 'N11GT', 'ZZXQF']
  assert actions[0].path == str(tmp_path / '46GP8.mp4')
  assert actions[0].spans == ((2, 11.9, 21.2), (0, 0., 12.6))
  assert actions[0].length == 24.83
  assert actions[1].spans == () and actions[2].spans == ((1, 3., 4.5),)
  assert multilabel.is_multilabel(source)


def test_generic_csv_with_and_without_times(tmp_path):
  for name in ('a.mp4', 'b.mp4'):
    (tmp_path / name).write_bytes(b'')
  source = write(tmp_path / 'set.csv', 'path,labels\na.mp4,cut;fry 1.5 3\nb.mp4,\n')
  actions, names, _ = multilabel.read_multilabel(source)
  assert names == ['cut', 'fry']
  assert actions[0].spans == ((0, 0., math.inf), (1, 1.5, 3.))
  assert actions[0].length is None and actions[1].spans == ()


@pytest.mark.parametrize('line, message', [
    ('a.mp4,fry 3 1.5', "line 2: fry ends (1.5) before it starts (3.0)"),
    ('a.mp4,fry 1 x', None),  # Not two numbers: a class name with spaces.
    ('a.mp4,boil', "line 2: unknown class 'boil' (not among the 2 classes)"),
    ('c.mp4,cut', 'line 2: ' + '{root}/c.mp4: no such video'),
])
def test_generic_errors_name_the_line(tmp_path, line, message):
  (tmp_path / 'a.mp4').write_bytes(b'')
  source = write(tmp_path / 'set.csv', f'path,labels\n{line}\n')
  if message is None:
    with pytest.raises(SourceError, match="unknown class 'fry 1 x'"):
      multilabel.read_multilabel(source, class_names=['cut', 'fry'])
    return
  with pytest.raises(SourceError) as error:
    multilabel.read_multilabel(source, class_names=['cut', 'fry'])
  assert str(error.value) == f'{source} ' + message.format(root=tmp_path)


@pytest.mark.parametrize('row, message', [
    ('V1,,,,,,,,,c000 1.0,5', "line 2: action 'c000 1.0' is not \"class start end\""),
    ('V1,,,,,,,,,c000 1 2,long', "line 2: length 'long' is not a number of seconds"),
    ('V1,,,,,,,,,c000 -1 2,5', "line 2: start '-1' is not a number of seconds"),
    (',,,,,,,,,c000 1 2,5', 'line 2: no id'),
])
def test_charades_errors_name_the_line(tmp_path, row, message):
  (tmp_path / 'V1.mp4').write_bytes(b'')
  source = write(tmp_path / 'test.csv', HEADER + row + '\n')
  with pytest.raises(SourceError) as error:
    multilabel.read_multilabel(source, class_names=['c000'])
  assert str(error.value) == f'{source} {message}'


def test_classes_out_of_order_and_other_csvs(tmp_path):
  classes = write(tmp_path / 'classes.txt', 'c000 Holding\nc002 Putting\n')
  with pytest.raises(SourceError, match=r'classes.txt line 2: class c002, expected c001'):
    multilabel.read_class_names(classes)
  assert multilabel.read_class_names(write(tmp_path / 'names.txt', 'a\nb\n')) == ['a', 'b']
  single = write(tmp_path / 'single.csv', 'path,label\na.mp4,x\n')
  assert not multilabel.is_multilabel(single)
  with pytest.raises(SourceError, match='not a multi-label CSV'):
    multilabel.read_multilabel(single)


def test_generated_camera_motion_set_reads_as_charades(tmp_path):
  camera_motion.generate_multilabel(str(tmp_path), 3, 2, 24, (64, 48), seed=2,
                                    classes=('PanLeft', 'ZoomIn', 'TiltUp'))
  names = multilabel.read_class_names(str(tmp_path / 'classes.txt'))
  assert names == ['c000', 'c001', 'c002']
  actions, _, _ = multilabel.read_multilabel(str(tmp_path / 'charades_train.csv'),
                                             class_names=names)
  assert len(actions) == 3 and all(a.length == 0.96 for a in actions)
  for item in actions:
    assert item.path.endswith('.mp4')
    spans = sorted(item.spans, key=lambda s: s[1])
    # At most two parts, one after the other, within the video.
    assert len(spans) <= 2 and all(0 <= s <= e <= 0.96 for _, s, e in spans)
    if len(spans) == 2:
      assert spans[0][2] == spans[1][1] and spans[0][0] != spans[1][0]
  assert np.unique([s[0] for a in actions for s in a.spans]).size >= 2
