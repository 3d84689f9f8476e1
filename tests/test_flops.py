"""The benchmark's FLOP count against counts worked out by hand."""

import i3d
from bench import flops


def test_one_unit_counts_its_multiply_adds():
  unit = i3d.Unit3D(8, (3, 3, 3), (2, 2, 2))
  # Output 1 x 2 x 5 x 5 x 8 (SAME, stride 2 on 4 x 10 x 9); each output sums 3*3*3*4.
  assert flops.conv_flops(lambda x, is_training: (unit(x, is_training), {}),
                          (1, 4, 10, 9, 4)) == 2 * (2 * 5 * 5 * 8) * (27 * 4)


def test_the_network_is_about_108_billion_multiply_adds_on_64_frames():
  """The figure usually quoted for I3D on a 64x224x224 clip."""
  count = flops.conv_flops(i3d.InceptionI3d(), (1, 64, 224, 224, 3))
  # The stem alone: 32*112*112*64 outputs of 7*7*7*3 multiply-adds.
  stem = 2 * 32 * 112 * 112 * 64 * 7 * 7 * 7 * 3
  assert stem < count
  assert 100e9 < count / 2 < 120e9
