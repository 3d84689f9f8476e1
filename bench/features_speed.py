"""Feature extraction's throughput: snippets of 16 frames every 4 (ActionFormer's THUMOS
setup, at the video's own rate) on a real sample video, rgb and two_stream, as
`python -m i3d.features` computes them (each frame preprocessed once, snippets batched)
against the same snippets one at a time (each snippet decoded, resized and, for flow,
TV-L1'd on its own, then run alone), in one run; and where the time goes (decode and
resize / TV-L1 / network). The flow network's weights are random (no flow checkpoint is
in a registry): its speed does not depend on them.

  .venv/bin/python bench/features_speed.py [--json bench/results/features_speed.json]
"""

import os
import sys
import tempfile
import time

from absl import app
from absl import flags
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench import record  # pylint: disable=g-import-not-at-top,wrong-import-position
from bench.checkpoints import flow_checkpoint_dir  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d import classify  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d import features  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d import preprocess  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d.preprocess import sample  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d.preprocess import video as video_lib  # pylint: disable=g-import-not-at-top,wrong-import-position

_JSON = flags.DEFINE_string('json', None, 'Also write the figures here.')
_VIDEO = flags.DEFINE_string('video', 'carphone_pristine.mp4', 'Sample video to use.')
LENGTH, STRIDE = 16, 4


def timed(function, *args, **kwargs):
  start = time.perf_counter()
  value = function(*args, **kwargs)
  return value, time.perf_counter() - start


def batched(path, modalities, networks, settings):
  """Seconds per stage as the command runs them (one process, every core for TV-L1)."""
  options = preprocess.Options(fps=preprocess.NATIVE, progress=False)
  _, decode_s = timed(preprocess.video_to_arrays, path, ['rgb'], options)
  inputs, preprocess_s = timed(preprocess.video_to_arrays, path, modalities, options)
  for _ in range(2):  # The second is timed: the first traces the graph.
    (array, starts, _), network_s = timed(features.video_features, inputs, networks,
                                          settings)
  return array, starts, {'decode_resize_s': decode_s,
                         'tvl1_s': preprocess_s - decode_s if 'flow' in modalities else 0.0,
                         'network_s': network_s,
                         'total_s': preprocess_s + network_s}


def one_at_a_time(path, modalities, networks, starts, fps):
  """Each snippet preprocessed on its own (its frames, and the one after for flow) and
  run alone; returns the features and the seconds."""
  rows, total = [], 0.0
  for start in starts:
    options = preprocess.Options(fps=preprocess.NATIVE, progress=False,
                                 start=start / fps, end=(start + LENGTH + 1) / fps)
    inputs, seconds = timed(preprocess.video_to_arrays, path, modalities, options)
    total += seconds
    row = []
    for stream in networks.plan.streams:
      clip = inputs[stream.modality][:, :LENGTH]
      (_, pooled), seconds = timed(networks, stream.name, clip)
      total += seconds
      row.append(pooled[0])
    rows.append(np.concatenate(row))
  return np.stack(rows), total


def measure(path, streams, checkpoint_dir):
  settings = features.FeatureSettings(streams=streams, snippet_frames=LENGTH,
                                      snippet_stride=STRIDE, fps=preprocess.NATIVE,
                                      batch_size=16, checkpoint_dir=checkpoint_dir)
  plan = settings.make_plan()
  networks = classify.Networks(plan)
  fps = video_lib.probe(path).fps
  array, starts, stages = batched(path, plan.modalities, networks, settings)
  serial, serial_s = one_at_a_time(path, plan.modalities, networks, starts, fps)
  frames = starts[-1] + LENGTH
  return {
      'snippets': len(starts), 'video_frames': frames, 'fps': fps,
      'batched': dict(stages, snippets_per_s=len(starts) / stages['total_s'],
                      frames_per_s=frames / stages['total_s']),
      'one_at_a_time': {'total_s': serial_s, 'snippets_per_s': len(starts) / serial_s,
                        'frames_per_s': frames / serial_s},
      'speedup': serial_s / stages['total_s'],
      'largest_feature_difference': float(np.abs(array - serial).max()),
  }


def main(argv):
  del argv
  path = os.path.join(sample.sample_videos(), _VIDEO.value)
  figures = {'video': _VIDEO.value, 'snippet_frames': LENGTH, 'snippet_stride': STRIDE}
  with tempfile.TemporaryDirectory() as root:
    checkpoints = flow_checkpoint_dir(root)
    for streams in ('rgb', 'two_stream'):
      figures[streams] = measure(path, streams, checkpoints)
      print(streams, figures[streams], flush=True)
  if _JSON.value:
    record.write(_JSON.value, figures)


if __name__ == '__main__':
  app.run(main)
