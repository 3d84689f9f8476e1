"""The fast TV-L1 against OpenCV's: the same flow, bit for bit, on real frames of every
sample video, on small and blank images, and through `python -m preprocess`; and the
stopping test decided as OpenCV's float32 sum decides it."""

import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from i3d.preprocess import flow as flow_lib
from i3d.preprocess import sample
from i3d.preprocess import transforms
from i3d.preprocess import tvl1_fast
from i3d.preprocess import video as video_lib
from tests.conftest import ROOT

SAMPLES = ('bigbuckbunny.mp4', 'bikes.mp4', 'carphone_distorted.mp4',
           'carphone_pristine.mp4')


def opencv_tvl1(previous, current):
  return cv2.optflow.DualTVL1OpticalFlow_create().calc(previous, current, None)


def gray_frames(name, first, count):
  frames = []
  for index, frame in enumerate(video_lib.read_frames(
      os.path.join(sample.sample_videos(), name))):
    if index >= first:
      frames.append(flow_lib.to_gray(transforms.resize(frame, 'kinetics')))
    if len(frames) == count:
      return frames
  raise AssertionError(f'{name} is shorter than {first + count} frames')


@pytest.mark.parametrize('name', SAMPLES)
def test_same_flow_as_opencv_on_real_frames(name):
  previous, current = gray_frames(name, 40, 2)
  np.testing.assert_array_equal(tvl1_fast.tvl1(previous, current),
                                opencv_tvl1(previous, current))


@pytest.mark.parametrize('shape', [(20, 24), (37, 53), (12, 200)])
def test_same_flow_as_opencv_on_small_images(shape, rng):
  """Pyramids cut short (sides below 16 stop them), odd sides, one level."""
  previous = rng.integers(0, 256, shape, dtype=np.uint8)
  current = np.roll(previous, (1, 2), axis=(0, 1))
  np.testing.assert_array_equal(tvl1_fast.tvl1(previous, current),
                                opencv_tvl1(previous, current))


def test_blank_frames_give_zero_flow_like_opencv():
  """No gradient anywhere: the thresholding step's division by zero is not taken."""
  blank = np.full((40, 50), 128, np.uint8)
  flow = tvl1_fast.tvl1(blank, blank)
  np.testing.assert_array_equal(flow, opencv_tvl1(blank, blank))
  assert not flow.any()


def test_the_stopping_sum_decides_as_opencvs_float32_sum():
  """Where float32's serial sum and the exact sum fall on either side of the threshold,
  OpenCV's float32 sum decides: 2^24 followed by ones stays 2^24 in float32."""
  terms = np.ones((1, 1000), np.float32)
  terms[0, 0] = 2.0 ** 24
  exact = 2.0 ** 24 + 999
  threshold = np.float32(2.0 ** 24 + 500)
  assert tvl1_fast._sum(terms) == exact > threshold  # pylint: disable=protected-access
  assert tvl1_fast._serial_float32_sum(terms) == 2.0 ** 24 < threshold  # pylint: disable=protected-access
  assert not tvl1_fast.still_above(terms, threshold)
  assert tvl1_fast.still_above(terms, np.float32(2.0 ** 24 - 500))
  # Far from the threshold the float64 sum decides alone.
  assert tvl1_fast.still_above(terms, np.float32(1e6))
  assert not tvl1_fast.still_above(terms, np.float32(1e9))


def test_preprocess_command_writes_the_same_flow_with_either(tmp_path):
  video = os.path.join(sample.sample_videos(), 'bigbuckbunny.mp4')
  for impl in ('fast', 'opencv'):
    result = subprocess.run(
        [sys.executable, '-m', 'preprocess', '--video', video, '--out_prefix',
         str(tmp_path / impl), '--modalities', 'flow', '--flow_impl', impl, '--end_sec',
         '0.4', '--nogif'], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
  fast, opencv = (np.load(tmp_path / f'{impl}_flow.npy') for impl in ('fast', 'opencv'))
  assert fast.shape == (1, 9, 224, 224, 2)
  np.testing.assert_array_equal(fast, opencv)
