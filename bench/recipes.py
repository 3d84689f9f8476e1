"""How much the preprocessing recipe (kinetics vs mediapipe) moves the sample's results.

Preprocesses the real sample with both recipes and compares the arrays, and the RGB
logits of the real weights (the flow checkpoints are not provisioned, so flow is
compared on the arrays alone).

  .venv/bin/python bench/recipes.py
"""

import json
import os
import sys
import tempfile

from absl import app
from absl import flags
import numpy as np

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import tensorflow as tf  # pylint: disable=g-import-not-at-top,wrong-import-position

from bench import record  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d import preprocess  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d import releases  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d import catalogue  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d.preprocess import sample  # pylint: disable=g-import-not-at-top,wrong-import-position

_JSON = flags.DEFINE_string('json', None, 'Also write the figures here.')


def main(argv):
  del argv
  video = sample.sample_video()
  model = releases.load_release(catalogue.RELEASES['rgb_imagenet'])
  labels = catalogue.read_labels(catalogue.RELEASES['rgb_imagenet'])
  arrays, logits = {}, {}
  with tempfile.TemporaryDirectory() as scratch:
    for recipe in preprocess.RECIPES:
      prefix = os.path.join(scratch, recipe)
      preprocess.preprocess_video(video, prefix, options=preprocess.Options(recipe=recipe),
                                  gifs=False)
      arrays[recipe] = {m: np.load(f'{prefix}_{m}.npy') for m in preprocess.MODALITIES}
      logits[recipe] = model(tf.constant(arrays[recipe]['rgb']),
                             is_training=False)[0].numpy()[0]
  a, b = logits['kinetics'], logits['mediapipe']
  top5 = {r: [labels[i] for i in np.argsort(-logits[r])[:5]] for r in logits}
  report = {
      'rgb_mean_abs_diff': float(np.abs(arrays['kinetics']['rgb'] -
                                        arrays['mediapipe']['rgb']).mean()),
      'flow_mean_abs_diff': float(np.abs(arrays['kinetics']['flow'] -
                                         arrays['mediapipe']['flow']).mean()),
      'rgb_logits_max_abs_diff': float(np.abs(a - b).max()),
      'rgb_logits_norm': {r: float(np.linalg.norm(v)) for r, v in logits.items()},
      'top1_probability': {r: float(tf.nn.softmax(v).numpy().max())
                           for r, v in logits.items()},
      'top5': top5,
  }
  print(json.dumps(report, indent=2))
  if _JSON.value:
    record.write(_JSON.value, report)


if __name__ == '__main__':
  app.run(main)
