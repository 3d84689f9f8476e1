"""What AutoGraph costs the commands' compiled functions: the training step and the
evaluation forward pass traced with it (`tf.function`'s default) and without it (what
`i3d.train` uses: their control flow is plain Python), each in a fresh process, in
turns. Seconds to trace, and to the end of the first call (tracing, graph
optimisation, the step itself); and the outputs, which must not depend on it (the
training loss is the same in every process; the evaluation's logits may differ in their
last bit from one process to another: in the recorded run, between AutoGraph's).

  .venv/bin/python bench/tracing.py --json bench/results/tracing.json
"""

import json
import os
import statistics
import subprocess
import sys
import time

from absl import app
from absl import flags
import numpy as np

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench import record  # pylint: disable=g-import-not-at-top,wrong-import-position

_JSON = flags.DEFINE_string('json', None, 'Write the figures here.')
_ROUNDS = flags.DEFINE_integer('rounds', 4, 'Fresh processes per variant.')
_ONE = flags.DEFINE_enum('one', None, ['autograph', 'plain'],
                         'Measure this variant in this process and print JSON.')


def measure(autograph: bool):
  """The training step (batch 2 of 9 frames, 4 classes) and the evaluation predictor."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from i3d.train import evaluate  # pylint: disable=g-import-not-at-top
  from i3d.train import steps  # pylint: disable=g-import-not-at-top
  from i3d.train.recipe import Recipe  # pylint: disable=g-import-not-at-top
  recipe = Recipe(classes=('a', 'b', 'c', 'd'), init='scratch', num_frames=9,
                  batch_size=2, freeze_batch_norm=True)
  strategy = tf.distribute.get_strategy()
  state, _ = steps.make_state(strategy, recipe)
  rng = np.random.default_rng(0)
  clips = rng.uniform(-1, 1, (2, 9, 224, 224, 3)).astype(np.float32)
  iterator = iter(tf.data.Dataset.from_tensors((clips, np.int32([0, 1]))).repeat())
  figures = {}
  for name, compiled, args in (
      ('train_step', steps.train_step_fn(strategy, state, recipe), (iterator,)),
      ('evaluation', evaluate.predictor(state.model), (tf.constant(clips[:1]),))):
    if autograph:  # The same Python function, compiled with tf.function's defaults.
      compiled = tf.function(compiled.python_function,
                             input_signature=compiled.input_signature)
    start = time.perf_counter()
    compiled.get_concrete_function(*args)
    traced = time.perf_counter() - start
    result = compiled(*args)
    first = time.perf_counter() - start
    value = result[0] if isinstance(result, tuple) else result
    figures[name] = {'trace_seconds': traced, 'first_call_seconds': first,
                     'output': np.asarray(value).ravel()[:4].tolist()}
  return figures


def main(unused_argv):
  if _ONE.value:
    print(json.dumps(measure(_ONE.value == 'autograph')))
    return
  runs = {'autograph': [], 'plain': []}
  for _ in range(_ROUNDS.value):
    for variant, found in runs.items():
      out = subprocess.run([sys.executable, __file__, '--one', variant], check=True,
                           capture_output=True, text=True).stdout
      found.append(json.loads(out.strip().splitlines()[-1]))
  figures = {'rounds': _ROUNDS.value, 'median_seconds': {}}
  for variant, found in runs.items():
    figures['median_seconds'][variant] = {
        f'{name}/{key}': statistics.median(run[name][key] for run in found)
        for name in found[0] for key in ('trace_seconds', 'first_call_seconds')}
  # The distinct outputs each variant's processes gave, per function.
  figures['outputs'] = {variant: {name: sorted({json.dumps(run[name]['output'])
                                                for run in found}) for name in found[0]}
                        for variant, found in runs.items()}
  print(json.dumps(figures, indent=2))
  if _JSON.value:
    record.write(_JSON.value, figures)


if __name__ == '__main__':
  app.run(main)
