"""preprocess/ on the real sample video and on videos made from it or synthesised."""

import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from i3d import preprocess
from i3d.preprocess import flow as flow_lib
from i3d.preprocess import gif
from i3d.preprocess import sample
from i3d.preprocess import transforms
from i3d.preprocess.npy_writer import NpyWriter
from tests.conftest import ROOT


def write_video(path, frames, fps, fourcc='FFV1'):
  """Writes RGB uint8 frames; FFV1 is lossless, so decoded frames are exact."""
  height, width = frames[0].shape[:2]
  writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*fourcc), fps, (width, height))
  assert writer.isOpened()
  for frame in frames:
    writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
  writer.release()
  return path


def decode_all(path):
  capture = cv2.VideoCapture(path)
  frames = []
  while True:
    ok, frame = capture.read()
    if not ok:
      return frames
    frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))


@pytest.fixture(scope='module')
def sample_video():
  return sample.sample_video()


def numbered_frames(count, size=(48, 64)):
  """Uniform frames whose value is 4 x their index, to tell which one was picked."""
  return [np.full(size + (3,), 4 * i, np.uint8) for i in range(count)]


@pytest.mark.parametrize('source_fps, count, expected_count', [
    (30, 60, 50), (10, 20, 50), (25, 30, 30), (50, 40, 20)])
def test_resampling_picks_the_closest_source_frame(source_fps, count, expected_count,
                                                   tmp_path):
  path = write_video(str(tmp_path / 'v.avi'), numbered_frames(count), source_fps)
  picked = [int(f[0, 0, 0]) // 4 for f in preprocess.read_frames(path)]
  assert len(picked) == expected_count
  # Output k stands for time k / 25: the closest source frame is round(k * fps / 25).
  closest = [min(int(np.floor(k * source_fps / 25 + 0.5)), count - 1)
             for k in range(expected_count)]
  assert picked == closest


def test_clip_times_select_the_frames_within(tmp_path):
  path = write_video(str(tmp_path / 'v.avi'), numbered_frames(50), 25)
  picked = [int(f[0, 0, 0]) // 4 for f in preprocess.read_frames(path, start=0.4, end=1.2)]
  assert picked == list(range(10, 30))


def test_sample_resampled_from_30fps_has_the_25fps_count(sample_video, tmp_path):
  """A real video re-encoded at 30 fps: 90 frames (3 s) become 75."""
  frames = decode_all(sample_video)[:90]
  path = write_video(str(tmp_path / 'bunny30.mp4'), frames, 30, fourcc='mp4v')
  out = list(preprocess.read_frames(path))
  assert len(out) == 75
  assert out[0].shape == (720, 1280, 3)


def test_shorter_side_resize_in_both_orientations():
  assert transforms.resize_shorter_side(np.zeros((720, 1280, 3), np.uint8)).shape == (
      256, 455, 3)
  assert transforms.resize_shorter_side(np.zeros((1280, 720, 3), np.uint8)).shape == (
      455, 256, 3)


@pytest.mark.parametrize('size, expected', [
    ((720, 1280), (256, 454)),   # 16:9: no crop; 455.1 rounded down to even.
    ((500, 2000), (256, 454)),   # 4:1: cropped to 16:9 (888 wide) first.
    ((1280, 360), (256, 144)),   # Narrower than 9:16: cropped to 640 high first.
    ((144, 176), (256, 312)),    # Enlarged (cubic): 312.9 rounded down to even.
])
def test_mediapipe_resize(size, expected):
  assert transforms.resize_mediapipe(np.zeros(size + (3,), np.uint8)).shape == expected + (3,)


def test_mediapipe_flow_quantisation():
  flow = np.array([-25.0, -20.0, 0.0, 7.3, 20.0, 30.0], np.float32)
  stored = np.floor(np.clip((flow + 20) / 40, 0, 1) * 255)
  np.testing.assert_allclose(transforms.quantize_flow_mediapipe(flow),
                             stored / 255 * 40 - 20, rtol=0, atol=1e-5)
  assert np.abs(transforms.quantize_flow_mediapipe(np.float32([5.0])) - 5.0) < 40 / 255


def test_centre_crop_position(tmp_path):
  """A 256x320 video needs no resize; the crop starts at (16, 48)."""
  yy, xx = np.mgrid[0:256, 0:320]
  frame = np.stack([yy % 256, xx % 256, (xx // 256) * 100], axis=-1).astype(np.uint8)
  path = write_video(str(tmp_path / 'grid.avi'), [frame] * 10, 25)
  arrays = preprocess.video_to_arrays(path, ['rgb'])
  first = np.round((arrays['rgb'][0, 0] + 1) * 127.5).astype(np.uint8)
  np.testing.assert_array_equal(first, frame[16:240, 48:272])
  assert transforms.centre_crop_offset((256, 455)) == (16, 115)


def test_random_crop_is_seeded_and_shared_by_rgb_and_flow():
  rng = np.random.default_rng(3)
  offsets = {transforms.random_crop_offset((256, 455), np.random.default_rng(3))
             for _ in range(3)}
  assert len(offsets) == 1
  y, x = transforms.random_crop_offset((256, 455), rng)
  assert 0 <= y <= 32 and 0 <= x <= 231


def test_sample_rgb_equals_a_direct_opencv_formulation(sample_video):
  """Shorter side to 256 (bilinear, in float), centre crop, rescale: within 1/255."""
  options = preprocess.Options(end=0.4)
  arrays = preprocess.video_to_arrays(sample_video, ['rgb'], options)
  assert arrays['rgb'].shape == (1, 10, 224, 224, 3) and arrays['rgb'].dtype == np.float32
  for k, frame in enumerate(decode_all(sample_video)[:10]):  # The source is 25 fps.
    resized = cv2.resize(frame.astype(np.float32), (455, 256), interpolation=cv2.INTER_LINEAR)
    expected = resized[16:240, 115:339] / 255 * 2 - 1
    np.testing.assert_allclose(arrays['rgb'][0, k], expected, rtol=0, atol=1 / 255)


def test_sample_flow_equals_direct_tvl1_calls(sample_video):
  items = list(preprocess.iter_inputs(sample_video, ['flow'], preprocess.Options(end=0.12)))
  assert [sorted(i) for i in items] == [[], ['flow'], ['flow']]
  frames = decode_all(sample_video)[:3]
  gray = [cv2.cvtColor(cv2.resize(f, (455, 256), interpolation=cv2.INTER_LINEAR),
                       cv2.COLOR_RGB2GRAY) for f in frames]
  for t in range(2):
    direct = cv2.optflow.DualTVL1OpticalFlow_create().calc(gray[t], gray[t + 1], None)
    expected = np.clip(direct, -20, 20)[16:240, 115:339] / 20
    np.testing.assert_allclose(items[t + 1]['flow'], expected, rtol=0, atol=1e-5)


def test_tvl1_recovers_a_known_translation():
  rng = np.random.default_rng(0)
  texture = cv2.GaussianBlur(rng.uniform(0, 255, (160, 200)).astype(np.float32), (0, 0), 2)
  texture = cv2.normalize(texture, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
  dx, dy = 3, -2
  moved = np.roll(texture, (dy, dx), axis=(0, 1))
  flow = flow_lib.TVL1()(texture, moved)
  interior = flow[20:-20, 20:-20]
  np.testing.assert_allclose(np.median(interior, axis=(0, 1)), [dx, dy], atol=0.1)


def test_pipeline_flow_of_a_moving_video_has_the_motion(tmp_path):
  """Through the whole pipeline: 2 px per frame to the right is +0.1 in x, 0 in y."""
  rng = np.random.default_rng(1)
  texture = cv2.GaussianBlur(rng.uniform(0, 255, (256, 400, 3)).astype(np.float32), (0, 0), 2)
  texture = cv2.normalize(texture, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
  frames = [np.roll(texture, 2 * t, axis=1) for t in range(4)]
  path = write_video(str(tmp_path / 'pan.avi'), frames, 25)
  flows = [i['flow'] for i in preprocess.iter_inputs(path, ['flow']) if 'flow' in i]
  assert len(flows) == 3
  for flow in flows:
    np.testing.assert_allclose(np.median(flow, axis=(0, 1)), [2 / 20, 0], atol=0.01)


def test_ranges_and_shapes_of_the_provisioned_sample():
  prefix = sample.provision()
  rgb = np.load(f'{prefix}_rgb.npy', mmap_mode='r')
  flow = np.load(f'{prefix}_flow.npy', mmap_mode='r')
  assert rgb.shape == (1, 132, 224, 224, 3) and rgb.dtype == np.float32
  assert flow.shape == (1, 131, 224, 224, 2) and flow.dtype == np.float32
  assert -1 <= rgb.min() < -0.9 and 0.9 < rgb.max() <= 1
  assert -1 <= flow.min() and flow.max() <= 1 and np.abs(flow).mean() > 1e-3
  for modality in ('rgb', 'flow'):
    assert open(f'{prefix}_{modality}.gif', 'rb').read(6) == b'GIF89a'


def test_gif_previews_follow_the_release_mapping():
  rgb = np.array([[[[-1.0, 0.0, 1.0]]]], np.float32)
  np.testing.assert_array_equal(gif.rgb_preview(rgb), [[[[0, 128, 255]]]])
  flow = np.array([[[[-1.0, 0.25]]]], np.float32)
  np.testing.assert_array_equal(gif.flow_preview(flow), [[[[0, 191, 128]]]])


def test_npy_writer_streams_a_loadable_array(tmp_path):
  path = str(tmp_path / 'a.npy')
  frames = np.random.default_rng(0).standard_normal((7, 4, 5, 2)).astype(np.float32)
  with NpyWriter(path, (4, 5, 2)) as writer:
    for frame in frames:
      writer.append(frame)
  np.testing.assert_array_equal(np.load(path), frames[np.newaxis])
  with pytest.raises(RuntimeError):
    with NpyWriter(str(tmp_path / 'b.npy'), (4, 5, 2)) as writer:
      writer.append(frames[0])
      raise RuntimeError('interrupted')
  assert os.listdir(tmp_path) == ['a.npy']


def run_cli(*args):
  return subprocess.run([sys.executable, '-m', 'preprocess', *args], cwd=ROOT,
                        capture_output=True, text=True, check=False)


def test_cli_writes_the_arrays_and_gifs(tmp_path):
  frames = decode_all(sample.sample_video())[:12]
  video = write_video(str(tmp_path / 'clip.mp4'), frames, 25, fourcc='mp4v')
  result = run_cli('--video', video, '--out_prefix', str(tmp_path / 'out' / 'clip'))
  assert result.returncode == 0, result.stderr
  written = sorted(os.listdir(tmp_path / 'out'))
  assert written == ['clip_flow.gif', 'clip_flow.npy', 'clip_rgb.gif', 'clip_rgb.npy']
  assert np.load(tmp_path / 'out' / 'clip_rgb.npy').shape == (1, 12, 224, 224, 3)
  assert np.load(tmp_path / 'out' / 'clip_flow.npy').shape == (1, 11, 224, 224, 2)


def bad_inputs(tmp_path):
  text = tmp_path / 'notes.mp4'
  text.write_text('not a video\n')
  empty = str(tmp_path / 'empty.avi')
  cv2.VideoWriter(empty, cv2.VideoWriter_fourcc(*'FFV1'), 25, (64, 48)).release()
  short = write_video(str(tmp_path / 'short.avi'), numbered_frames(5, (256, 300)), 25)
  truncated = tmp_path / 'truncated.mp4'
  truncated.write_bytes(open(sample.sample_video(), 'rb').read()[:2000])
  return {
      'missing': (str(tmp_path / 'absent.mp4'), 'no such file'),
      'text': (str(text), 'not a video OpenCV can open'),
      'empty': (empty, 'not a video OpenCV can open|no frame could be decoded'),
      'short': (short, 'too short, 5 rgb frames'),
      'truncated': (str(truncated), 'not a video OpenCV can open|no frame could be decoded'),
  }


@pytest.mark.parametrize('case', ['missing', 'text', 'empty', 'short', 'truncated'])
def test_cli_bad_input_gets_one_line_and_leaves_nothing(case, tmp_path):
  video, message = bad_inputs(tmp_path)[case]
  out = tmp_path / 'out'
  result = run_cli('--video', video, '--out_prefix', str(out / 'x'))
  assert result.returncode == 1
  lines = [line for line in result.stderr.splitlines() if line.startswith('preprocess:')]
  assert len(lines) == 1 and video in lines[0], result.stderr
  assert any(m in lines[0] for m in message.split('|')), lines[0]
  assert not out.exists() or os.listdir(out) == []


def test_too_short_names_the_rate_it_was_counted_at(tmp_path):
  # 3 frames at 10 fps: 8 at the network's 25 fps, still 3 at the video's own rate.
  short = write_video(str(tmp_path / 'short.avi'), numbered_frames(3, (256, 300)), 10)
  for fps, words in (('native', "3 rgb frames at the video's own rate"),
                     (25, '8 rgb frames at 25 fps')):
    with pytest.raises(preprocess.VideoError) as raised:
      preprocess.video_to_arrays(short, ['rgb'], preprocess.Options(fps=fps, progress=False))
    assert str(raised.value) == (
        f'{short}: too short, {words} where the network needs at least 9')


@pytest.mark.parametrize('flow_impl', ['fast', 'opencv'])
def test_flow_on_several_workers_equals_one(sample_video, flow_impl):
  """Frame pairs are independent: spreading them over workers (threads for the fast
  TV-L1, processes for OpenCV's) changes nothing."""
  options = dict(end=0.24, flow_impl=flow_impl)
  single = [i['flow'] for i in preprocess.iter_inputs(
      sample_video, ['flow'], preprocess.Options(workers=1, **options)) if 'flow' in i]
  several = [i['flow'] for i in preprocess.iter_inputs(
      sample_video, ['flow'], preprocess.Options(workers=3, **options)) if 'flow' in i]
  assert len(single) == len(several) == 5
  for a, b in zip(single, several):
    np.testing.assert_array_equal(a, b)
