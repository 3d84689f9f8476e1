"""Array jobs on one folder: a deterministic share of a list of videos per shard.

A video belongs to shard `sha1(id) mod count`: the same shard whatever else is in the
list and in whatever order, so adding videos never moves one from a shard that did it.
`--shard INDEX/COUNT` names a shard; `--shard env` reads SLURM's array
(`SLURM_ARRAY_TASK_ID` - `SLURM_ARRAY_TASK_MIN` of `SLURM_ARRAY_TASK_COUNT`), and
`--shard env/COUNT` the index of SLURM (`SLURM_ARRAY_TASK_ID`) or PBS
(`PBS_ARRAY_INDEX`, PBS Pro; `PBS_ARRAYID`, Torque) with the count given.
"""

import dataclasses
import hashlib
import os
from typing import Mapping, Optional

INDEX_VARIABLES = ('SLURM_ARRAY_TASK_ID', 'PBS_ARRAY_INDEX', 'PBS_ARRAYID')


@dataclasses.dataclass(frozen=True)
class Shard:
  index: int
  count: int

  def holds(self, video_id: str) -> bool:
    digest = hashlib.sha1(video_id.encode('utf-8')).digest()
    return int.from_bytes(digest[:8], 'big') % self.count == self.index

  def __str__(self) -> str:
    return f'{self.index}/{self.count}'


def parse(text: Optional[str], environ: Mapping[str, str] = os.environ) -> Optional[Shard]:
  """The shard `--shard` names (None for none).

  Raises:
    ValueError: On a malformed value, an index outside the count, or `env` without the
      array's variables; the message names --shard.
  """
  if not text:
    return None
  index_text, _, count_text = text.partition('/')
  if index_text == 'env':
    index_text, count_text = _from_environment(count_text, environ)
  try:
    index, count = int(index_text), int(count_text)
  except ValueError:
    raise ValueError(f'--shard {text!r}: expected INDEX/COUNT (0/4), env, or '
                     'env/COUNT') from None
  if count < 1 or not 0 <= index < count:
    raise ValueError(f'--shard {text!r}: the index must be in 0 .. COUNT - 1')
  return Shard(index, count)


def _from_environment(count_text: str, environ: Mapping[str, str]):
  if not count_text:
    if 'SLURM_ARRAY_TASK_COUNT' not in environ or 'SLURM_ARRAY_TASK_ID' not in environ:
      raise ValueError('--shard env: no SLURM array here (SLURM_ARRAY_TASK_ID and '
                       'SLURM_ARRAY_TASK_COUNT unset); give env/COUNT or INDEX/COUNT')
    first = int(environ.get('SLURM_ARRAY_TASK_MIN', '0'))
    return str(int(environ['SLURM_ARRAY_TASK_ID']) - first), environ['SLURM_ARRAY_TASK_COUNT']
  for name in INDEX_VARIABLES:
    if name in environ:
      return environ[name], count_text
  raise ValueError(f'--shard env/{count_text}: no array index here '
                   f'({", ".join(INDEX_VARIABLES)} unset)')
