"""A set's statistics saved to a `.npz` (no pickle), and the settings that decide them.

Keys: `fvd_statistics` (the format's version), `count`, `mean` `[400]` and `covariance`
`[400, 400]` (float64, N - 1 divisor), `embeddings` `[N, 400]` float32 (for the kernel
distance), and the settings `num_frames`, `precision`, `recipe`. A file compares only
with sets embedded under the same settings.
"""

import dataclasses
import io
from typing import Optional

import numpy as np

from i3d.fvd import distance
from i3d.fvd.inputs import InputError
from i3d.system import files

FORMAT = 1


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
  except (OSError, ValueError, KeyError, EOFError) as e:
    if isinstance(e, InputError):
      raise
    raise InputError(f'{path}: damaged FVD statistics ({e})') from e
  if not (np.isfinite(statistics.mean).all() and np.isfinite(statistics.scatter).all()):
    raise InputError(f'{path}: statistics hold NaN or infinite values')
  return Embedded(path, settings, statistics, embeddings)
