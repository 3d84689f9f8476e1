"""Labelled video sets in the forms people have them, for training and for scoring.

- UCF-101 split lists: `trainlistNN.txt` lines `Class/v_Class_g08_c01.avi 1` (the class
  index of `classInd.txt`, 1-based), `testlistNN.txt` lines without the index; the class
  is the path's folder.
- HMDB-51 split files `<class>_test_splitN.txt`, lines `name.avi 1|2|0` (1 train,
  2 test, 0 unused), videos in `<video_dir>/<class>/`; a glob of them is a whole split.
- A folder with a subfolder of videos per class.
- `classify`'s CSVs: `path,label` and Kinetics' annotation files.

Class names come from `--labels` (a `classInd.txt`, or one name per line), else they are
the sorted names found. Every video is checked before any work: a missing or unreadable
file is an error naming it and the list's line (or, with `skip_missing`, counted).
"""

import glob
import os
import re
from typing import List, Optional, Sequence, Tuple

from i3d.videosets import sources
from i3d.videosets.sources import SourceError, Video

HMDB_SPLIT = re.compile(r'^(?P<label>.+)_test_split\d+\.txt$')
ROLES = {'train': '1', 'test': '2'}


def read_class_names(path: str) -> List[str]:
  """Class names in logit order from a `classInd.txt` (`1 Name` lines, indices 1..N in
  order) or a file of one name per line.

  Raises:
    SourceError: If the file is missing, empty, out of order or names a class twice.
  """
  try:
    with open(path, encoding='utf-8') as f:
      lines = [line.strip() for line in f if line.strip()]
  except (OSError, UnicodeDecodeError) as e:
    raise SourceError(f'{path}: cannot read the class names ({e})') from e
  if not lines:
    raise SourceError(f'{path}: no class names')
  indexed = [line.split(maxsplit=1) for line in lines]
  if all(len(parts) == 2 and parts[0].isdigit() for parts in indexed):
    for number, (index, _) in enumerate(indexed, start=1):
      if int(index) != number:
        raise SourceError(f'{path} line {number}: index {index}, expected {number} '
                          '(classInd.txt lists the classes 1..N in order)')
    names = [name.strip() for _, name in indexed]
  else:
    names = lines
  duplicates = sorted({n for n in names if names.count(n) > 1})
  if duplicates:
    raise SourceError(f'{path}: names {", ".join(duplicates[:3])} more than once')
  return names


def read_labelled(source: str, video_dir: Optional[str] = None, role: str = 'train',
                  class_names: Optional[Sequence[str]] = None, skip_missing: bool = False,
                  check_video=None,
                  require_files: bool = True) -> Tuple[List[Video], List[str], int]:
  """The labelled videos of `source`, the class names, and how many were skipped.

  Args:
    source: A UCF-101 list, an HMDB-51 split file or glob of them, a folder of class
      folders, or a CSV.
    video_dir: Where the lists' relative paths live; by default the list's folder.
    role: For HMDB-51 split files: `train` (lines marked 1) or `test` (2).
    class_names: The classes in logit order; None: the sorted names found.
    skip_missing: Skip (and count) missing or unreadable videos instead of failing.
    check_video: `check_video(path)` raises ValueError for an unreadable video; by
      default only existence is checked.
    require_files: False leaves the files unchecked (`classify` records a video it
      cannot read as failed, and goes on).

  Raises:
    SourceError: On a malformed list, an unknown class, or a missing or unreadable video
      (naming the file and the list's line).
  """
  entries = _entries(source, video_dir, role, class_names)  # (path, label, where)
  if class_names is None:
    class_names = sorted({label for _, label, _ in entries})
  known = set(class_names)
  kept, skipped = [], 0
  for path, label, where in entries:
    if label not in known:
      raise SourceError(f'{where}: unknown class {label!r} (not among the '
                        f'{len(known)} classes)')
    problem = video_problem(path, check_video) if require_files else None
    if problem:
      if skip_missing:
        skipped += 1
        continue
      raise SourceError(f'{where}: {problem}')
    kept.append((path, label))
  if not kept:
    raise SourceError(f'{source}: no labelled videos')
  root = video_dir or (source if os.path.isdir(source) else os.path.dirname(source))
  return sources.with_ids(kept, root=root, where=source), list(class_names), skipped


def video_problem(path: str, check_video) -> Optional[str]:
  """Why the video at `path` cannot be used, in one line; None when it can."""
  if not os.path.isfile(path):
    return f'{path}: no such video'
  if check_video is not None:
    try:
      check_video(path)
    except ValueError as e:
      return str(e)
  return None


def _entries(source, video_dir, role, class_names) -> List[Tuple[str, str, str]]:
  if os.path.isdir(source):
    return _class_folders(source)
  split_files = sorted(glob.glob(source)) if glob.has_magic(source) else [source]
  if split_files and all(HMDB_SPLIT.match(os.path.basename(p)) for p in split_files):
    return [e for p in split_files for e in _hmdb_split(p, video_dir, role)]
  if not os.path.isfile(source):
    raise SourceError(f'{source}: no such file or folder')
  if source.lower().endswith('.csv'):
    videos = sources.list_videos(source, video_dir)
    unlabelled = [v.path for v in videos if v.label is None]
    if unlabelled:
      raise SourceError(f'{source}: {unlabelled[0]} has no label')
    return [(v.path, v.label, f'{source} ({v.path})') for v in videos]
  return _ucf_list(source, video_dir or os.path.dirname(source), class_names)


def _class_folders(folder: str) -> List[Tuple[str, str, str]]:
  entries = []
  for label in sorted(os.listdir(folder)):
    if not os.path.isdir(os.path.join(folder, label)):
      continue
    for video in sources.list_videos(os.path.join(folder, label)):
      entries.append((video.path, label, video.path))
  if not entries:
    raise SourceError(f'{folder}: no class folders with videos')
  return entries


def _ucf_list(path: str, video_dir: str, class_names) -> List[Tuple[str, str, str]]:
  entries = []
  for number, line in sources.list_lines(path):
    parts = line.split()
    where = f'{path} line {number}'
    relative = parts[0]
    label = os.path.basename(os.path.dirname(relative))
    if not label:
      raise SourceError(f'{where}: {relative!r} has no class folder (UCF-101 lists name '
                        'videos as Class/file.avi)')
    if len(parts) == 2:
      if not parts[1].isdigit():
        raise SourceError(f'{where}: {parts[1]!r} is not a class index')
      if class_names is not None:
        index = int(parts[1])
        if not 1 <= index <= len(class_names) or class_names[index - 1] != label:
          raise SourceError(f'{where}: class index {index} is not {label!r} in the class '
                            'names (--labels)')
    elif len(parts) > 2:
      raise SourceError(f'{where}: expected "Class/video.avi [index]", got {line!r}')
    entries.append((os.path.join(video_dir, relative), label, where))
  return entries


def _hmdb_split(path: str, video_dir: Optional[str], role: str) -> List[Tuple[str, str, str]]:
  label = HMDB_SPLIT.match(os.path.basename(path)).group('label')
  folder = os.path.join(video_dir or os.path.dirname(path), label)
  entries = []
  for number, line in sources.list_lines(path):
    parts = line.split()
    if len(parts) != 2 or parts[1] not in ('0', '1', '2'):
      raise SourceError(f'{path} line {number}: expected "name.avi 0|1|2", got {line!r}')
    if parts[1] == ROLES[role]:
      entries.append((os.path.join(folder, parts[0]), label, f'{path} line {number}'))
  return entries
