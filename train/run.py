"""A training run into an output folder: claimed, resumable, and finished with a model
that every tool here runs.

`<output_dir>/`:
  settings.json      the recipe, written first; a run with other settings is refused
  train/             checkpoints (model, optimizer slots, step) every `save_every` steps
  logs/              TensorBoard summaries
  flow_cache/        the flow stream's TV-L1 flow per video (unless `flow_cache_dir`)
  model/             the final model in the release's checkpoint layout (TF1 reads it)
  label_map.txt      its classes in logit order
  train.json         the settings and final metrics
"""

import dataclasses
import json
import os
import tempfile
import time
from typing import Callable, Dict, Optional, Sequence

from classify.sources import Video
from i3d_assets import files
from i3d_assets import lock

from i3d import checkpoint as checkpoint_lib
from i3d.quiet_tf import tf
from train import data
from train import evaluate
from train import loop
from train import network
from train.flow_cache import FlowCache
from train.recipe import Recipe

SETTINGS = 'settings.json'
TRAIN_JSON = 'train.json'
LABEL_MAP = 'label_map.txt'
MODEL = 'model'


class SettingsMismatchError(ValueError):
  """The output folder holds a run with other settings."""


@dataclasses.dataclass(frozen=True)
class Schedule:
  """When to save, log and evaluate (not part of the recipe: changing them changes
  nothing of the result)."""
  save_every: int = 100
  log_every: int = 10
  eval_every: int = 0  # 0: only at the end.


def claim(output_dir: str, recipe: Recipe) -> None:
  """Writes the settings, or checks them against the run already there."""
  path = os.path.join(output_dir, SETTINGS)
  if os.path.exists(path):
    with open(path) as f:
      theirs = Recipe.from_json(json.load(f))
    difference = recipe.difference(theirs)
    if difference:
      raise SettingsMismatchError(
          f'{output_dir}: holds a run with other settings ({difference}); use another '
          '--output_dir, or the same settings to continue it')
    return
  files.write_atomically(path, (json.dumps(recipe.to_json(), indent=1) + '\n').encode())


def is_chief(strategy) -> bool:
  resolver = getattr(strategy, 'cluster_resolver', None)
  return resolver is None or resolver.task_id in (0, None)


def train(recipe: Recipe, train_videos: Sequence[Video], eval_videos: Sequence[Video],
          output_dir: str, schedule: Schedule = Schedule(),
          checkpoint_dir: Optional[str] = None, strategy=None,
          write: Callable[[str], None] = print, flow_cache_dir: Optional[str] = None) -> Dict:
  """Trains (or continues) the run in `output_dir`; returns the final metrics.

  The flow stream's TV-L1 flow is computed first, once per video, into
  `flow_cache_dir` (default `<output_dir>/flow_cache`; share one between runs on the
  same videos).
  """
  slower = network.check_precision(recipe)  # Refused before anything is written.
  flow_cache = None
  if recipe.modality == 'flow':
    flow_cache = FlowCache(flow_cache_dir or os.path.join(output_dir, 'flow_cache'),
                           recipe.flow_impl)
  strategy = strategy or loop.strategy_for()
  chief = is_chief(strategy)
  if slower and chief:
    write(slower)
  if chief:
    os.makedirs(output_dir, exist_ok=True)
    with lock.folder_lock(output_dir):
      return _train(recipe, train_videos, eval_videos, output_dir, schedule,
                    checkpoint_dir, strategy, write, chief, flow_cache)
  return _train(recipe, train_videos, eval_videos, output_dir, schedule, checkpoint_dir,
                strategy, write, chief, flow_cache)


def _train(recipe, train_videos, eval_videos, output_dir, schedule, checkpoint_dir,
           strategy, write, chief, flow_cache):
  state, loaded = loop.make_state(strategy, recipe, checkpoint_dir)
  if chief:  # Claimed once the initialisation has loaded: a failed start claims nothing.
    claim(output_dir, recipe)
  # Workers other than the chief save where nobody reads (MultiWorkerMirroredStrategy
  # needs every worker to take part in a save).
  saves = (os.path.join(output_dir, 'train') if chief else
           tempfile.mkdtemp(prefix='i3d-train-worker-'))
  manager = tf.train.CheckpointManager(state.checkpoint(), saves, max_to_keep=2)
  if manager.latest_checkpoint:
    state.checkpoint().read(manager.latest_checkpoint).assert_existing_objects_matched()
    write(f'continuing from {manager.latest_checkpoint} (step {int(state.step.numpy())})')
  else:
    write(f'initialised from {loaded}')
  if flow_cache is not None:
    flow_cache.fill(list(train_videos) + list(eval_videos), write)
  clips = data.Clips(recipe, flow_cache)
  loader = data.ClipLoader(train_videos, recipe.classes, recipe, clips)
  first = int(state.step.numpy())
  forward = evaluate.predictor(state.model)  # Traced once, for every evaluation.
  if first < recipe.steps:
    iterator = iter(data.distributed_dataset(strategy, loader, first))
    step_fn = loop.train_step_fn(strategy, state, recipe)
    progress = loop.Progress(schedule.log_every, write)
    summaries = tf.summary.create_file_writer(os.path.join(output_dir, 'logs') if chief
                                              else tempfile.mkdtemp())
    for step in range(first + 1, recipe.steps + 1):
      state.learning_rate.assign(recipe.learning_rate_at(step - 1))
      loss, correct = (float(x) for x in step_fn(iterator))
      loop.check_finite(loss, step, manager.latest_checkpoint)
      figures = progress.add(step, recipe.steps, loss, correct, recipe.batch_size,
                             recipe.learning_rate_at(step - 1))
      with summaries.as_default(step=step):
        tf.summary.scalar('loss', loss)
        tf.summary.scalar('learning_rate', recipe.learning_rate_at(step - 1))
        if figures:
          tf.summary.scalar('clips_per_second', figures['clips_per_second'])
      if step % schedule.save_every == 0 or step == recipe.steps:
        manager.save(checkpoint_number=step)
      if schedule.eval_every and step % schedule.eval_every == 0 and step < recipe.steps:
        metrics = evaluate.accuracy(forward, eval_videos, recipe.classes, clips)
        write(f'step {step}: eval top-1 {metrics["top1"]:.4f}, top-5 '
              f'{metrics["top5"]:.4f}, mean class accuracy '
              f'{metrics["mean_class_accuracy"]:.4f}')
        with summaries.as_default(step=step):
          tf.summary.scalar('eval_top1', metrics['top1'])
  metrics = evaluate.accuracy(forward, eval_videos, recipe.classes, clips)
  if chief:
    finish(output_dir, state, recipe, metrics, len(train_videos))
  write(f'eval top-5: {metrics["top5"]:.4f}, mean class accuracy '
        f'{metrics["mean_class_accuracy"]:.4f} ({metrics["videos_scored"]} videos)')
  write(f'eval top-1: {metrics["top1"]}')
  return metrics


def finish(output_dir: str, state: loop.State, recipe: Recipe, metrics: Dict,
           train_count: int) -> None:
  """The final model, its label map and `train.json`, each written whole."""
  checkpoint_lib.save_release_checkpoint(state.model, os.path.join(output_dir, MODEL),
                                         layout=recipe.modality)
  files.write_atomically(os.path.join(output_dir, LABEL_MAP),
                         ''.join(c + '\n' for c in recipe.classes).encode())
  summary = {'settings': recipe.to_json(), 'modality': recipe.modality,
             'num_classes': len(recipe.classes), 'train_videos': train_count,
             'steps': int(state.step.numpy()), 'finished': time.strftime('%Y-%m-%d %H:%M:%S'),
             'metrics': {k: metrics[k] for k in ('top1', 'top5', 'mean_class_accuracy',
                                                 'videos_scored')}}
  files.write_atomically(os.path.join(output_dir, TRAIN_JSON),
                         (json.dumps(summary, indent=1) + '\n').encode())
