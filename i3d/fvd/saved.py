"""A set's statistics saved to a `.npz` (no pickle), and the settings that decide them.

Keys: `fvd_statistics` (the format's version), `count`, `mean` `[400]` and `covariance`
`[400, 400]` (float64, N - 1 divisor), `embeddings` `[N, 400]` float32 (for the kernel
distance), and the settings `num_frames`, `precision`, `recipe` (and `frames_from` when
not `start`). A file compares only with sets embedded under the same settings. A shard's
statistics (`--shard`) hold `shard_index` and `shard_count`, so that merging can refuse a
shard given twice or one missing.

Statistics of a protocol's draws (`Drawn`) hold instead `protocol`, `clips`, `seeds`
`[K]`, and per draw `counts` `[K]`, `means` `[K, 400]`, `covariances` `[K, 400, 400]`.
"""

import dataclasses
import io
from typing import Optional, Sequence, Tuple, Union
import zipfile

import numpy as np

from i3d.catalogue import RELEASES
from i3d.fvd import distance
from i3d.fvd.inputs import InputError
from i3d.system import files

FORMAT = 1
# Embeddings are the rgb_imagenet network's logits (`recipes.RELEASE`).
DIMENSIONS = RELEASES['rgb_imagenet'].num_classes


@dataclasses.dataclass(frozen=True)
class Settings:
  """What decides a set's embeddings."""
  num_frames: int
  precision: str
  recipe: str
  frames_from: str = 'start'

  def mismatch(self, source: str, other: 'Settings', other_source: str) -> Optional[str]:
    """A line naming the first setting in which `other_source` differs; None if none."""
    for field in dataclasses.fields(self):
      mine, theirs = getattr(self, field.name), getattr(other, field.name)
      if mine != theirs:
        return (f'{other_source}: {field.name} {theirs!r}, but {source} has {mine!r}; '
                'sets compare only under the same settings')
    return None


@dataclasses.dataclass(frozen=True)
class Embedded:
  """An embedded set: its statistics, its embeddings when kept, and its settings."""
  source: str
  settings: Settings
  statistics: distance.Statistics
  embeddings: Optional[np.ndarray] = None
  shard: Optional[Tuple[int, int]] = None  # (index, count) of the set's shards.


def save(path: str, embedded: Embedded) -> None:
  """Writes `embedded` to `path` whole or not at all."""
  stats = embedded.statistics
  arrays = dict(fvd_statistics=FORMAT, count=stats.count, mean=stats.mean,
                covariance=stats.covariance, num_frames=embedded.settings.num_frames,
                precision=embedded.settings.precision, recipe=embedded.settings.recipe)
  if embedded.settings.frames_from != 'start':
    arrays['frames_from'] = embedded.settings.frames_from
  if embedded.embeddings is not None:
    arrays['embeddings'] = embedded.embeddings
  if embedded.shard is not None:
    arrays['shard_index'], arrays['shard_count'] = embedded.shard
  buffer = io.BytesIO()
  np.savez(buffer, **arrays)
  files.write_atomically(path, buffer.getvalue())


def load(path: str) -> Union[Embedded, 'Drawn']:
  """Reads statistics saved by `save` (or `save_drawn`).

  Raises:
    InputError: If the file is not such statistics, or is damaged.
  """
  try:
    with np.load(path, allow_pickle=False) as archive:
      if 'fvd_statistics' not in archive.files:
        raise InputError(f'{path}: not saved FVD statistics (no fvd_statistics key)')
      if int(archive['fvd_statistics']) != FORMAT:
        raise InputError(f'{path}: statistics of format {int(archive["fvd_statistics"])}, '
                         f'this version reads {FORMAT}')
      settings = Settings(int(archive['num_frames']), str(archive['precision']),
                          str(archive['recipe']),
                          str(archive['frames_from']) if 'frames_from' in archive.files
                          else 'start')
      if 'protocol' in archive.files:
        return _load_drawn(path, archive, settings)
      statistics = distance.Statistics.from_covariance(
          int(archive['count']), archive['mean'], archive['covariance'])
      embeddings = archive['embeddings'] if 'embeddings' in archive.files else None
      shard = ((int(archive['shard_index']), int(archive['shard_count']))
               if 'shard_index' in archive.files else None)
  except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
    if isinstance(e, InputError):
      raise
    raise InputError(f'{path}: damaged FVD statistics ({e})') from e
  check(path, statistics, embeddings)
  if shard is not None and not 0 <= shard[0] < shard[1]:
    raise InputError(f'{path}: damaged FVD statistics (shard {shard[0]} of {shard[1]})')
  return Embedded(path, settings, statistics, embeddings, shard)


@dataclasses.dataclass(frozen=True)
class Drawn:
  """A set's statistics in each draw of a protocol (`i3d.fvd.protocols`)."""
  source: str
  settings: Settings
  protocol: str
  clips: int
  seeds: Tuple[int, ...]
  statistics: Tuple[distance.Statistics, ...]

  def mismatch(self, other: 'Drawn') -> Optional[str]:
    """A line naming how `other` differs in protocol, clips or settings; None if not."""
    for name in ('protocol', 'clips'):
      mine, theirs = getattr(self, name), getattr(other, name)
      if mine != theirs:
        return (f'{self.source}: statistics of {name} {mine!r}, but {other.source} has '
                f'{theirs!r}; statistics compare only under the same protocol')
    return self.settings.mismatch(self.source, other.settings, other.source)

  def for_seeds(self, seeds: Sequence[int]) -> 'Drawn':
    """The draws of `seeds`, in that order.

    Raises:
      InputError: If a seed was not drawn.
    """
    missing = [s for s in seeds if s not in self.seeds]
    if missing:
      raise InputError(f'{self.source}: statistics of the draws of seeds '
                       f'{list(self.seeds)}, not of seed {missing[0]}; use --seed and '
                       '--draws within those, or save statistics of these draws')
    statistics = tuple(self.statistics[self.seeds.index(s)] for s in seeds)
    return dataclasses.replace(self, seeds=tuple(seeds), statistics=statistics)


def save_drawn(path: str, drawn: Drawn) -> None:
  """Writes a protocol's statistics to `path` whole or not at all."""
  arrays = dict(fvd_statistics=FORMAT, protocol=drawn.protocol, clips=drawn.clips,
                seeds=np.asarray(drawn.seeds, np.int64),
                counts=np.asarray([s.count for s in drawn.statistics], np.int64),
                means=np.stack([s.mean for s in drawn.statistics]),
                covariances=np.stack([s.covariance for s in drawn.statistics]),
                num_frames=drawn.settings.num_frames, precision=drawn.settings.precision,
                recipe=drawn.settings.recipe)
  buffer = io.BytesIO()
  np.savez(buffer, **arrays)
  files.write_atomically(path, buffer.getvalue())


def _load_drawn(path: str, archive, settings: Settings) -> Drawn:
  seeds = tuple(int(s) for s in archive['seeds'])
  counts, means, covariances = archive['counts'], archive['means'], archive['covariances']
  if not (len(seeds) == len(counts) == len(means) == len(covariances)) or not seeds:
    raise InputError(f'{path}: damaged FVD statistics (draws of unequal counts)')
  statistics = tuple(distance.Statistics.from_covariance(int(n), m, c)
                     for n, m, c in zip(counts, means, covariances))
  for one in statistics:
    check(path, one, None)
  return Drawn(path, settings, str(archive['protocol']), int(archive['clips']), seeds,
               statistics)


def check(path: str, statistics: distance.Statistics,
          embeddings: Optional[np.ndarray]) -> None:
  """Refuses statistics that no set of embeddings has: wrong shapes, fewer than two
  videos, NaN, or a covariance that is not symmetric positive semi-definite.

  Raises:
    InputError: Naming the file and what is wrong.
  """
  d = DIMENSIONS
  if statistics.mean.shape != (d,) or statistics.scatter.shape != (d, d):
    raise InputError(f'{path}: statistics of shapes {statistics.mean.shape} and '
                     f'{statistics.scatter.shape}, where FVD has [{d}] and [{d}, {d}]')
  if statistics.count < 2:
    raise InputError(f'{path}: statistics of {statistics.count} video(s); FVD needs at '
                     'least 2')
  if embeddings is not None and embeddings.shape != (statistics.count, d):
    raise InputError(f'{path}: embeddings of shape {embeddings.shape}, where the '
                     f'statistics count {statistics.count} of {d}')
  if not (np.isfinite(statistics.mean).all() and np.isfinite(statistics.scatter).all()):
    raise InputError(f'{path}: statistics hold NaN or infinite values')
  scatter = statistics.scatter
  scale = max(float(np.abs(scatter).max()), np.finfo(np.float64).tiny)
  if np.abs(scatter - scatter.T).max() > 1e-9 * scale:
    raise InputError(f'{path}: the covariance is not symmetric')
  # Rounding leaves eigenvalues of a true covariance at most a few ulps of the largest
  # below zero; a made-up one goes far below.
  if np.linalg.eigvalsh(scatter).min() < -1e-9 * scale:
    raise InputError(f'{path}: the covariance is not positive semi-definite')
