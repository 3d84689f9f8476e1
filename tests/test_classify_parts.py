"""The parts of classify that need no network: video lists, windows, accuracy."""

import json
import os

import numpy as np
import pytest

from i3d.videosets import scoring
from i3d.videosets import sources
from i3d.classify import prediction as windows


def touch(path):
  os.makedirs(os.path.dirname(path), exist_ok=True)
  open(path, 'wb').close()
  return str(path)


def test_a_folder_is_searched_recursively_for_videos(tmp_path):
  touch(tmp_path / 'b.mp4')
  touch(tmp_path / 'a' / 'x.avi')
  touch(tmp_path / 'notes.txt')
  videos = sources.list_videos(str(tmp_path))
  assert [v.id for v in videos] == ['a__x', 'b']
  assert videos[0].path == str(tmp_path / 'a' / 'x.avi')
  assert all(v.label is None for v in videos)


def test_a_glob_is_sorted(tmp_path):
  for name in ('c.mp4', 'a.mp4', 'b.mkv'):
    touch(tmp_path / name)
  assert [v.id for v in sources.list_videos(str(tmp_path / '*.mp4'))] == ['a', 'c']


def test_a_text_list_relative_to_its_folder(tmp_path):
  (tmp_path / 'list.txt').write_text('# clips\nx/one.mp4\n\n/abs/two.mp4\n')
  videos = sources.list_videos(str(tmp_path / 'list.txt'))
  assert [v.path for v in videos] == [str(tmp_path / 'x' / 'one.mp4'), '/abs/two.mp4']


def test_a_video_file_is_a_set_of_one(tmp_path):
  # `--videos clip.mp4` was read as a text list and refused as "not a text list".
  clip = touch(tmp_path / 'clips' / 'Clip.MP4')
  assert sources.list_videos(clip) == [sources.Video('Clip', clip, None)]


def test_lists_skip_comments_and_blank_lines_with_line_numbers(tmp_path):
  (tmp_path / 'list.txt').write_text('# a comment\n\n  a.avi 1\n  # indented\nb.avi\n')
  assert sources.list_lines(str(tmp_path / 'list.txt')) == [(3, 'a.avi 1'), (5, 'b.avi')]
  (tmp_path / 'binary.txt').write_bytes(b'\xff\xfe\x00')
  with pytest.raises(sources.SourceError, match='binary.txt: not a text list of videos'):
    sources.list_lines(str(tmp_path / 'binary.txt'))


def test_kinetics_csv_names_the_downloaded_files(tmp_path):
  (tmp_path / 'val.csv').write_text(
      'label,youtube_id,time_start,time_end,split\n'
      'abseiling,--33Lscn6sk,4,14,val\n'
      '"passing American football (in game)",-0NJkQaiDqk,10.0,20.0,val\n')
  videos = sources.list_videos(str(tmp_path / 'val.csv'), video_dir='/data/k400/val')
  assert videos == [
      sources.Video('--33Lscn6sk_000004_000014', '/data/k400/val/--33Lscn6sk_000004_000014.mp4',
                    'abseiling'),
      sources.Video('-0NJkQaiDqk_000010_000020', '/data/k400/val/-0NJkQaiDqk_000010_000020.mp4',
                    'passing American football (in game)')]


def test_path_csv_with_labels(tmp_path):
  (tmp_path / 'set.csv').write_text('path,label\nclips/a.mp4,yoga\nclips/b.mp4,\n')
  videos = sources.list_videos(str(tmp_path / 'set.csv'))
  assert [(v.id, v.label) for v in videos] == [('clips__a', 'yoga'), ('clips__b', None)]


@pytest.mark.parametrize('source', ['list.txt', 'set.csv', 'clips/*.mp4', 'clips'])
def test_adding_a_video_from_elsewhere_renames_no_other(tmp_path, source):
  """Ids depend on the source's root, never on the other videos listed."""
  touch(tmp_path / 'clips' / 'a.mp4')
  touch(tmp_path / 'other' / 'b.mp4')

  def ids(*names):
    (tmp_path / 'list.txt').write_text(''.join(f'{n}\n' for n in names))
    (tmp_path / 'set.csv').write_text('path\n' + ''.join(f'{n}\n' for n in names))
    return [v.id for v in sources.list_videos(str(tmp_path / source))]

  before = ids('clips/a.mp4')
  if source in ('list.txt', 'set.csv'):
    assert ids('clips/a.mp4', 'other/b.mp4') == before + ['other__b']
  else:  # The glob's and the folder's root is clips/ whatever else is on disk.
    touch(tmp_path / 'clips' / 'sub' / 'c.mp4')
    assert ids()[0] == before[0] == 'a'


@pytest.mark.parametrize('content, message', [
    ('name,kind\nx,y\n', r'set\.csv: header has neither Kinetics\' columns'),
    ('label,youtube_id,time_start,time_end\nyoga,abc,x,4\n',
     r'set\.csv line 2: times must be numbers'),
    ('path\na.mp4\na.avi\n', r"set\.csv: two videos would both be called 'a'"),
])
def test_bad_csv_is_refused_naming_the_file(content, message, tmp_path):
  (tmp_path / 'set.csv').write_text(content)
  with pytest.raises(sources.SourceError, match=message):
    sources.list_videos(str(tmp_path / 'set.csv'))


def test_missing_or_empty_sources_are_refused(tmp_path):
  with pytest.raises(sources.SourceError, match=r'nowhere: no such file or folder'):
    sources.list_videos(str(tmp_path / 'nowhere'))
  with pytest.raises(sources.SourceError, match=r'no videos found'):
    sources.list_videos(str(tmp_path))


@pytest.mark.parametrize('frames, length, stride, expected', [
    (250, 64, 32, [0, 32, 64, 96, 128, 160, 186]),
    (100, 64, 32, [0, 32, 36]),
    (128, 64, 64, [0, 64]),
    (64, 64, 32, [0]),
    (20, 64, 32, [0]),
    (500, 0, 32, [0]),
])
def test_window_starts(frames, length, stride, expected):
  assert windows.window_starts(frames, length, stride) == expected


@pytest.mark.parametrize('frames', range(9, 300, 7))
@pytest.mark.parametrize('length, stride', [(64, 32), (64, 64), (16, 5), (32, 48)])
def test_windows_fit_and_cover_every_frame_when_stride_allows(frames, length, stride):
  starts = windows.window_starts(frames, length, stride)
  size = windows.window_length(frames, length)
  assert starts == sorted(set(starts)) and starts[0] == 0
  assert all(s + size <= frames for s in starts)
  assert starts[-1] + size == frames  # The last window ends at the last frame.
  if stride <= length:
    covered = np.zeros(frames, bool)
    for s in starts:
      covered[s:s + size] = True
    assert covered.all()


def test_window_arguments_are_checked():
  with pytest.raises(ValueError, match='num_frames must be positive'):
    windows.window_starts(0, 64, 32)
  with pytest.raises(ValueError, match='stride >= 1'):
    windows.window_starts(100, 64, 0)


def row(label, top5, status='ok'):
  return {'label': label, 'status': status, 'top1': top5[0],
          'correct_top1': top5[0] == label, 'correct_top5': label in top5}


def test_accuracy_on_hand_counted_rows():
  rows = [
      row('a', ['a', 'b', 'c', 'd', 'e']),   # a: right
      row('a', ['b', 'a', 'c', 'd', 'e']),   # a: top-5 only, confused with b
      row('b', ['b', 'c', 'd', 'e', 'f']),   # b: right
      row('c', ['b', 'd', 'e', 'f', 'g']),   # c: wrong, confused with b
      {'label': 'c', 'status': 'failed'},    # not scored
      {'label': None, 'status': 'ok'},       # unlabelled: ignored
  ]
  metrics = scoring.accuracy(rows, labels=list('abcdefg'))
  assert metrics['top1'] == pytest.approx(2 / 4)
  assert metrics['top5'] == pytest.approx(3 / 4)
  # Per class: a 1/2, b 1/1, c 0/1.
  assert metrics['mean_class_accuracy'] == pytest.approx((0.5 + 1 + 0) / 3)
  assert (metrics['videos_labelled'], metrics['videos_scored'],
          metrics['videos_failed']) == (5, 4, 1)
  assert metrics['most_confused'] == [
      {'label': 'a', 'predicted': 'b', 'videos': 1},
      {'label': 'c', 'predicted': 'b', 'videos': 1}]
  assert dict(metrics['confusion']) == {('a', 'a'): 1, ('a', 'b'): 1, ('b', 'b'): 1,
                                        ('c', 'b'): 1}


def test_no_labels_no_accuracy():
  assert scoring.accuracy([{'label': None, 'status': 'ok'}], labels=['a']) is None


def test_a_multilabel_set_with_no_scored_video_has_no_map(tmp_path):
  # Every video failed: all scores -inf used to give "mAP 0.6667" over 0 videos.
  from i3d.classify import report  # pylint: disable=g-import-not-at-top
  from i3d.classify import result  # pylint: disable=g-import-not-at-top
  from i3d.system.store import LocalStore  # pylint: disable=g-import-not-at-top
  from i3d.videosets.multilabel import Actions  # pylint: disable=g-import-not-at-top
  store = LocalStore(str(tmp_path))
  videos = [Actions(f'v{i}', f'v{i}.mp4', None, spans=((i % 2, 0.0, 1.0),), length=2.0)
            for i in range(3)]
  store.write('metrics.json', b'{"mAP": 0.5}')  # An earlier run's.
  for video in videos:
    store.write(result.failure_name(video.id), json.dumps({'error': 'damaged'}).encode())
  metrics = report.write_reports(store, videos, ['a', 'b'])
  assert metrics == {'videos': {'ok': 0, 'failed': 3, 'pending': 0}}
  assert store.read('metrics.json') is None
  assert report.describe(store) == 'all videos: 0 ok, 3 failed, 0 pending'
