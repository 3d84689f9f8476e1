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
import shutil
import tempfile
import time
from typing import Callable, Dict, Optional, Sequence

from i3d import checkpoint as checkpoint_lib
from i3d.catalogue.plan import MODEL_LABEL_MAP, MODEL_SUBDIR, MODEL_SUMMARY
from i3d.quiet_tf import tf
from i3d.system import claims
from i3d.system import files
from i3d.system import lock
from i3d.system.store import LocalStore
from i3d.train import data
from i3d.train import evaluate
from i3d.train import loop
from i3d.train import network
from i3d.train import steps
from i3d.train.flow_cache import FlowCache
from i3d.train.recipe import Recipe
from i3d.videosets.sources import Video

SETTINGS = 'settings.json'


@dataclasses.dataclass(frozen=True)
class Schedule:
  """When to save, log and evaluate (not part of the recipe: changing them changes
  nothing of the result)."""
  save_every: int = 100
  log_every: int = 10
  eval_every: int = 0  # 0: only at the end.


def claim(output_dir: str, recipe: Recipe) -> None:
  """Writes the settings, or checks them against the run already there."""
  claims.claim_settings(
      LocalStore(output_dir), SETTINGS,
      (json.dumps(recipe.to_json(), indent=1) + '\n').encode(),
      f'{output_dir}: holds a run with other settings ({{changes}}); use another '
      '--output_dir, or the same settings to continue it',
      lambda key, theirs, mine: f'{key}: {json.dumps(theirs)[:60]} -> {json.dumps(mine)[:60]}',
      ignore=('steps',))


def single_threaded_operations() -> None:
  """One operation at a time, each on one thread: what makes a run repeat itself bit
  for bit on a CPU.

  TensorFlow's op determinism (on in every run) fixes which kernels run, but on a CPU a
  convolution's filter gradient and a reduction are split over threads whose partial
  sums are added in the order the threads finish (the same gradient twice differs in
  its last bits), and operations that run side by side change one another's results
  too (measured: with one thread per operation but several operations at once, two
  6-step runs still differ). The differences grow over the steps: 1e-5 in the weights
  after 6 steps. Must be called before TensorFlow runs anything.
  """
  tf.config.threading.set_intra_op_parallelism_threads(1)
  tf.config.threading.set_inter_op_parallelism_threads(1)


def is_chief(strategy) -> bool:
  """Whether this process writes the run: TF_CONFIG's `chief` task, else worker 0
  (TensorFlow's convention), or the only process."""
  resolver = getattr(strategy, 'cluster_resolver', None)
  if resolver is None or resolver.task_type is None:
    return True
  if 'chief' in resolver.cluster_spec().jobs:
    return resolver.task_type == 'chief'
  return resolver.task_type == 'worker' and resolver.task_id in (0, None)


def train(recipe: Recipe, train_videos: Sequence[Video], eval_videos: Sequence[Video],
          output_dir: str, schedule: Schedule = Schedule(),
          checkpoint_dir: Optional[str] = None, strategy=None,
          write: Callable[[str], None] = print, flow_cache_dir: Optional[str] = None) -> Dict:
  """Trains (or continues) the run in `output_dir`; returns the final metrics.

  A multi-label recipe takes `multilabel.Actions` for `train_videos` and `eval_videos`.

  The flow stream's TV-L1 flow is computed first, once per video, into
  `flow_cache_dir` (default `<output_dir>/flow_cache`; share one between runs on the
  same videos).
  """
  slower = network.check_precision(recipe)  # Refused before anything is written.
  flow_cache = None
  if recipe.modality == 'flow':
    flow_cache = FlowCache(flow_cache_dir or os.path.join(output_dir, 'flow_cache'),
                           recipe.flow_impl)
  strategy = strategy or steps.strategy_for()
  chief = is_chief(strategy)
  if slower and chief:
    write(slower)
  if recipe.precise_bn_batches and recipe.freeze_batch_norm and chief:
    write('--precise_bn_batches does nothing with --freeze_batch_norm: batch norm keeps '
          'its initial statistics')
  if chief:
    os.makedirs(output_dir, exist_ok=True)
    with lock.folder_lock(output_dir):
      return _train(recipe, train_videos, eval_videos, output_dir, schedule,
                    checkpoint_dir, strategy, write, chief, flow_cache,
                    os.path.join(output_dir, 'train'))
  # Workers other than the chief save where nobody reads (MultiWorkerMirroredStrategy
  # needs every worker to take part in a save): a scratch folder, removed at the end.
  with tempfile.TemporaryDirectory(prefix='i3d-train-worker-') as saves:
    return _train(recipe, train_videos, eval_videos, output_dir, schedule, checkpoint_dir,
                  strategy, write, chief, flow_cache, saves)


def _train(recipe, train_videos, eval_videos, output_dir, schedule, checkpoint_dir,
           strategy, write, chief, flow_cache, saves):
  state, loaded = steps.make_state(strategy, recipe, checkpoint_dir)
  if chief:  # Claimed once the initialisation has loaded: a failed start claims nothing.
    claim(output_dir, recipe)
    # Under the folder's lock: a checkpoint being written is a killed run's.
    remove_unfinished_checkpoints(saves)
  # One object for saving and restoring (its save counter included, so a resume reads
  # every value it holds).
  checkpoint = state.checkpoint()
  manager = tf.train.CheckpointManager(checkpoint, saves, max_to_keep=2)
  if manager.latest_checkpoint:
    checkpoint.read(manager.latest_checkpoint).assert_existing_objects_matched()
    write(f'continuing from {manager.latest_checkpoint} (step {int(state.step.numpy())})')
  else:
    write(f'initialised from {loaded}')
  # `multilabel.Actions`: videos with their actions.
  spans = [item.spans for item in train_videos] if recipe.multilabel else None
  if flow_cache is not None:
    flow_cache.fill(list(train_videos) + list(eval_videos), write)
  clips = data.Clips(recipe, flow_cache)
  loader = data.ClipLoader(train_videos, recipe.classes, recipe, clips, spans)
  first = int(state.step.numpy())
  forward = evaluate.predictor(state.model)  # Traced once, for every evaluation.
  def scores():
    if recipe.multilabel:
      return evaluate.mean_average_precision(forward, eval_videos, clips)
    return evaluate.accuracy(forward, eval_videos, recipe.classes, clips)
  if first < recipe.steps:
    loop.run_steps(strategy, state, recipe, loader, manager, schedule, first, output_dir,
                   chief, write, scores)
  metrics = scores()
  if chief:
    finish(output_dir, state, recipe, metrics, len(train_videos), clips.cut_short)
  if recipe.multilabel:
    write(f'eval mAP: {metrics["mAP"]}')
    return metrics
  write(f'eval top-5: {metrics["top5"]:.4f}, mean class accuracy '
        f'{metrics["mean_class_accuracy"]:.4f} ({metrics["videos_scored"]} videos)')
  write(f'eval top-1: {metrics["top1"]}')
  return metrics


def remove_unfinished_checkpoints(folder: str) -> None:
  """Removes the `ckpt-N_temp/` folders in which TensorFlow writes a checkpoint before
  renaming it: a run killed (or out of space) during a save leaves one."""
  if os.path.isdir(folder):
    for name in os.listdir(folder):
      if name.startswith('ckpt-') and name.endswith('_temp'):
        shutil.rmtree(os.path.join(folder, name), ignore_errors=True)


def finish(output_dir: str, state: steps.State, recipe: Recipe, metrics: Dict,
           train_count: int, cut_short: Sequence[str] = ()) -> None:
  """The final model, its label map and `train.json`, each written whole. `cut_short`:
  the notes of training videos used as far as they decoded (in this process's steps)."""
  checkpoint_lib.save_release_checkpoint(state.model, os.path.join(output_dir, MODEL_SUBDIR),
                                         layout=recipe.modality)
  files.write_atomically(os.path.join(output_dir, MODEL_LABEL_MAP),
                         ''.join(c + '\n' for c in recipe.classes).encode())
  summary = {'settings': recipe.to_json(), 'modality': recipe.modality,
             'num_classes': len(recipe.classes), 'train_videos': train_count,
             'steps': int(state.step.numpy()), 'finished': time.strftime('%Y-%m-%d %H:%M:%S'),
             'metrics': {k: metrics[k] for k in ('top1', 'top5', 'mean_class_accuracy',
                                                 'mAP', 'videos_scored') if k in metrics}}
  if cut_short:
    summary['cut_short_videos'] = sorted(cut_short)
  files.write_atomically(os.path.join(output_dir, MODEL_SUMMARY),
                         (json.dumps(summary, indent=1) + '\n').encode())
