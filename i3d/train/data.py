"""Training clips as a `tf.data` pipeline whose every example is a function of its
position in the run, so that a resumed run sees exactly the examples and augmentations
that an uninterrupted one would.

Example `p` (the p-th of the run, p = step * global_batch + slot) is video
`order_e[p % N]` of epoch `e = p // N` (`order_e` a permutation seeded by (seed, e)),
cut, cropped and flipped with a generator seeded by (seed, p). RGB videos are decoded
per example (decoding is cheap next to the network), in parallel by `tf.data`; flow is
read from the run's `FlowCache` (TV-L1 is not cheap).
"""

import functools
import threading
from typing import List, Optional, Sequence, Tuple

import numpy as np

from i3d.catalogue import CHANNELS, IMAGE_SIZE
from i3d.preprocess import pipeline
from i3d.preprocess import transforms
from i3d.preprocess import video as video_lib
from i3d.quiet_tf import tf
from i3d.train.flow_cache import FlowCache
from i3d.train.recipe import Recipe
from i3d.videosets import mean_ap
from i3d.videosets.sources import Video


class Clips:
  """A modality's clips: augmented for training, whole for evaluation."""

  def __init__(self, recipe: Recipe, flow_cache: Optional[FlowCache] = None):
    if recipe.modality == 'flow' and flow_cache is None:
      raise ValueError('the flow stream needs a FlowCache')
    self.recipe = recipe
    self.flow_cache = flow_cache
    # Videos that decoded fewer frames than their containers declare, noted from
    # tf.data's threads (where a warning would reach nobody): each note, and those not
    # yet said.
    self._lock = threading.Lock()
    self.cut_short: List[str] = []
    self._unsaid: List[str] = []

  def _note_cut_short(self, note: str) -> None:
    with self._lock:
      if note not in self.cut_short:
        self.cut_short.append(note)
        self._unsaid.append(note)

  def take_unsaid(self) -> List[str]:
    """The cut-short videos' notes not yet taken, to be said once each."""
    with self._lock:
      notes, self._unsaid = self._unsaid, []
    return notes

  def training(self, path: str, rng: np.random.Generator) -> np.ndarray:
    return self.training_and_frames(path, rng)[0]

  def training_and_frames(self, path: str,
                          rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
    """An augmented clip and the video's frames (at 25 fps) it was cut from."""
    if self.recipe.modality == 'flow':
      return _augmented_flow_clip(self.flow_cache.load(path), self.recipe, rng)
    return _augmented_clip(path, self.recipe, rng, self._note_cut_short)

  def evaluation(self, path: str) -> np.ndarray:
    if self.recipe.modality == 'flow':
      return eval_flow_clip(self.flow_cache.load(path))
    return eval_clip(path)


class ClipLoader:
  """Turns run positions into augmented clips `[T, 224, 224, C]` and labels.

  A clip that cannot be made (a video that stopped decoding, or vanished, after the
  check before training) is not raised inside `tf.data`'s threads, where TensorFlow
  turns it into a traceback, an abort or a hang: it is kept as `failure`, a blank clip
  goes on in its place, and the loop raises it (`raise_failure`) before that step's
  weights are saved.
  """

  def __init__(self, videos: Sequence[Video], class_names: Sequence[str], recipe: Recipe,
               clips: Optional[Clips] = None, spans: Optional[Sequence[Sequence]] = None):
    """`spans`: for a multi-label recipe, each video's actions `(class index, start,
    end)` in seconds (`multilabel.Actions.spans`); the label of an example is then its
    0/1 targets per frame `[T, classes]`."""
    self.videos = list(videos)
    self.recipe = recipe
    self.clips = clips or Clips(recipe)
    self.num_classes = len(class_names)
    if recipe.multilabel:
      if spans is None or len(spans) != len(self.videos):
        raise ValueError('a multi-label recipe needs the spans of every video')
      self.spans = [tuple(s) for s in spans]
    else:
      index = {name: i for i, name in enumerate(class_names)}
      self.labels = np.array([index[v.label] for v in self.videos], np.int32)
    self.failure: Optional[BaseException] = None

  def video_at(self, position: int) -> int:
    epoch, offset = divmod(position, len(self.videos))
    return int(epoch_order(self.recipe.seed, epoch, len(self.videos))[offset])

  def example(self, position: int) -> Tuple[np.ndarray, np.ndarray]:
    index = self.video_at(position)
    rng = np.random.default_rng([self.recipe.seed, 1, position])
    if not self.recipe.multilabel:
      return self.clips.training(self.videos[index].path, rng), self.labels[index]
    clip, frames = self.clips.training_and_frames(self.videos[index].path, rng)
    return clip, mean_ap.targets_at(self.spans[index], frames / video_lib.FPS,
                                    self.num_classes)

  def label_spec(self) -> Tuple[tf.DType, List[int]]:
    """The dtype and shape of an example's label."""
    if self.recipe.multilabel:
      return tf.float32, [self.recipe.num_frames, self.num_classes]
    return tf.int32, []

  def example_or_blank(self, position: int) -> Tuple[np.ndarray, np.int32]:
    """`example`, or a blank clip with the failure kept (see the class)."""
    try:
      return self.example(position)
    except Exception as e:  # pylint: disable=broad-except
      if self.failure is None:
        self.failure = e
      shape = (self.recipe.num_frames, IMAGE_SIZE, IMAGE_SIZE,
               CHANNELS[self.recipe.modality])
      dtype, label_shape = self.label_spec()
      return np.zeros(shape, np.float32), np.zeros(label_shape, dtype.as_numpy_dtype)

  def raise_failure(self) -> None:
    if self.failure is not None:
      raise self.failure


@functools.lru_cache(maxsize=8)
def epoch_order(seed: int, epoch: int, count: int) -> np.ndarray:
  """The order of `count` videos in an epoch: a pure function of (seed, epoch), so that
  `tf.data`'s threads, in whichever epoch each is, read their own (cached, read-only)."""
  order = np.random.default_rng([seed, epoch]).permutation(count)
  order.flags.writeable = False
  return order


def _clip_start(length: int, count: int, rng: np.random.Generator) -> int:
  return int(rng.integers(0, max(length - count, 0) + 1))


def _augmented_clip(path, recipe, rng, on_cut_short=None):
  """`num_frames` frames from a random start (looped when the video is shorter), the
  shorter side at 256, one random 224x224 crop and (with `flip`) a random left-right
  flip for the whole clip, in [-1, 1]; and the indices of the frames it was cut from."""
  frames = list(video_lib.read_frames(path, on_cut_short=on_cut_short))
  count = recipe.num_frames
  start = _clip_start(len(frames), count, rng)
  chosen = [frames[(start + k) % len(frames)] for k in range(count)]
  resized_shape = transforms.resize(chosen[0], 'kinetics').shape
  offset = transforms.random_crop_offset(resized_shape, rng)
  clip = np.stack([pipeline.rgb_input(frame, 'kinetics', offset) for frame in chosen])
  if recipe.flip and rng.random() < 0.5:
    clip = clip[:, :, ::-1]
  return np.ascontiguousarray(clip), (start + np.arange(count)) % len(frames)


def augmented_flow_clip(flow: np.ndarray, recipe: Recipe,
                        rng: np.random.Generator) -> np.ndarray:
  """As an RGB training clip (`Clips.training`), from a video's cached flow
  `[N, H, W, 2]` (`FlowCache`): `num_frames` flow frames, a random crop, and a flip that
  also negates the horizontal component (a mirrored video moves the other way)."""
  return _augmented_flow_clip(flow, recipe, rng)[0]


def _augmented_flow_clip(flow, recipe, rng):
  count = recipe.num_frames
  start = _clip_start(len(flow), count, rng)
  chosen = [(start + k) % len(flow) for k in range(count)]
  y, x = transforms.random_crop_offset(flow.shape[1:], rng)
  clip = np.asarray(flow[chosen, y:y + IMAGE_SIZE, x:x + IMAGE_SIZE], np.float32)
  if recipe.flip and rng.random() < 0.5:
    clip = clip[:, :, ::-1] * np.array([-1, 1], np.float32)
  return np.ascontiguousarray(clip), np.array(chosen)


def eval_clip(path: str) -> np.ndarray:
  """The whole video, centre crop, as the release tests: `[1, T, 224, 224, 3]`."""
  return pipeline.video_to_arrays(path, ['rgb'], pipeline.Options(progress=False))['rgb']


def eval_flow_clip(flow: np.ndarray) -> np.ndarray:
  """The whole cached flow `[N, H, W, 2]`, centre crop: `[1, N, 224, 224, 2]`."""
  y, x = transforms.centre_crop_offset(flow.shape[1:])
  return np.asarray(flow[np.newaxis, :, y:y + IMAGE_SIZE, x:x + IMAGE_SIZE], np.float32)


def replica_positions(step_batch: int, global_batch: int, per_replica: int,
                      pipeline_id: int, replicas_per_pipeline: int, first_step: int):
  """The run positions of the `step_batch`-th batch an input pipeline produces: for step
  s and (global) replica r, `s * global_batch + r * per_replica + k`."""
  step = first_step + step_batch // replicas_per_pipeline
  replica = pipeline_id * replicas_per_pipeline + step_batch % replicas_per_pipeline
  start = step * global_batch + replica * per_replica
  return np.arange(start, start + per_replica, dtype=np.int64)


def distributed_dataset(strategy: tf.distribute.Strategy, loader: ClipLoader,
                        first_step: int):
  """Per-replica batches from step `first_step` on, split over the strategy's
  replicas (each input pipeline makes only its own replicas' examples)."""
  recipe = loader.recipe
  channels = CHANNELS[recipe.modality]

  def dataset_fn(context: tf.distribute.InputContext):
    per_replica = context.get_per_replica_batch_size(recipe.batch_size)
    replicas = context.num_replicas_in_sync // context.num_input_pipelines

    def positions(batch_index):
      return replica_positions(int(batch_index), recipe.batch_size, per_replica,
                               context.input_pipeline_id, replicas, first_step)

    def load(position):
      return loader.example_or_blank(int(position))

    label_dtype, label_shape = loader.label_spec()

    def load_tf(position):
      clip, label = tf.numpy_function(load, [position], [tf.float32, label_dtype])
      clip.set_shape([recipe.num_frames, IMAGE_SIZE, IMAGE_SIZE, channels])
      label.set_shape(label_shape)
      return clip, label

    batches = tf.data.Dataset.counter().map(
        lambda i: tf.numpy_function(positions, [i], tf.int64))
    examples = batches.unbatch().map(load_tf, num_parallel_calls=tf.data.AUTOTUNE,
                                     deterministic=True)
    return examples.batch(per_replica).prefetch(2)

  return strategy.distribute_datasets_from_function(dataset_fn)
