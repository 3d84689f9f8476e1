"""Multi-label video sets: several actions a video, each over its own time span.

- Charades' CSVs (`Charades_v1_train.csv`, `Charades_v1_test.csv`): a header naming at
  least `id`, `actions` and `length`; `actions` as `c092 11.90 21.20;c147 0.00 12.60`
  (class, start and end in seconds; empty for a video without actions); the video is
  `<video_dir>/<id>.mp4`. Classes from `Charades_v1_classes.txt` (`c000 Holding some
  clothes` lines, in order): their codes are the class names.
- A generic CSV: a header `path,labels`; `labels` `;`-separated, each a class name (the
  whole video) or `name start end` (seconds).

Errors name the file and line, as the single-label lists' do.
"""

import csv
import dataclasses
import math
import os
import re
from typing import Dict, List, Optional, Sequence, Tuple

from i3d.videosets import labelled
from i3d.videosets import sources
from i3d.videosets.sources import SourceError, Video

CHARADES_CLASS = re.compile(r'^(c\d{3})\s+\S')
CHARADES_COLUMNS = ('id', 'actions', 'length')
GENERIC_COLUMNS = ('path', 'labels')
WHOLE_VIDEO = (0., math.inf)

Span = Tuple[int, float, float]  # Class index, start and end (seconds).


@dataclasses.dataclass(frozen=True)
class Actions(Video):
  """A video with its actions: `spans` (class index, start, end in seconds) and its
  `length` in seconds as the list gives it (Charades' `length`; None: not given). A
  `Video` (its `label` None), so it goes wherever one goes."""
  spans: Tuple[Span, ...] = ()
  length: Optional[float] = None


def is_multilabel(source: str) -> bool:
  """Whether `source` is a CSV of one of the multi-label forms (by its header)."""
  if not (source.lower().endswith('.csv') and os.path.isfile(source)):
    return False
  return _kind(_header(source)) is not None


def read_class_names(path: str) -> List[str]:
  """Charades' class codes from `Charades_v1_classes.txt` (`c000 Holding some clothes`,
  in order), else what `labelled.read_class_names` reads."""
  try:
    with open(path, encoding='utf-8') as f:
      lines = [line.strip() for line in f if line.strip()]
  except (OSError, UnicodeDecodeError) as e:
    raise SourceError(f'{path}: cannot read the class names ({e})') from e
  if not (lines and all(CHARADES_CLASS.match(line) for line in lines)):
    return labelled.read_class_names(path)
  codes = [CHARADES_CLASS.match(line).group(1) for line in lines]
  for number, code in enumerate(codes, start=1):
    if code != f'c{number - 1:03d}':
      raise SourceError(f'{path} line {number}: class {code}, expected c{number - 1:03d} '
                        '(Charades lists its classes c000.. in order)')
  return codes


def read_multilabel(source: str, video_dir: Optional[str] = None,
                    class_names: Optional[Sequence[str]] = None, skip_missing: bool = False,
                    check_video=None, require_files: bool = True
                    ) -> Tuple[List[Actions], List[str], int]:
  """The videos of a multi-label CSV with their actions, the class names (None: the
  sorted names found), and how many videos were skipped (`skip_missing`; see
  `labelled.read_labelled` for the other arguments).

  Raises:
    SourceError: On a malformed file or line, an unknown class, or a missing or
      unreadable video, naming the file and line.
  """
  root = video_dir or os.path.dirname(source)
  rows = _rows(source)
  kind = _kind(rows[0][1] if rows else _header(source))
  if kind is None:
    raise SourceError(f'{source}: not a multi-label CSV (a header with '
                      f'{",".join(CHARADES_COLUMNS)} as Charades\' or '
                      f'{",".join(GENERIC_COLUMNS)})')
  parse = _charades_row if kind == 'charades' else _generic_row
  entries = [(number, *parse(row, root, f'{source} line {number}'))
             for number, row in rows]  # (line, path, [(name, start, end)], length)
  if class_names is None:
    class_names = sorted({name for _, _, actions, _ in entries for name, _, _ in actions})
  index = {name: i for i, name in enumerate(class_names)}
  kept, skipped = [], 0
  for number, path, actions, length in entries:
    where = f'{source} line {number}'
    unknown = [name for name, _, _ in actions if name not in index]
    if unknown:
      raise SourceError(f'{where}: unknown class {unknown[0]!r} (not among the '
                        f'{len(index)} classes)')
    problem = labelled.video_problem(path, check_video) if require_files else None
    if problem:
      if skip_missing:
        skipped += 1
        continue
      raise SourceError(f'{where}: {problem}')
    kept.append((path, tuple((index[n], s, e) for n, s, e in actions), length))
  if not kept:
    raise SourceError(f'{source}: no videos')
  videos = sources.with_ids([(path, None) for path, _, _ in kept], root=root, where=source)
  return ([Actions(v.id, v.path, None, spans, length)
           for v, (_, spans, length) in zip(videos, kept)], list(class_names), skipped)


def _header(source: str) -> List[str]:
  try:
    with open(source, newline='', encoding='utf-8') as f:
      return [c.strip() for c in next(csv.reader(f), [])]
  except (OSError, UnicodeDecodeError) as e:
    raise SourceError(f'{source}: cannot read ({e})') from e


def _kind(header: Sequence[str]) -> Optional[str]:
  if all(c in header for c in CHARADES_COLUMNS):
    return 'charades'
  if all(c in header for c in GENERIC_COLUMNS):
    return 'generic'
  return None


def _rows(source: str) -> List[Tuple[int, Dict[str, str]]]:
  """(line number, row) of each record; the header's as the first row's header."""
  try:
    with open(source, newline='', encoding='utf-8') as f:
      reader = csv.DictReader(f)
      rows = [(reader.line_num, {k.strip(): (v or '').strip() for k, v in row.items()
                                 if k is not None})
              for row in reader if any((v or '').strip() for v in row.values())]
  except (OSError, UnicodeDecodeError, csv.Error) as e:
    raise SourceError(f'{source}: cannot read ({e})') from e
  return [(n, row) for n, row in rows]


def _seconds(text: str, what: str, where: str) -> float:
  try:
    value = float(text)
  except ValueError:
    raise SourceError(f'{where}: {what} {text!r} is not a number of seconds') from None
  if not (math.isfinite(value) and value >= 0):
    raise SourceError(f'{where}: {what} {text!r} is not a number of seconds')
  return value


def _span(parts: List[str], where: str) -> Tuple[str, float, float]:
  start, end = (_seconds(parts[i], w, where) for i, w in ((1, 'start'), (2, 'end')))
  if end < start:
    raise SourceError(f'{where}: {parts[0]} ends ({end}) before it starts ({start})')
  return parts[0], start, end


def _charades_row(row, root, where):
  if not row['id']:
    raise SourceError(f'{where}: no id')
  actions = []
  for action in filter(None, (a.strip() for a in row['actions'].split(';'))):
    parts = action.split()
    if len(parts) != 3:
      raise SourceError(f'{where}: action {action!r} is not "class start end"')
    actions.append(_span(parts, where))
  return (os.path.join(root, row['id'] + '.mp4'), actions,
          _seconds(row['length'], 'length', where))


def _generic_row(row, root, where):
  if not row['path']:
    raise SourceError(f'{where}: no path')
  actions = []
  for label in filter(None, (a.strip() for a in row['labels'].split(';'))):
    parts = label.rsplit(maxsplit=2)
    if len(parts) == 3 and all(re.fullmatch(r'[-+.\deE]+', p) for p in parts[1:]):
      actions.append(_span(parts, where))
    else:
      actions.append((label, *WHOLE_VIDEO))
  path = row['path'] if os.path.isabs(row['path']) else os.path.join(root, row['path'])
  return path, actions, None
