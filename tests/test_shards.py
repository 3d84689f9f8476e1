"""Shards of an array job: a fixed share per video, and the index read from SLURM's or
PBS's variables."""

import hashlib

import pytest

from i3d.system import shards


def test_a_video_belongs_to_one_shard_whatever_the_list():
  ids = [f'video_{i}' for i in range(400)]
  owners = {v: [i for i in range(4) if shards.Shard(i, 4).holds(v)] for v in ids}
  assert all(len(o) == 1 for o in owners.values())
  counts = [sum(o == [i] for o in owners.values()) for i in range(4)]
  assert all(70 < c < 130 for c in counts), counts
  # The share is the id's SHA-1, first 8 bytes big-endian, modulo the count.
  assert owners['video_7'] == [int.from_bytes(hashlib.sha1(b'video_7').digest()[:8],
                                              'big') % 4]


@pytest.mark.parametrize('text, environ, expected', [
    ('2/4', {}, shards.Shard(2, 4)),
    ('env', {'SLURM_ARRAY_TASK_ID': '5', 'SLURM_ARRAY_TASK_MIN': '1',
             'SLURM_ARRAY_TASK_COUNT': '8'}, shards.Shard(4, 8)),
    ('env/16', {'SLURM_ARRAY_TASK_ID': '3'}, shards.Shard(3, 16)),
    ('env/16', {'PBS_ARRAY_INDEX': '15'}, shards.Shard(15, 16)),
    ('env/16', {'PBS_ARRAYID': '0'}, shards.Shard(0, 16)),
    (None, {}, None),
])
def test_shard_flag(text, environ, expected):
  assert shards.parse(text, environ) == expected


@pytest.mark.parametrize('text, environ, message', [
    ('4/4', {}, 'the index must be in 0 .. COUNT - 1'),
    ('a/b', {}, 'expected INDEX/COUNT'),
    ('env', {}, 'no SLURM array here'),
    ('env/4', {}, 'no array index here'),
])
def test_bad_shard_flags_are_named(text, environ, message):
  with pytest.raises(ValueError, match=message):
    shards.parse(text, environ)
