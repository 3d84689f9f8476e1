"""Accuracy over labelled videos, as the release's test protocol and the tools here
report it: top-1, top-5, mean class accuracy and the most confused pairs.

A row is one video's outcome (`label`, `status`, `top1`, `correct_top1`,
`correct_top5`), whoever made it: `i3d.classify` from its result files, `i3d.train`
from its held-out pass.
"""

import collections
from typing import Dict, Optional, Sequence

import numpy as np

MOST_CONFUSED = 20


def accuracy(rows: Sequence[Dict], labels: Sequence[str]) -> Optional[Dict]:
  """Top-1, top-5 and mean class accuracy over the labelled videos with results.

  Mean class accuracy is the mean over the true classes present of each class's top-1
  accuracy. Failed and pending videos are counted but not scored. None if no video is
  labelled.
  """
  labelled = [r for r in rows if r['label'] is not None]
  if not labelled:
    return None
  scored = [r for r in labelled if r['status'] == 'ok']
  per_class = collections.defaultdict(lambda: [0, 0, 0])  # videos, top-1, top-5 hits
  pairs = collections.Counter()
  for r in scored:
    counts = per_class[r['label']]
    counts[0] += 1
    counts[1] += r['correct_top1']
    counts[2] += r['correct_top5']
    pairs[(r['label'], r['top1'])] += 1
  metrics = {
      'videos_labelled': len(labelled),
      'videos_scored': len(scored),
      'videos_failed': sum(r['status'] == 'failed' for r in labelled),
      'videos_pending': sum(r['status'] == 'pending' for r in labelled),
      'classes_present': len(per_class),
      'classes_in_label_map': len(labels),
  }
  if scored:
    metrics.update(
        top1=float(np.mean([r['correct_top1'] for r in scored])),
        top5=float(np.mean([r['correct_top5'] for r in scored])),
        mean_class_accuracy=float(np.mean([c[1] / c[0] for c in per_class.values()])))
  metrics['most_confused'] = [
      {'label': true, 'predicted': predicted, 'videos': count}
      for (true, predicted), count in sorted(pairs.items(), key=lambda p: (-p[1], p[0]))
      if true != predicted][:MOST_CONFUSED]
  metrics['per_class'] = {name: {'videos': c[0], 'top1': c[1] / c[0], 'top5': c[2] / c[0]}
                          for name, c in sorted(per_class.items())}
  metrics['confusion'] = sorted(pairs.items(), key=lambda p: (-p[1], p[0]))
  return metrics
