"""The flow stream's training: TV-L1 cached once per video with the values `preprocess`
computes, flips that mirror the motion, and `python -m i3d.train --modality flow` from list
to a model that `classify` scores the same."""

import json

import numpy as np

from i3d.videosets.sources import Video
from i3d.preprocess import flow as flow_lib
from i3d.preprocess import pipeline
from i3d.preprocess import video as video_lib
from tests import commands
from tests.test_train import classify_top1
from tests.test_train import env
from tests.test_train import weights
from i3d.train import camera_motion
from i3d.train import data
from i3d.train.flow_cache import FlowCache
from i3d.train.recipe import Recipe

# float16 holds [-1, 1] values to half its step below 1: 2**-12.
FLOAT16_HALF_STEP = 2.0 ** -12


def small_set(folder, classes=('PanLeft', 'TiltUp'), frames=10):
  camera_motion.generate(str(folder), 1, 1, frames, (112, 84), seed=2, classes=classes)
  return folder


def test_cached_flow_is_what_preprocess_computes(tmp_path):
  folder = small_set(tmp_path / 'set')
  video = str(folder / 'PanLeft' / 'v_PanLeft_g01_c01.avi')
  cache = FlowCache(str(tmp_path / 'cache'), workers=1)
  cache.fill([Video('pan', video, 'PanLeft')], write=lambda line: None)
  cached = data.eval_flow_clip(cache.load(video))
  # What preprocess gives (its resize, crop, range and clip; the same fast TV-L1, which
  # tests/test_tvl1_fast.py holds to OpenCV's bit for bit on real frames).
  expected = pipeline.video_to_arrays(video, ['flow'], pipeline.Options(
      workers=1, progress=False))['flow']
  assert cached.shape == expected.shape == (1, 9, 224, 224, 2)
  np.testing.assert_allclose(cached, expected, rtol=0, atol=FLOAT16_HALF_STEP)
  # The whole resized frame is kept, for random crops: 84 rows to 256.
  assert cache.load(video).shape[1:] == (256, 341, 2)


def test_a_flipped_flow_clip_is_the_flow_of_the_mirrored_video(tmp_path):
  """The flip mirrors the crop and negates the horizontal component: checked against
  TV-L1 run on mirrored frames (TV-L1 is not exactly mirror-symmetric in floats)."""
  folder = small_set(tmp_path / 'set', ('PanLeft',), frames=3)
  frames = [flow_lib.to_gray(pipeline.transforms.resize(f, 'kinetics')) for f in
            video_lib.read_frames(str(folder / 'PanLeft' / 'v_PanLeft_g01_c01.avi'))]
  solver = flow_lib.TVL1()
  flow = pipeline.transforms.flow_to_unit_range(solver(frames[0], frames[1]))
  mirrored = pipeline.transforms.flow_to_unit_range(
      solver(frames[0][:, ::-1].copy(), frames[1][:, ::-1].copy()))
  def clip(seed, flip):
    recipe = Recipe(modality='flow', init='scratch', classes=('PanLeft',), num_frames=1,
                    flip=flip)
    return data.augmented_flow_clip(flow[np.newaxis], recipe, np.random.default_rng(seed))[0]

  seed = next(s for s in range(20) if not np.array_equal(clip(s, True), clip(s, False)))
  plain, flipped = clip(seed, False), clip(seed, True)
  [(y, x)] = [(y, x) for y in range(flow.shape[0] - 223) for x in range(flow.shape[1] - 223)
              if np.array_equal(plain, flow[y:y + 224, x:x + 224])]
  # The flipped clip is the mirrored video's flow at the mirrored crop.
  x_mirror = flow.shape[1] - 224 - x
  expected = mirrored[y:y + 224, x_mirror:x_mirror + 224]
  assert np.abs(flipped - expected).mean() < 0.1 * np.abs(expected).mean()
  # And the horizontal motion (a pan: large) changed sign.
  assert np.sign(flipped[..., 0].mean()) == -np.sign(plain[..., 0].mean()) != 0


def test_flow_stream_command_trains_and_classify_agrees(tmp_path):
  folder = small_set(tmp_path / 'set')
  cache = tmp_path / 'cache'

  def train(output, *extra):
    return commands.run(
        ['-m', 'i3d.train', '--train_list', str(folder / 'trainlist01.txt'),
         '--eval_list', str(folder / 'testlist01.txt'), '--video_dir', str(folder),
         '--labels', str(folder / 'classInd.txt'), '--modality', 'flow', '--init',
         'scratch', '--flow_cache_dir', str(cache), '--output_dir', str(output),
         '--num_frames', '9', '--batch_size', '2', '--steps', '2', '--freeze_batch_norm',
         '--noflip', '--log_every', '1', *extra], env=env(), timeout=900)

  result = train(tmp_path / 'run')
  assert result.returncode == 0, result.stderr
  lines = result.stdout.strip().splitlines()
  assert 'flow: computing TV-L1 (fast) for 4 of 4 videos' in result.stdout
  top1 = float(lines[-1].split('eval top-1: ')[1])
  summary = json.loads((tmp_path / 'run' / 'train.json').read_text())
  assert summary['modality'] == 'flow' and summary['metrics']['top1'] == top1
  assert weights(tmp_path / 'run')[
      'Flow/inception_i3d/Conv3d_1a_7x7/conv_3d/w'].shape == (7, 7, 7, 2, 64)

  # Another run on the same videos reuses the cache (one step is enough to show it).
  again = train(tmp_path / 'again', '--seed', '1', '--steps', '1')
  assert again.returncode == 0, again.stderr
  assert 'computing TV-L1' not in again.stdout

  assert classify_top1(folder, tmp_path / 'run', tmp_path / 'scored') == top1

  refused = train(tmp_path / 'rgb_init', '--init', 'rgb_imagenet')
  assert refused.returncode == 1
  assert refused.stderr.strip().endswith(
      '--init rgb_imagenet is a rgb network, not flow (--modality)')
