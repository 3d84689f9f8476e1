"""Held-out accuracy as the release tests and `classify` reports it: each video's whole
clip, centre crop, one pass; top-1, top-5 and mean class accuracy. Multi-label: the
Charades classification mAP of the same passes' logits."""

from typing import Dict, Sequence

import numpy as np

from i3d.catalogue import IMAGE_SIZE
from i3d.model import InceptionI3d
from i3d.quiet_tf import tf
from i3d.train import data
from i3d.videosets import mean_ap
from i3d.videosets import scoring
from i3d.videosets.sources import Video


def predictor(model: InceptionI3d):
  """The model in inference mode (batch norm's moving statistics, no dropout)."""
  spec = tf.TensorSpec([1, None, IMAGE_SIZE, IMAGE_SIZE, None], tf.float32)
  return tf.function(lambda clip: tf.cast(model(clip, is_training=False)[0], tf.float32),
                     input_signature=[spec], autograph=False)


def accuracy(forward, videos: Sequence[Video], class_names: Sequence[str],
             clips: data.Clips) -> Dict:
  """`classify`'s metrics (`scoring.accuracy`) over `videos`, whose labels are names."""
  rows = []
  for video in videos:
    logits = forward(clips.evaluation(video.path)).numpy()[0]
    ranked = [class_names[i] for i in np.argsort(-logits, kind='stable')[:5]]
    rows.append({'label': video.label, 'status': 'ok', 'top1': ranked[0], 'top5': ranked,
                 'correct_top1': ranked[0] == video.label,
                 'correct_top5': video.label in ranked})
  return scoring.accuracy(rows, class_names)


def mean_average_precision(forward, actions: Sequence, clips: data.Clips) -> Dict:
  """Charades' per-video mAP (`mean_ap`) over `actions` (`multilabel.Actions`): a
  video's scores are its logits (the mean over time of the whole clip's), its targets
  the classes of its actions; `classify` scores a whole-video window the same."""
  scores = np.stack([forward(clips.evaluation(a.path)).numpy()[0] for a in actions])
  targets = np.zeros_like(scores)
  for row, item in enumerate(actions):
    targets[row, [index for index, _, _ in item.spans]] = 1
  value, _ = mean_ap.mean_average_precision(scores, targets)
  return {'mAP': value, 'videos_scored': len(actions)}


def describe(metrics: Dict) -> str:
  """The metrics for a progress line."""
  if 'mAP' in metrics:
    return f'eval mAP {metrics["mAP"]:.4f}'
  return (f'eval top-1 {metrics["top1"]:.4f}, top-5 {metrics["top5"]:.4f}, mean class '
          f'accuracy {metrics["mean_class_accuracy"]:.4f}')
