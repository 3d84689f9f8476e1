"""FVD's protocols, draws, resize variants and published values: the drawing rules, each
resize against a NumPy formulation, the command on the sample videos against clips cut
here from frames decoded with OpenCV, saved statistics and their refusals."""

import os

import cv2
import numpy as np
import pytest
import tensorflow as tf

from i3d import fvd
from i3d import provision
from i3d.fvd import embedding
from i3d.fvd import inputs
from i3d.fvd import protocols
from i3d.preprocess import sample
from tests import commands
from tests import reference

PROTOCOL_16 = protocols.PROTOCOLS['fvd2048_16f']


def test_protocols_are_stylegan_v_definitions():
  spans = {name: (p.clips, p.frames, p.stride, p.span)
           for name, p in protocols.PROTOCOLS.items()}
  assert spans == {'fvd2048_16f': (2048, 16, 1, 16), 'fvd2048_128f': (2048, 128, 1, 128),
                   'fvd2048_128f_subsample8f': (2048, 16, 8, 128)}


def test_clips_are_drawn_uniformly_over_videos_then_starts():
  lengths = [10, 140, 16, 20]  # The first is too short for 16 frames.
  draw = protocols.draw_clips(lengths, PROTOCOL_16, seed=0, side='real')
  assert draw.eligible == 3 and draw.with_replacement and len(draw.clips) == 2048
  videos = np.array([v for v, _ in draw.clips])
  counts = np.bincount(videos, minlength=4)
  assert counts[0] == 0 and all(abs(c - 2048 / 3) < 4 * np.sqrt(2048 / 3) for c in counts[1:])
  for video, frames in draw.clips:
    assert frames == tuple(range(frames[0], frames[0] + 16))
    assert 0 <= frames[0] <= lengths[video] - 16
  starts = [f[0] for v, f in draw.clips if v == 1]
  assert set(starts) == set(range(125))  # Every start of the long video comes up.
  assert protocols.draw_clips(lengths, PROTOCOL_16, 0, 'real') == draw
  assert protocols.draw_clips(lengths, PROTOCOL_16, 1, 'real') != draw
  assert protocols.draw_clips(lengths, PROTOCOL_16, 0, 'generated') != draw
  # Enough videos: each at most once.
  many = protocols.draw_clips([16] * 3000, PROTOCOL_16, 0, 'real')
  assert not many.with_replacement and len({v for v, _ in many.clips}) == 2048
  sub8 = protocols.draw_clips([128, 200], protocols.PROTOCOLS['fvd2048_128f_subsample8f'],
                              0, 'real')
  assert all(np.all(np.diff(f) == 8) and len(f) == 16 and f[-1] <= [128, 200][v] - 8
             for v, f in sub8.clips)
  with pytest.raises(ValueError, match='no video holds the 128 frames'):
    protocols.draw_clips([100, 127], protocols.PROTOCOLS['fvd2048_128f'], 0, 'real', 'x')


def test_frames_from_a_longer_video():
  rng = np.random.default_rng(0)
  assert protocols.frame_indices(40, 16, 'start', rng) == tuple(range(16))
  # linspace(0, 39, 16) rounded down: 0, 2.6, 5.2, ... 39.
  assert protocols.frame_indices(40, 16, 'uniform', rng) == (
      0, 2, 5, 7, 10, 13, 15, 18, 20, 23, 26, 28, 31, 33, 36, 39)
  random = protocols.frame_indices(40, 16, 'random', rng)
  assert random == tuple(range(random[0], random[0] + 16)) and random[0] <= 24


def half_pixel_bilinear(frames, size):
  """PyTorch's `interpolate(mode='bilinear', align_corners=False)`, written out."""
  def axis(n_in):
    position = np.clip((np.arange(size) + 0.5) * n_in / size - 0.5, 0, n_in - 1)
    low = np.floor(position).astype(int)
    return low, np.minimum(low + 1, n_in - 1), position - low
  y0, y1, fy = axis(frames.shape[1])
  x0, x1, fx = axis(frames.shape[2])
  rows = (frames[:, y0] * (1 - fy)[None, :, None, None] +
          frames[:, y1] * fy[None, :, None, None])
  return rows[:, :, x0] * (1 - fx)[None, None, :, None] + rows[:, :, x1] * fx[None, None, :, None]


def area(frames, size):
  """Each output pixel the mean of the input area it covers: overlap weights."""
  def weights(n_in):
    scale = n_in / size
    w = np.zeros((size, n_in))
    for o in range(size):
      low, high = o * scale, (o + 1) * scale
      for i in range(int(np.floor(low)), min(int(np.ceil(high)), n_in)):
        w[o, i] = (min(high, i + 1) - max(low, i)) / scale
    return w
  wy, wx = weights(frames.shape[1]), weights(frames.shape[2])
  return np.einsum('oh,thwc,pw->topc', wy, frames, wx, optimize=True)


@pytest.mark.parametrize('shape', [(2, 37, 53, 3), (1, 448, 300, 3), (1, 64, 64, 3)])
def test_resize_variants_equal_their_formulations(shape):
  frames = np.random.default_rng(1).integers(0, 256, shape).astype(np.float32)
  # TF computes sample positions and weights in float32: up to 1e-4 of the range off
  # where neighbouring pixels differ by the whole range.
  half = embedding.resize_frames(tf.constant(frames), 'half_pixel_bilinear').numpy()
  np.testing.assert_allclose(half, half_pixel_bilinear(frames.astype(np.float64), 224),
                             atol=255e-4)
  ours = embedding.resize_frames(tf.constant(frames), 'area').numpy()
  np.testing.assert_allclose(ours, area(frames.astype(np.float64), 224), atol=255e-4)
  # TF2's tf.image.resize without antialias is the half-pixel variant.
  tf2 = tf.image.resize(frames, (224, 224), method='bilinear', antialias=False).numpy()
  np.testing.assert_allclose(half, tf2, atol=1e-3)


@pytest.fixture(scope='module')
def embedder():
  provision.provision()
  return fvd.Embedder()


@pytest.mark.parametrize('frames, published', [(15, 134.24), (16, 153.110), (24, 66.081),
                                               (30, 151.168)])
def test_published_values_of_constant_videos(embedder, frames, published):
  """All-zero against all-one videos (64x64, in [0, 1]) through StyleGAN-V's torchscript
  conversion of the same TF-Hub network, as JunyaoHu/common_metrics_on_video_quality's
  README publishes them (16 x 15 frames: 134.24; 8 x 30 frames, on the first 16, 24 and
  30: 153.11, 66.08, 151.17). Constant frames resize to the same constants whatever
  the resize; the port's own conversion and kernels move the values by up to 0.32%
  (measured: 133.909, 152.901, 66.292, 151.392)."""
  zeros = np.zeros([2, frames, 64, 64, 3], np.float32)  # Any count: equal videos.
  value = fvd.fvd_of_arrays(zeros, zeros + 1, input_range='0-1', embedder=embedder)
  assert value == pytest.approx(published, rel=5e-3)


def decode(path):
  capture = cv2.VideoCapture(path)
  frames = []
  while True:
    ok, bgr = capture.read()
    if not ok:
      return np.stack(frames)
    frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))


def run_fvd(*args):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='3')
  return commands.run(['-m', 'i3d.fvd', *args], env=env)


def test_protocol_on_the_sample_videos_with_draws_and_saved_statistics(embedder, tmp_path):
  # Two real and two generated videos, three clips a draw: each side draws with
  # replacement (fewer videos than clips).
  sides = {'real': ('bigbuckbunny.mp4', 'carphone_pristine.mp4'),
           'generated': ('bikes.mp4', 'carphone_distorted.mp4')}
  for side, names in sides.items():
    (tmp_path / side).mkdir()
    for name in names:
      os.symlink(os.path.join(sample.sample_videos(), name), tmp_path / side / name)
  videos, generated = str(tmp_path / 'real'), tmp_path / 'generated'
  args = ['--protocol', 'fvd2048_16f', '--clips', '3', '--seed', '0', '--draws', '2']
  result = run_fvd(*args, '--real', videos, '--generated', str(generated), '--save_stats',
                   str(tmp_path / 'real.npz'))
  assert result.returncode == 0, result.stderr
  lines = result.stdout.strip().splitlines()
  assert lines[0].startswith('protocol: fvd2048_16f: 3 clips of 16 consecutive frames')
  assert sum('drawn with replacement' in line for line in lines) == 2  # Once a side.
  assert lines[-1].startswith('FVD: ')
  draws = [float(x.split()[-1]) for x in lines if x.startswith('FVD of the draw of seed')]
  assert len(draws) == 2 and float(lines[-1].split()[1]) == pytest.approx(np.mean(draws),
                                                                         abs=1e-4)

  # Independently: lengths and frames decoded here, clips cut with NumPy.
  decoded = {side: [decode(str(tmp_path / side / n)) for n in names]
             for side, names in sides.items()}
  protocol = protocols.PROTOCOLS['fvd2048_16f']
  protocol = protocols.Protocol(protocol.name, 3, 16, 1, protocol.source)
  for k, seed in enumerate((0, 1)):
    stats = {}
    for side, frames in decoded.items():
      draw = protocols.draw_clips([len(f) for f in frames], protocol, seed, side)
      clips = [frames[v][list(f)] for v, f in draw.clips]
      stats[side] = fvd.Statistics.of(embedder.embed_batch(clips))
    expected = fvd.frechet_distance(stats['real'], stats['generated'])
    assert draws[k] == pytest.approx(expected, rel=1e-4)

  again = run_fvd(*args, '--real', str(tmp_path / 'real.npz'), '--generated', str(generated))
  assert again.returncode == 0, again.stderr
  assert again.stdout.strip().splitlines()[-1] == lines[-1]
  other = run_fvd('--protocol', 'fvd2048_128f', '--clips', '3', '--real',
                  str(tmp_path / 'real.npz'), '--generated', str(generated))
  assert other.returncode == 1
  assert other.stderr.strip() == (
      f"python -m i3d.fvd: {tmp_path / 'real.npz'}: statistics of protocol 'fvd2048_16f', "
      "but this run has 'fvd2048_128f'; statistics compare only under the same protocol")


def test_frames_from_uniform_equals_the_clips_cut_beforehand(embedder):
  videos = np.random.default_rng(2).integers(0, 256, (3, 40, 32, 32, 3), np.uint8)
  taken = inputs.Selected(fvd.array_set('a', videos, 16), 'uniform', 0, 'real')
  indices = np.linspace(0, 39, 16).astype(int)
  ours = np.concatenate(list(embedder.embed(taken.videos(), 3)))
  np.testing.assert_allclose(ours, embedder.embed_batch(list(videos[:, indices])), rtol=1e-5,
                             atol=1e-5)


def test_shards_statistics_merge_into_the_whole_sets(embedder, tmp_path):
  from i3d.system.shards import Shard  # pylint: disable=g-import-not-at-top
  from tests.test_preprocess import write_video  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(3)
  for i in range(6):
    frames = rng.integers(0, 256, (9, 32, 32, 3), np.uint8)
    write_video(str(tmp_path / f'clip{i}.avi'), list(frames), fps=25)
  whole = fvd.embed_set(inputs.open_set(str(tmp_path), 9), embedder, 4,
                        keep_embeddings=True)
  parts = [fvd.embed_set(inputs.open_set(str(tmp_path), 9, shard=Shard(i, 2)), embedder, 4,
                         keep_embeddings=True) for i in (0, 1)]
  assert [p.statistics.count for p in parts] == [3, 3]
  # The shards hold clip1, 2, 5 and clip0, 3, 4: the same videos as the whole set, whose
  # embeddings come from other batches (4 + 2 against 3 + 3), so they agree to float32
  # rounding through the network, not bit for bit (tests/README.md, tolerances).
  union = np.concatenate([p.embeddings for p in parts])
  reference.assert_close_across_batches(union, whole.embeddings[[1, 2, 5, 0, 3, 4]])
  # Merging is arithmetic on the shards' own numbers: in float64, the statistics of
  # their embeddings taken together, computed directly.
  merged = fvd.merge(parts).statistics
  direct = fvd.Statistics.of(union)
  assert merged.count == direct.count == 6
  np.testing.assert_allclose(merged.mean, direct.mean, rtol=1e-12, atol=1e-15)
  np.testing.assert_allclose(merged.scatter, direct.scatter, rtol=1e-12,
                             atol=1e-12 * np.abs(direct.scatter).max())
