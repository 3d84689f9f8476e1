"""Sets to statistics to distances: the steps `python -m i3d.fvd` runs, as functions."""

import dataclasses
from typing import Callable, Optional, Sequence, Tuple, Union

import numpy as np

from i3d.fvd import distance
from i3d.fvd import embedding
from i3d.fvd import inputs
from i3d.fvd import recipes
from i3d.fvd.inputs import InputError
from i3d.fvd.saved import Embedded, Settings


def settings_for(num_frames: int, precision: str, recipe: str = recipes.RECIPE) -> Settings:
  return Settings(num_frames, precision, recipe)


@dataclasses.dataclass(frozen=True)
class Planned:
  """A set before embedding, with the settings it will be embedded under."""
  source: str
  settings: Settings


def planned(item: Union[Embedded, inputs.VideoSet], precision: str,
            recipe: str = recipes.RECIPE) -> Union[Embedded, Planned]:
  """What to check before any work: saved statistics as they are, sets as planned."""
  if isinstance(item, Embedded):
    return item
  return Planned(item.source, settings_for(item.num_frames, precision, recipe))


def embed_set(videos: inputs.VideoSet, embedder: embedding.Embedder, batch_size: int,
              keep_embeddings: bool = False,
              progress: Optional[Callable[[int], None]] = None) -> Embedded:
  """Embeds a set batch by batch, merging each batch's statistics into the set's.

  Args:
    videos: The set.
    embedder: The network.
    batch_size: Videos per forward pass; the values do not depend on it.
    keep_embeddings: Also keep every embedding, `[N, 400]` float32 (1.6 kB a video),
      for the kernel distance and saved statistics.
    progress: Called with the number of videos of each batch done.
  """
  statistics = distance.Statistics.empty(recipes.EMBEDDING_SIZE)
  kept = []
  for batch in embedder.embed(videos.videos(), batch_size):
    statistics = statistics.merge(distance.Statistics.of(batch))
    if keep_embeddings:
      kept.append(batch)
    if progress:
      progress(len(batch))
  return Embedded(videos.source,
                  settings_for(videos.num_frames, embedder.precision, embedder.recipe),
                  statistics, np.concatenate(kept) if keep_embeddings else None)


def merge(sets: Sequence[Embedded]) -> Embedded:
  """Shards of one set (embedded apart, or saved) as one set.

  Raises:
    InputError: If the shards were embedded under different settings.
  """
  check_comparable(sets)
  check_whole(sets)
  statistics = sets[0].statistics
  for shard in sets[1:]:
    statistics = statistics.merge(shard.statistics)
  kept = [s.embeddings for s in sets]
  embeddings = None if any(e is None for e in kept) else np.concatenate(kept)
  source = ' + '.join(s.source for s in sets)
  # One set's shards merge into the whole set; a single shard stays that shard.
  shard = sets[0].shard if len(sets) == 1 else None
  return Embedded(source, sets[0].settings, statistics, embeddings, shard)


def check_whole(sets: Sequence[Embedded]) -> None:
  """Raises InputError unless merging `sets` counts every video once: the same saved
  file (or the same statistics) given twice, or a set's shards given twice, mixed with
  other sets or with one missing, would print a distance of something else."""
  seen = {}
  for item in sets:
    key = (item.statistics.count, item.statistics.mean.tobytes())
    if key in seen:
      raise InputError(f'{item.source}: the same statistics as {seen[key]}, given twice')
    seen[key] = item.source
  sharded = [item for item in sets if item.shard is not None]
  if not sharded:
    return
  if len(sharded) != len(sets):
    whole = next(item for item in sets if item.shard is None)
    raise InputError(f'{whole.source}: not a shard, merged with the shards of '
                     f'{sharded[0].source}; give one set\'s shards alone')
  count = sharded[0].shard[1]
  by_index = {}
  for item in sharded:
    index, of = item.shard
    if of != count:
      raise InputError(f'{item.source}: shard {index} of {of}, merged with shards of '
                       f'{count} ({sharded[0].source})')
    if index in by_index:
      raise InputError(f'{item.source}: shard {index} of {count}, given twice (also '
                       f'{by_index[index]})')
    by_index[index] = item.source
  missing = sorted(set(range(count)) - set(by_index))
  if missing:
    raise InputError(f'shards of {count} given, but shard{"s" if len(missing) > 1 else ""} '
                     f'{", ".join(map(str, missing))} missing: FVD needs the whole set')


def check_comparable(sets: Sequence[Union[Embedded, Planned]]) -> None:
  """Raises InputError, naming the set and the setting, unless all settings agree."""
  first = sets[0]
  for other in sets[1:]:
    mismatch = first.settings.mismatch(first.source, other.settings, other.source)
    if mismatch:
      raise InputError(mismatch)


def fvd(real: Embedded, generated: Embedded) -> float:
  """The Fréchet Video Distance between two embedded sets."""
  check_comparable([real, generated])
  return distance.frechet_distance(real.statistics, generated.statistics)


def kvd(real: Embedded, generated: Embedded) -> Tuple[float, float]:
  """The Kernel Video Distance and its standard error (see `distance.kernel_distance`)."""
  check_comparable([real, generated])
  for embedded in (real, generated):
    if embedded.embeddings is None:
      raise InputError(f'{embedded.source}: statistics without embeddings; the kernel '
                       'distance needs them')
  return distance.kernel_distance(real.embeddings, generated.embeddings)


def fvd_of_arrays(real: np.ndarray, generated: np.ndarray, batch_size: int = 16,
                  input_range: Optional[str] = None, num_frames: int = 0,
                  embedder: Optional[embedding.Embedder] = None) -> float:
  """FVD between two arrays of videos `[N, T, H, W, 3]` (uint8, or float in
  `input_range`), on their first `num_frames` frames (all when 0)."""
  embedder = embedder or embedding.Embedder()
  real_set = inputs.array_set('real', real, num_frames, input_range)
  generated_set = inputs.array_set('generated', generated, num_frames, input_range)
  return fvd(embed_set(real_set, embedder, batch_size),
             embed_set(generated_set, embedder, batch_size))
