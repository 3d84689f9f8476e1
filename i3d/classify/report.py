"""The run's summary of all videos, and accuracy when they are labelled.

Both are rebuilt from the per-video result files, so they are the same whether the run
went through in one go, was killed and restarted, or ran on Beam.

Files: `summary.csv` and `summary.jsonl` (one row per video, in the source's order);
with labels, `metrics.json` (top-1, top-5, mean class accuracy, most confused pairs),
`per_class.csv` and `confusion.csv` (true class, predicted class, count); for a
multi-label set, `metrics.json` with Charades' classification and localization mAP
(`mAP`, `localization_mAP`) and `per_class.csv` with each class's APs.
"""

import collections
import csv
import io
import json
from typing import Dict, List, Sequence
import zipfile

import numpy as np

from i3d.catalogue import FPS
from i3d.classify import result as result_lib
from i3d.videosets import mean_ap
from i3d.videosets import scoring
from i3d.videosets.multilabel import Actions
from i3d.videosets.sources import Video

SUMMARY_COLUMNS = ('id', 'path', 'label', 'status', 'top1', 'top1_probability', 'top5',
                   'correct_top1', 'correct_top5', 'frames', 'windows', 'error', 'warnings')


def summary_row(store, video: Video) -> Dict:
  """A video's row: status `ok`, `failed` (with the reason) or `pending` (not done)."""
  row = {'id': video.id, 'path': video.path, 'label': video.label, 'status': 'pending'}
  name = result_lib.result_name(video.id)
  data = store.read(name)
  if data is not None:
    try:
      # Every member's crc32 checked (cheap: the bytes are read already); only the few
      # small arrays the row needs are decoded, not the features.
      bad = zipfile.ZipFile(io.BytesIO(data)).testzip()
      if bad is not None:
        raise zipfile.BadZipFile(f'{bad} fails its crc32')
      with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
        meta = result_lib.metadata(arrays)
        classes = [str(c) for c in arrays['top_k_classes']]
        row.update(status='ok', top1=classes[0],
                   top1_probability=round(float(arrays['top_k_probabilities'][0]), 6),
                   top5=classes[:5], frames=meta['frames'],
                   windows=int(arrays['window_starts'].shape[0]))
        if meta.get('warnings'):  # Cut short: used as far as it decoded.
          row['warnings'] = meta['warnings']
    except result_lib.DAMAGED as e:
      result_lib.set_aside(store, name, str(e) or type(e).__name__,
                           then='run again to redo the video')
      return row
    if video.label is not None:
      row.update(correct_top1=classes[0] == video.label,
                 correct_top5=video.label in classes[:5])
    return row
  name = result_lib.failure_name(video.id)
  failure = store.read(name)
  if failure is not None:
    try:
      row.update(status='failed', error=json.loads(failure)['error'])
    except (ValueError, KeyError, TypeError) as e:
      result_lib.set_aside(store, name, f'not a failure record ({e})',
                           then='run again to redo the video')
  return row


def summary_rows(store, videos: Sequence[Video]) -> List[Dict]:
  return [summary_row(store, video) for video in videos]


def write_reports(store, videos: Sequence[Video], labels: Sequence[str]) -> Dict:
  """Writes the summary (and the accuracy files when labelled); returns the metrics,
  `{}` when unlabelled, with the status counts under `videos`."""
  rows = summary_rows(store, videos)
  store.write('summary.jsonl', ''.join(
      json.dumps(row, sort_keys=True) + '\n' for row in rows).encode())
  store.write('summary.csv', _csv(SUMMARY_COLUMNS, (
      [_cell(row.get(column)) for column in SUMMARY_COLUMNS] for row in rows)))
  if any(isinstance(v, Actions) for v in videos):
    metrics = _multilabel_metrics(store, videos, labels, rows)
  else:
    metrics = scoring.accuracy(rows, labels)
  if metrics is not None and 'mAP' not in metrics:
    confusion = metrics.pop('confusion')
    per_class = metrics.pop('per_class')
    store.write('confusion.csv', _csv(('label', 'predicted', 'videos'),
                                      ([t, p, n] for (t, p), n in confusion)))
    store.write('per_class.csv', _csv(('label', 'videos', 'top1', 'top5'), (
        [name, c['videos'], c['top1'], c['top5']] for name, c in per_class.items())))
    store.write('metrics.json', json.dumps(metrics, indent=1).encode())
  if metrics is None:  # Nothing scored: no figure, and none left from an earlier run.
    store.remove('metrics.json')
  counts = collections.Counter(row['status'] for row in rows)
  report = dict(metrics or {})
  report['videos'] = {status: counts.get(status, 0) for status in ('ok', 'failed', 'pending')}
  cut_short = sum(bool(row.get('warnings')) for row in rows)
  if cut_short:  # Used as far as they decoded (their rows and results say so).
    report['videos']['cut_short'] = cut_short
  return report


def _multilabel_metrics(store, videos: Sequence[Actions], labels: Sequence[str],
                        rows: Sequence[Dict]) -> Dict:
  """Charades' mAP per video and per frame over `videos` (a video without results
  scores -inf, ranking last, as the evaluation scores a missing one); writes
  `metrics.json` and `per_class.csv`. None when no video has results: an mAP over
  scores that are all -inf would rank the videos in list order and mean nothing."""
  if not any(row['status'] == 'ok' for row in rows):
    return None
  count, frames = len(labels), mean_ap.LOCALIZATION_FRAMES
  scores = np.full((len(videos), count), -np.inf)
  frame_scores = np.full((len(videos), frames, count), -np.inf)
  targets = np.zeros((len(videos), count))
  frame_targets = np.zeros((len(videos), frames, count))
  for row, (video, summary) in enumerate(zip(videos, rows)):
    length = video.length
    if summary['status'] == 'ok':
      with np.load(io.BytesIO(store.read(result_lib.result_name(video.id))),
                   allow_pickle=False) as arrays:
        scores[row] = arrays['logits']
        frame_scores[row] = arrays['frame_logits']
      if length is None:  # The decoded video's, at 25 fps.
        length = min(summary['frames'].values()) / FPS
    for index, _, _ in video.spans:
      targets[row, index] = 1
    frame_targets[row] = mean_ap.targets_at(video.spans,
                                            mean_ap.frame_times(length or 0.), count)
  value, per_class = mean_ap.mean_average_precision(scores, targets)
  located, per_class_located = mean_ap.mean_average_precision(
      frame_scores.reshape(-1, count), frame_targets.reshape(-1, count))
  store.write('per_class.csv', _csv(
      ('label', 'videos', 'ap', 'localization_ap'),
      ([name, int(targets[:, c].sum()), _number(per_class[c]),
        _number(per_class_located[c])] for c, name in enumerate(labels))))
  metrics = {'mAP': value, 'localization_mAP': located,
             'videos_scored': int(sum(r['status'] == 'ok' for r in rows)),
             'videos': len(videos),
             'classes_scored': int(np.sum(~np.isnan(per_class)))}
  store.write('metrics.json', json.dumps(metrics, indent=1).encode())
  return metrics


def _number(value: float):
  return '' if np.isnan(value) else round(float(value), 6)


def _cell(value):
  if value is None:
    return ''
  if isinstance(value, list):
    return '|'.join(value)
  if isinstance(value, dict):
    return json.dumps(value, sort_keys=True)
  return value


def _csv(header, rows) -> bytes:
  buffer = io.StringIO()
  writer = csv.writer(buffer, lineterminator='\n')
  writer.writerow(header)
  writer.writerows(rows)
  return buffer.getvalue().encode()


def describe(store) -> str:
  """One line from the written reports: status counts, and accuracy when labelled."""
  rows = [json.loads(line) for line in store.read('summary.jsonl').decode().splitlines()]
  counts = collections.Counter(row['status'] for row in rows)
  cut_short = sum(bool(row.get('warnings')) for row in rows)
  line = (f'all videos: {counts["ok"]} ok{f" ({cut_short} cut short)" if cut_short else ""}, '
          f'{counts["failed"]} failed, {counts["pending"]} pending')
  metrics = store.read('metrics.json')
  if metrics is not None:
    m = json.loads(metrics)
    if 'mAP' in m:
      line += (f'; mAP {m["mAP"]:.4f}, localization mAP {m["localization_mAP"]:.4f} '
               f'over {m["videos"]} videos')
    if 'top1' in m:
      line += (f'; top-1 {m["top1"]:.4f}, top-5 {m["top5"]:.4f}, mean class accuracy '
               f'{m["mean_class_accuracy"]:.4f} over {m["videos_scored"]} videos')
  return line
