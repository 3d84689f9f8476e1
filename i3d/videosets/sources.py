"""Which videos to process: a folder, a glob, a text list or a CSV, as `Video` items.

Every video gets an id that names its result files: unique within the run and stable
between runs, so that a rerun finds what is already done. It is the video's path
relative to a root fixed by the source alone (the folder given; a glob's part before its
first wildcard; a list's `--video_dir`, by default the list's own folder), extension
dropped, `/` as `__`: adding a video to a source never renames the others. A path
outside the root (a list naming videos elsewhere) is named by its whole absolute path
instead of a climb out of the root (`data__k400__abc`, not `..__..__data__k400__abc`),
and an id never starts with a dot (a leading `.` becomes `_`): result files are never
hidden.
"""

import csv
import dataclasses
import glob
import os
from typing import List, Optional, Sequence, Tuple

# Extensions of the videos found in a folder (other files there are ignored).
VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mkv', '.mov', '.webm', '.m4v', '.mpg', '.mpeg',
                    '.flv', '.wmv', '.ogv')
# Columns of the Kinetics annotation CSVs (kinetics_400_val.csv and the like).
KINETICS_COLUMNS = ('label', 'youtube_id', 'time_start', 'time_end')


class SourceError(ValueError):
  """The list of videos cannot be read; the message names the file and the problem."""


@dataclasses.dataclass(frozen=True)
class Video:
  """One video to process.

  Attributes:
    id: Names its result files; unique in a run.
    path: The video file.
    label: Its true class name, or None when unlabelled.
  """
  id: str
  path: str
  label: Optional[str] = None


def kinetics_filename(youtube_id: str, time_start: str, time_end: str) -> str:
  """`<youtube_id>_<start:06d>_<end:06d>.mp4`, the Kinetics downloaders' file name."""
  try:
    start, end = int(float(time_start)), int(float(time_end))
  except ValueError as e:
    raise ValueError(f'times must be numbers, got {time_start!r}, {time_end!r}') from e
  return f'{youtube_id}_{start:06d}_{end:06d}.mp4'


def list_videos(source: str, video_dir: Optional[str] = None) -> List[Video]:
  """The videos of `source`, in a fixed order.

  Args:
    source: One of
      - a folder: its video files (by extension), recursively, sorted by path;
      - a glob pattern (`clips/*.mp4`), sorted;
      - a video file (by extension): that video alone;
      - a `.txt` list: one path per line, `#` comments and blank lines ignored;
      - a `.csv` with a header: Kinetics' `label,youtube_id,time_start,time_end[,split]`
        (files `<youtube_id>_<start:06d>_<end:06d>.mp4`), or `path[,label]`.
    video_dir: Where the relative paths of a list or CSV live; by default the list's
      own folder.

  Raises:
    SourceError: If the source does not exist, is malformed, names no video, or two
      videos would get the same id.
  """
  if os.path.isdir(source):
    paths = sorted(
        os.path.join(folder, name)
        for folder, _, names in os.walk(source) for name in names
        if name.lower().endswith(VIDEO_EXTENSIONS))
    videos = with_ids([(path, None) for path in paths], root=source)
  elif glob.has_magic(source):
    paths = sorted(p for p in glob.glob(source, recursive=True) if os.path.isfile(p))
    videos = with_ids([(path, None) for path in paths], root=_fixed_prefix(source))
  elif not os.path.isfile(source):
    raise SourceError(f'{source}: no such file or folder')
  elif source.lower().endswith(VIDEO_EXTENSIONS):  # One video.
    videos = with_ids([(source, None)], root=os.path.dirname(source))
  elif source.lower().endswith('.csv'):
    videos = _read_csv(source, video_dir or os.path.dirname(source))
  else:
    root = video_dir or os.path.dirname(source)
    videos = with_ids([(path, None) for path in _read_list(source, root)], root=root,
                       where=source)
  if not videos:
    raise SourceError(f'{source}: no videos found')
  return videos


def list_lines(path: str) -> List[Tuple[int, str]]:
  """The entries of a text list: `(line number, stripped line)`, blank lines and `#`
  comments left out.

  Raises:
    SourceError: If the file is not UTF-8 text.
  """
  try:
    with open(path, encoding='utf-8') as f:
      stripped = [(number, line.strip()) for number, line in enumerate(f, start=1)]
  except UnicodeDecodeError as e:
    raise SourceError(f'{path}: not a text list of videos ({e})') from e
  return [(number, line) for number, line in stripped
          if line and not line.startswith('#')]


def _read_list(path: str, video_dir: str) -> List[str]:
  return [os.path.join(video_dir, line) for _, line in list_lines(path)]


def _read_csv(path: str, video_dir: str) -> List[Video]:
  try:
    with open(path, newline='', encoding='utf-8') as f:
      rows = list(csv.DictReader(f))
  except (UnicodeDecodeError, csv.Error) as e:
    raise SourceError(f'{path}: not a CSV ({e})') from e
  columns = set(rows[0]) if rows else set()
  if set(KINETICS_COLUMNS) <= columns:
    videos = []
    for line, row in enumerate(rows, start=2):
      try:
        name = kinetics_filename(row['youtube_id'], row['time_start'], row['time_end'])
      except ValueError as e:
        raise SourceError(f'{path} line {line}: {e}') from e
      videos.append(Video(name[:-len('.mp4')], os.path.join(video_dir, name),
                          row['label'] or None))
    _check_unique(path, [v.id for v in videos])
    return videos
  if 'path' in columns:
    return with_ids([(os.path.join(video_dir, row['path']), row.get('label') or None)
                      for row in rows], root=video_dir, where=path)
  raise SourceError(
      f'{path}: header has neither Kinetics\' columns ({",".join(KINETICS_COLUMNS)}) '
      f'nor a path column; found {",".join(sorted(columns)) or "nothing"}')


def _fixed_prefix(pattern: str) -> str:
  """The folder part of a glob before its first wildcard: `clips/**/*.mp4` -> `clips`."""
  fixed = []
  for part in pattern.split(os.sep)[:-1]:
    if glob.has_magic(part):
      break
    fixed.append(part)
  return os.sep.join(fixed) or ('/' if pattern.startswith('/') else '.')


def video_id(path: str, root: str) -> str:
  """The path relative to `root` (or, outside it, the absolute path), extension
  dropped, `/` -> `__`, a leading `.` -> `_`."""
  absolute = os.path.abspath(path)
  relative = os.path.relpath(absolute, os.path.abspath(root))
  if relative == os.pardir or relative.startswith(os.pardir + os.sep):
    relative = absolute.lstrip(os.sep)
  name = os.path.splitext(relative)[0].replace(os.sep, '__')
  return '_' + name[1:] if name.startswith('.') else name


def with_ids(items: Sequence, root: str, where: str = 'videos') -> List[Video]:
  """Each video with its `video_id` under `root`."""
  videos = [Video(video_id(path, root), path, label) for path, label in items]
  _check_unique(where, [v.id for v in videos])
  return videos


def _check_unique(where: str, ids: Sequence[str]) -> None:
  seen = set()
  for video_id in ids:
    if video_id in seen:
      raise SourceError(f'{where}: two videos would both be called {video_id!r} (the '
                        'same file listed twice, or names that differ only in extension)')
    seen.add(video_id)
