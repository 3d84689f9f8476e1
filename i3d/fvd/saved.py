"""A set's statistics saved to a `.npz` (no pickle), and the settings that decide them.

Keys: `fvd_statistics` (the format's version), `count`, `mean` `[400]` and `covariance`
`[400, 400]` (float64, N - 1 divisor), `embeddings` `[N, 400]` float32 (for the kernel
distance), and the settings `num_frames`, `precision`, `recipe`. A file compares only
with sets embedded under the same settings.
"""

import dataclasses
import io
from typing import Optional
import zipfile

import numpy as np

from i3d.catalogue import RELEASES
from i3d.fvd import distance
from i3d.fvd.inputs import InputError
from i3d.system import files

FORMAT = 1
# Embeddings are the rgb_imagenet network's logits (`embedding.RELEASE`).
DIMENSIONS = RELEASES['rgb_imagenet'].num_classes


@dataclasses.dataclass(frozen=True)
class Settings:
  """What decides a set's embeddings."""
  num_frames: int
  precision: str
  recipe: str

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


def save(path: str, embedded: Embedded) -> None:
  """Writes `embedded` to `path` whole or not at all."""
  stats = embedded.statistics
  arrays = dict(fvd_statistics=FORMAT, count=stats.count, mean=stats.mean,
                covariance=stats.covariance, num_frames=embedded.settings.num_frames,
                precision=embedded.settings.precision, recipe=embedded.settings.recipe)
  if embedded.embeddings is not None:
    arrays['embeddings'] = embedded.embeddings
  buffer = io.BytesIO()
  np.savez(buffer, **arrays)
  files.write_atomically(path, buffer.getvalue())


def load(path: str) -> Embedded:
  """Reads statistics saved by `save`.

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
                          str(archive['recipe']))
      statistics = distance.Statistics.from_covariance(
          int(archive['count']), archive['mean'], archive['covariance'])
      embeddings = archive['embeddings'] if 'embeddings' in archive.files else None
  except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
    if isinstance(e, InputError):
      raise
    raise InputError(f'{path}: damaged FVD statistics ({e})') from e
  check(path, statistics, embeddings)
  return Embedded(path, settings, statistics, embeddings)


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
