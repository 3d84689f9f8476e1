"""The training loop: steps on a `tf.distribute` strategy from where the run stands, a
line of progress every `log_every`, checkpoints every `save_every`, held-out accuracy
every `eval_every`, TensorBoard summaries; stopped by a loss that is not finite."""

import dataclasses
import os
import time
import warnings
from typing import Callable, Dict, Optional

import numpy as np

from i3d.preprocess import video as video_lib
from i3d.quiet_tf import tf
from i3d.train import data
from i3d.train import evaluate as evaluate_lib
from i3d.train import precise_bn
from i3d.train import steps
from i3d.train.recipe import Recipe


class LossNotFiniteError(ValueError):
  """Training diverged; the message names the step and what to do."""


def run_steps(strategy, state: steps.State, recipe: Recipe, loader: data.ClipLoader,
              manager: tf.train.CheckpointManager, schedule, first: int, output_dir: str,
              chief: bool, write: Callable[[str], None],
              evaluate: Callable[[], Dict]) -> None:
  """Steps `first + 1` to `recipe.steps`; `evaluate()` gives held-out metrics."""
  iterator = iter(data.distributed_dataset(strategy, loader, first))
  step_fn = steps.train_step_fn(strategy, state, recipe)
  progress = Progress(schedule.log_every, write)
  precise = (precise_bn.PreciseBatchNorm(strategy, state.model)
             if recipe.uses_precise_bn else None)
  # Only the chief's summaries are read; the other workers write none.
  summaries = (tf.summary.create_file_writer(os.path.join(output_dir, 'logs')) if chief
               else tf.summary.create_noop_writer())
  for step in range(first + 1, recipe.steps + 1):
    state.learning_rate.assign(recipe.learning_rate_at(step - 1))
    loss, correct = (float(x) for x in step_fn(iterator))
    loader.raise_failure()  # Before this step's weights can be saved.
    for note in loader.clips.take_unsaid():  # One line each, on stderr.
      warnings.warn(video_lib.ShortVideoWarning(note), stacklevel=2)
    check_finite(loss, step, output_dir)
    figures = progress.add(step, recipe.steps, loss, correct, recipe.batch_size,
                           recipe.learning_rate_at(step - 1))
    with summaries.as_default(step=step):
      tf.summary.scalar('loss', loss)
      tf.summary.scalar('learning_rate', recipe.learning_rate_at(step - 1))
      if figures:
        tf.summary.scalar('clips_per_second', figures['clips_per_second'])
    evaluating = schedule.eval_every and step % schedule.eval_every == 0
    if precise and (evaluating or step == recipe.steps):
      # Before the save, so that a resumed run goes on as an uninterrupted one and the
      # checkpoint (and final model) written is the one evaluated. The next training
      # batches, read by a pipeline of their own: training's is unmoved.
      precise.update(iter(data.distributed_dataset(strategy, loader, step)),
                     recipe.precise_bn_batches)
      loader.raise_failure()
    if step % schedule.save_every == 0 or step == recipe.steps:
      manager.save(checkpoint_number=step)
    if evaluating and step < recipe.steps:
      metrics = evaluate()
      write(f'step {step}: {evaluate_lib.describe(metrics)}')
      with summaries.as_default(step=step):
        key = 'mAP' if 'mAP' in metrics else 'top1'
        tf.summary.scalar(f'eval_{key}', metrics[key])


@dataclasses.dataclass
class Progress:
  """One line per `log_every` steps: loss, accuracy, learning rate, clips per second."""
  every: int
  write: Callable[[str], None] = print
  _loss: float = 0.
  _correct: float = 0.
  _steps: int = 0
  _since: float = dataclasses.field(default_factory=time.monotonic)

  def add(self, step: int, total: int, loss: float, correct: float, batch: int,
          learning_rate: float) -> Optional[Dict[str, float]]:
    self._loss += loss
    self._correct += correct
    self._steps += 1
    if step % self.every and step != total:
      return None
    seconds = time.monotonic() - self._since
    figures = {'loss': self._loss / self._steps,
               'accuracy': self._correct / (self._steps * batch),
               'learning_rate': learning_rate,
               'clips_per_second': self._steps * batch / seconds}
    self.write(f'step {step}/{total}: loss {figures["loss"]:.4f}, accuracy '
               f'{figures["accuracy"]:.3f}, learning rate {learning_rate:g}, '
               f'{figures["clips_per_second"]:.2f} clips/s')
    self._loss = self._correct = 0.
    self._steps = 0
    self._since = time.monotonic()
    return figures


def check_finite(loss: float, step: int, output_dir: str) -> None:
  """Stops a run whose loss is not finite. Its checkpoints hold weights on the way
  there, and the folder takes only these settings: what to do is a new run."""
  if not np.isfinite(loss):
    raise LossNotFiniteError(
        f'step {step}: the loss is {loss}; training stopped, as these settings diverge: '
        f'start again with a lower --learning_rate and another --output_dir (or remove '
        f'{output_dir})')
