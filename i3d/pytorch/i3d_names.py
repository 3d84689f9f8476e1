"""pytorch-i3d's state-dict names (piergiaj/pytorch-i3d, `pytorch_i3d.InceptionI3d`) and
the release's, one to one.

pytorch-i3d names each unit by its endpoint and, inside an Inception block, by branch
(`Mixed_4b.b1b`); its parameters are `conv3d.weight` `(out, in, T, H, W)`,
`conv3d.bias` (the logits only) and batch norm's `bn.weight` (a scale, which the
release's Sonnet 1 batch norm has not), `bn.bias`, `bn.running_mean`, `bn.running_var`
and `bn.num_batches_tracked`. The release names the same units
`Mixed_4b/Branch_1/Conv3d_0b_3x3` with `conv_3d/w` `(T, H, W, in, out)`, `conv_3d/b`,
`batch_norm/beta`, `batch_norm/moving_mean` and `batch_norm/moving_variance`, and calls
Mixed_5b's third branch's 3x3x3 unit `Conv3d_0a_3x3`.
"""

from typing import List, Tuple

STEM = ('Conv3d_1a_7x7', 'Conv3d_2b_1x1', 'Conv3d_2c_3x3')
INCEPTION_BLOCKS = ('Mixed_3b', 'Mixed_3c', 'Mixed_4b', 'Mixed_4c', 'Mixed_4d', 'Mixed_4e',
                    'Mixed_4f', 'Mixed_5b', 'Mixed_5c')
# pytorch-i3d's branch units, in its order, and the release's names for them.
BRANCHES = (('b0', 'Branch_0/Conv3d_0a_1x1'), ('b1a', 'Branch_1/Conv3d_0a_1x1'),
            ('b1b', 'Branch_1/Conv3d_0b_3x3'), ('b2a', 'Branch_2/Conv3d_0a_1x1'),
            ('b2b', 'Branch_2/Conv3d_0b_3x3'), ('b3b', 'Branch_3/Conv3d_0b_1x1'))
# The release's one irregular name.
QUIRKS = {'Mixed_5b/Branch_2/Conv3d_0b_3x3': 'Mixed_5b/Branch_2/Conv3d_0a_3x3'}
LOGITS = ('logits', 'Logits/Conv3d_0c_1x1')
# Batch norm's entries: pytorch-i3d's and the release's (None: the release has none).
BATCH_NORM = (('weight', None), ('bias', 'beta'), ('running_mean', 'moving_mean'),
              ('running_var', 'moving_variance'), ('num_batches_tracked', None))


def units() -> List[Tuple[str, str]]:
  """(pytorch-i3d unit, release unit) of every unit with batch norm, in pytorch-i3d's
  order."""
  pairs = [(name, name) for name in STEM]
  for block in INCEPTION_BLOCKS:
    for branch, release in BRANCHES:
      release = f'{block}/{release}'
      pairs.append((f'{block}.{branch}', QUIRKS.get(release, release)))
  return pairs


def state_dict_names() -> List[str]:
  """Every entry of pytorch-i3d's `state_dict()`, in its order (the logits first: the
  module assigns them before the endpoints)."""
  names = [f'{LOGITS[0]}.conv3d.weight', f'{LOGITS[0]}.conv3d.bias']
  for unit, _ in units():
    names.append(f'{unit}.conv3d.weight')
    names.extend(f'{unit}.bn.{entry}' for entry, _ in BATCH_NORM)
  return names
