"""The training loop on a `tf.distribute` strategy: resumable, deterministic, stopped
with the last good checkpoint by a loss that is not finite.

The global batch is split over the replicas; each replica's batch norm uses its own
batch's statistics (as in the paper, which trained on 64 GPUs), the moving averages
being the mean of the replicas' updates. Gradients are summed over replicas of losses
each divided by the global batch: the mean over the global batch, as on one device.
"""

import dataclasses
import json
import os
import time
from typing import Callable, Dict, List, Optional

import numpy as np

from i3d.model import InceptionI3d
from i3d.quiet_tf import tf
from train import data
from train import network
from train.recipe import Recipe


class LossNotFiniteError(ValueError):
  """Training diverged; the message names the step and the last good checkpoint."""


def strategy_for(devices: Optional[List[str]] = None) -> tf.distribute.Strategy:
  """MultiWorkerMirroredStrategy when TF_CONFIG names a cluster, else MirroredStrategy
  over `devices` (default: every GPU, else the CPU)."""
  config = json.loads(os.environ.get('TF_CONFIG', '{}'))
  if len(config.get('cluster', {}).get('worker', [])) > 1:
    return tf.distribute.MultiWorkerMirroredStrategy()
  return tf.distribute.MirroredStrategy(devices)


def _moving_averages_mean_aggregated(next_creator, **kwargs):
  """Batch norm's moving statistics, updated in each replica, kept as their mean."""
  if not kwargs.get('trainable', True):
    kwargs['aggregation'] = tf.VariableAggregation.MEAN
  return next_creator(**kwargs)


class MomentumSGD(tf.Module):
  """SGD with momentum as TF1's `MomentumOptimizer` (the release's era) computes it:
  `a <- momentum * a + g; w <- w - learning_rate * a`. Written here because Sonnet's
  optimizers refuse `MirroredStrategy` and `MultiWorkerMirroredStrategy`; the update
  runs in cross-replica context on the gradients reduced over the replicas, so every
  copy of a variable gets the same update."""

  def __init__(self, variables: List[tf.Variable], learning_rate: tf.Variable,
               momentum: float):
    super().__init__(name='momentum_sgd')
    self.learning_rate = learning_rate
    self.momentum = momentum
    self.accumulators = [tf.Variable(tf.zeros_like(v), trainable=False,
                                     name=v.name.split(':')[0].replace('/', '.'))
                         for v in variables]

  def apply(self, gradients, variables) -> None:
    for gradient, variable, accumulator in zip(gradients, variables, self.accumulators):
      accumulator.assign(self.momentum * accumulator + gradient)
      variable.assign_sub(self.learning_rate * accumulator)


@dataclasses.dataclass
class State:
  """What a checkpoint holds: the model, the optimizer's slots, and the step (the data
  position follows from it)."""
  model: InceptionI3d
  optimizer: MomentumSGD
  step: tf.Variable
  learning_rate: tf.Variable

  def checkpoint(self) -> tf.train.Checkpoint:
    return tf.train.Checkpoint(model=self.model, optimizer=self.optimizer,
                               step=self.step)


def make_state(strategy, recipe: Recipe, checkpoint_dir: Optional[str] = None):
  """The model (initialised from `recipe.init`) and optimizer, under the strategy."""
  # Seeds the initialisers (a new logits layer, or every layer from scratch), so that
  # a run is the same each time it starts.
  tf.random.set_seed(recipe.seed)
  # The same result on every run on a CPU (and refusal of ops that cannot promise it).
  tf.config.experimental.enable_op_determinism()
  network.check_precision(recipe)
  with strategy.scope():
    with tf.variable_creator_scope(_moving_averages_mean_aggregated):
      model = network.build(recipe)
    loaded = network.initialise(model, recipe, checkpoint_dir)
    learning_rate = tf.Variable(recipe.base_learning_rate, trainable=False,
                                dtype=tf.float32, name='learning_rate')
    optimizer = MomentumSGD(network.trainable(model, recipe), learning_rate,
                            recipe.momentum)
    step = tf.Variable(0, dtype=tf.int64, trainable=False, name='step')
  return State(model, optimizer, step, learning_rate), loaded


def train_step_fn(strategy, state: State, recipe: Recipe):
  """A compiled step: forward, loss, gradients summed over replicas, SGD."""
  variables = network.trainable(state.model, recipe)
  decayed = network.decayed(state.model)
  is_training = not recipe.freeze_batch_norm

  def replica_step(clips, labels):
    context = tf.distribute.get_replica_context()
    seed = tf.stack([tf.cast(recipe.seed, tf.int64) * 1000003 + state.step,
                     tf.cast(context.replica_id_in_sync_group, tf.int64)])
    with tf.GradientTape() as tape:
      logits, _ = state.model(clips, is_training=is_training,
                              dropout_keep_prob=recipe.dropout_keep_prob,
                              dropout_seed=seed)
      logits = tf.cast(logits, tf.float32)  # bfloat16 under mixed precision.
      losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)
      loss = tf.nn.compute_average_loss(losses, global_batch_size=recipe.batch_size)
      decay = recipe.weight_decay * tf.add_n([tf.nn.l2_loss(w) for w in decayed])
      loss += decay / context.num_replicas_in_sync
    gradients = tape.gradient(loss, variables)
    correct = tf.reduce_sum(tf.cast(tf.equal(tf.argmax(logits, -1, tf.int32), labels),
                                    tf.float32))
    return loss, correct, gradients

  @tf.function
  def step(iterator):
    clips, labels = next(iterator)
    loss, correct, gradients = strategy.run(replica_step, args=(clips, labels))
    total = lambda value: strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None)
    state.optimizer.apply([total(g) for g in gradients], variables)
    state.step.assign_add(1)
    return total(loss), total(correct)

  return step


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


def check_finite(loss: float, step: int, last_good: Optional[str]) -> None:
  if not np.isfinite(loss):
    kept = f'the last good checkpoint is {last_good}' if last_good else 'no checkpoint'
    raise LossNotFiniteError(f'step {step}: the loss is {loss}; training stopped '
                             f'({kept}; try a lower --learning_rate)')
