"""One training step on a `tf.distribute` strategy, and the state it updates: the model,
momentum SGD and the step (a checkpoint's content), deterministic.

The global batch is split over the replicas; each replica's batch norm uses its own
batch's statistics (as in the paper, which trained on 64 GPUs), the moving averages
being the mean of the replicas' updates. Gradients are summed over replicas of losses
each divided by the global batch: the mean over the global batch, as on one device.
"""

import dataclasses
from typing import List, Optional

from i3d.model import InceptionI3d
from i3d.quiet_tf import tf
from i3d.train import multilabel
from i3d.train import network
from i3d.train.recipe import Recipe


def strategy_for(devices: Optional[List[str]] = None) -> tf.distribute.Strategy:
  """MultiWorkerMirroredStrategy when TF_CONFIG names a cluster of several workers (a
  chief among them or not), else MirroredStrategy over `devices` (default: every GPU,
  else the CPU)."""
  resolver = tf.distribute.cluster_resolver.TFConfigClusterResolver()
  try:
    cluster = resolver.cluster_spec()
  except ValueError as e:  # Not JSON, or not a cluster.
    raise ValueError(f'TF_CONFIG: {e}') from None
  if sum(cluster.num_tasks(job) for job in cluster.jobs if job in ('chief', 'worker')) > 1:
    return tf.distribute.MultiWorkerMirroredStrategy(cluster_resolver=resolver)
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
  """A compiled step: forward, loss (softmax cross-entropy; multi-label: see
  `i3d.train.multilabel`), gradients summed over replicas, SGD."""
  variables = network.trainable(state.model, recipe)
  decayed = network.decayed(state.model)
  is_training = not recipe.freeze_batch_norm

  def replica_step(clips, labels, step):
    context = tf.distribute.get_replica_context()
    seed = tf.stack([tf.cast(recipe.seed, tf.int64) * 1000003 + step,
                     tf.cast(context.replica_id_in_sync_group, tf.int64)])
    with tf.GradientTape() as tape:
      if recipe.multilabel:
        per_time, _ = state.model.per_time_logits(
            clips, is_training=is_training, dropout_keep_prob=recipe.dropout_keep_prob,
            dropout_seed=seed)
        losses = multilabel.example_losses(per_time, labels)
        # A hit: the clip's highest scoring class is one of its actions.
        logits = tf.reduce_max(tf.cast(per_time, tf.float32), axis=1)
        top = tf.argmax(logits, -1, tf.int32)
        hits = tf.gather(tf.reduce_max(labels, axis=1), top, batch_dims=1) > 0
      else:
        logits, _ = state.model(clips, is_training=is_training,
                                dropout_keep_prob=recipe.dropout_keep_prob,
                                dropout_seed=seed)
        logits = tf.cast(logits, tf.float32)  # bfloat16 under mixed precision.
        losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)
        hits = tf.equal(tf.argmax(logits, -1, tf.int32), labels)
      loss = tf.nn.compute_average_loss(losses, global_batch_size=recipe.batch_size)
      decay = recipe.weight_decay * tf.add_n([tf.nn.l2_loss(w) for w in decayed])
      loss += decay / context.num_replicas_in_sync
    gradients = tape.gradient(loss, variables)
    correct = tf.reduce_sum(tf.cast(hits, tf.float32))
    return loss, correct, gradients

  # No AutoGraph: the control flow is plain Python, and tracing takes 2 to 3 s less
  # (bench/tracing.py).
  @tf.function(autograph=False)
  def step(iterator):
    clips, labels = next(iterator)
    # The step the dropout masks are seeded by, read once here, before the increment
    # below, and handed to every replica.
    step = state.step.read_value()
    loss, correct, gradients = strategy.run(replica_step, args=(clips, labels, step))
    def total(value):
      return strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None)

    state.optimizer.apply([total(g) for g in gradients], variables)
    state.step.assign_add(1)
    return total(loss), total(correct)

  return step
