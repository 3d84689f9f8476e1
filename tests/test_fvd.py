"""FVD: the distance against independent formulations, the embedding against the raw-TF
reference network on real video, its invariances, and `python -m i3d.fvd` end to end."""

import os

import cv2
import numpy as np
import pytest
import scipy.linalg
import tensorflow as tf

from i3d import fvd
from i3d import provision
from i3d.fvd import embedding
from i3d.fvd import saved
from i3d.catalogue import paths
from i3d.preprocess import sample
from i3d.preprocess import video as video_lib
from tests import commands
from tests import reference
from tests.test_checkpoint import unscoped
from tests.test_preprocess import write_video

# The reference's example (16 videos of zeros against 16 of 255, 15 frames of 64x64),
# whose comment says "around 131". Every embedding of a set is the same, so both
# covariances are 0 and the FVD is the squared distance between the two embeddings;
# `test_the_reference_example` recomputes that distance with the raw-TF network.
REFERENCE_EXAMPLE_FVD = 133.9089


# ---------------------------------------------------------------- the distance


def independent_fvd(x, y):
  """FVD from its definition, through scipy's general matrix square root."""
  x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
  s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
  root = scipy.linalg.sqrtm(s1 @ s2)
  return float(np.sum((x.mean(0) - y.mean(0)) ** 2) + np.trace(s1 + s2) -
               2 * np.trace(root).real)


def eigen_fvd(x, y):
  """FVD with Tr(sqrt(S1 S2)) as the sum of the roots of the eigenvalues of S1 S2."""
  x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
  s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
  eigenvalues = np.linalg.eigvals(s1 @ s2).real.clip(min=0)
  return float(np.sum((x.mean(0) - y.mean(0)) ** 2) + np.trace(s1) + np.trace(s2) -
               2 * np.sqrt(eigenvalues).sum())


def gaussian_sets(rng, n=900, dims=400):
  """Two well-conditioned sets of 400-d embeddings, of different means and spreads."""
  mixing = rng.standard_normal((dims, dims)) / np.sqrt(dims)
  x = rng.standard_normal((n, dims)) @ (np.eye(dims) + 0.3 * mixing)
  y = 1.5 * rng.standard_normal((n + 37, dims)) @ (np.eye(dims) + 0.5 * mixing.T) + 0.2
  return x, y


def test_frechet_distance_equals_scipy_sqrtm_and_eigenvalues(rng):
  x, y = gaussian_sets(rng)
  value = fvd.frechet_distance(fvd.Statistics.of(x), fvd.Statistics.of(y))
  assert value == pytest.approx(independent_fvd(x, y), rel=1e-6)
  assert value == pytest.approx(eigen_fvd(x, y), rel=1e-6)


def test_frechet_distance_properties(rng):
  x, y = gaussian_sets(rng)
  sx, sy = fvd.Statistics.of(x), fvd.Statistics.of(y)
  assert abs(fvd.frechet_distance(sx, sx)) < 1e-6 * np.trace(sx.covariance)
  assert fvd.frechet_distance(sx, sy) == pytest.approx(fvd.frechet_distance(sy, sx),
                                                       rel=1e-9)
  # Order does not matter; shards merged give the statistics of one pass.
  shuffled = fvd.Statistics.of(rng.permutation(x))
  shards = fvd.Statistics.of(x[:1]).merge(fvd.Statistics.of(x[1:300])).merge(
      fvd.Statistics.of(x[300:]))
  for other in (shuffled, shards):
    assert other.count == len(x)
    np.testing.assert_allclose(other.mean, sx.mean, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(other.covariance, np.cov(x, rowvar=False), atol=1e-10)
    assert fvd.frechet_distance(other, sy) == pytest.approx(
        fvd.frechet_distance(sx, sy), rel=1e-9)


def test_a_known_value():
  """Two 1-d sets: FVD = (m1 - m2)^2 + s1 + s2 - 2 sqrt(s1 s2) = (m1 - m2)^2 +
  (sigma1 - sigma2)^2, for sets {0, 2} (mean 1, variance 2) and {5, 9} (7, 8)."""
  value = fvd.frechet_distance(fvd.Statistics.of([[0.], [2.]]),
                               fvd.Statistics.of([[5.], [9.]]))
  assert value == pytest.approx(36 + (np.sqrt(2) - np.sqrt(8)) ** 2, rel=1e-12)


def explicit_mmd(x, y):
  """The unbiased MMD^2 with k(a, b) = (a.b / d + 1)^3, pair by pair."""
  d = x.shape[1]

  def k(a, b):
    return (np.dot(a, b) / d + 1) ** 3

  m, n = len(x), len(y)
  xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
  yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
  xy = sum(k(a, b) for a in x for b in y) / (m * n)
  return xx + yy - 2 * xy


def test_kernel_distance_equals_the_pairwise_sums(rng):
  x, y = rng.standard_normal((9, 6)), rng.standard_normal((7, 6)) + 0.5
  value, error = fvd.kernel_distance(x, y)
  assert value == pytest.approx(explicit_mmd(x, y), rel=1e-10)
  assert np.isnan(error)  # One block: no spread to measure.
  # Blocks of at most 4: 3 blocks, 9 rows as 3+3+3 and 7 as 2+2+3 (larger ones last).
  value, error = fvd.kernel_distance(x, y, max_block_size=4)
  blocks = [explicit_mmd(x[0:3], y[0:2]), explicit_mmd(x[3:6], y[2:4]),
            explicit_mmd(x[6:9], y[4:7])]
  assert value == pytest.approx(np.mean(blocks), rel=1e-10)
  assert error == pytest.approx(np.std(blocks, ddof=1) / np.sqrt(3), rel=1e-10)


# ---------------------------------------------------------------- the embedding


def legacy_bilinear(frames, height, width):
  """TF1's bilinear resize (align_corners=False, half_pixel_centers=False) in NumPy:
  output pixel i samples input position i * in / out, clamped at the last pixel."""
  frames = np.asarray(frames, np.float64)

  def weights(n_in, n_out):
    position = np.arange(n_out) * (n_in / n_out)
    low = np.floor(position).astype(int)
    return low, np.minimum(low + 1, n_in - 1), position - low

  y0, y1, fy = weights(frames.shape[-3], height)
  x0, x1, fx = weights(frames.shape[-2], width)
  rows = (frames[..., y0, :, :] * (1 - fy)[:, None, None] +
          frames[..., y1, :, :] * fy[:, None, None])
  return rows[..., x0, :] * (1 - fx)[:, None] + rows[..., x1, :] * fx[:, None]


def reference_embeddings(videos, weights):
  """The reference recipe with the independent network: [N, 400] float64."""
  rows = []
  for video in videos:
    frames = legacy_bilinear(video, 224, 224).astype(np.float32)
    rows.append(reference.logits(2. * frames[None] / 255. - 1, weights)[0])
  return np.array(rows, np.float64)


def test_resize_is_tf1_bilinear(rng):
  frames = rng.integers(0, 256, (3, 37, 53, 3)).astype(np.float32)
  ours = embedding.resize_frames(tf.constant(frames)).numpy()
  # TF computes the sample positions in float32: off by up to 1e-5 of the range.
  np.testing.assert_allclose(ours, legacy_bilinear(frames, 224, 224), atol=255e-5)
  # At 224x224 the resize is the identity.
  same = rng.integers(0, 256, (2, 224, 224, 3)).astype(np.float32)
  np.testing.assert_array_equal(embedding.resize_frames(tf.constant(same)).numpy(), same)


@pytest.fixture(scope='module')
def weights():
  provision.provision()
  reader = tf.train.load_checkpoint(
      os.path.join(paths.checkpoint_dir(), 'rgb_imagenet', 'model.ckpt'))
  return unscoped({k: reader.get_tensor(k) for k in reader.get_variable_to_shape_map()})


@pytest.fixture(scope='module')
def embedder():
  provision.provision()
  return fvd.Embedder()


def clips(name, count, frames=9, size=(72, 96)):
  """`count` consecutive clips of a real sample video, shrunk to `size` (H, W), uint8."""
  path = os.path.join(paths.samples_dir(), 'videos', name)
  decoded = list(video_lib.read_frames(path, fps=video_lib.probe(path).fps,
                                       end=count * frames / video_lib.probe(path).fps))
  small = [cv2.resize(f, size[::-1], interpolation=cv2.INTER_AREA) for f in decoded]
  return np.stack(small[:count * frames]).reshape(count, frames, *size, 3)


@pytest.fixture(scope='module')
def real_sets():
  sample.sample_videos()
  return clips('bigbuckbunny.mp4', 8), clips('bikes.mp4', 8)


def test_embeddings_of_real_video_equal_the_reference_network(embedder, weights,
                                                             real_sets):
  videos = real_sets[0][:3]
  ours = embedder.embed_batch(list(videos))
  theirs = reference_embeddings(videos, weights)
  np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4 * np.abs(theirs).max())


def test_fvd_does_not_depend_on_batch_size_or_order(embedder, real_sets):
  a, b = real_sets
  values = []
  for batch_size, order in ((1, None), (16, None), (5, np.arange(8)[::-1])):
    ordered = a if order is None else a[order]
    values.append(fvd.fvd(
        fvd.embed_set(fvd.array_set('a', ordered), embedder, batch_size),
        fvd.embed_set(fvd.array_set('b', b), embedder, batch_size)))
  assert values[0] > 1  # Different videos: far apart.
  # Other batches: the embeddings agree to float32 rounding through the network
  # (reference.ACROSS_BATCHES_RTOL), and so does the distance of their statistics.
  np.testing.assert_allclose(values, values[0], rtol=reference.ACROSS_BATCHES_RTOL)


def test_the_reference_example(embedder, weights):
  zeros = np.zeros([16, 15, 64, 64, 3], np.float32)
  value = fvd.fvd_of_arrays(zeros, zeros + 255, input_range='0-255', embedder=embedder)
  # To the float32 network's rounding, which differs between CPUs' kernels: 133.9089 on
  # an AMD EPYC (AVX-512), 133.9090 on an Intel Xeon (AMX) and with oneDNN held to AVX2.
  assert value == pytest.approx(REFERENCE_EXAMPLE_FVD, rel=1e-5)
  # Constant videos resize to constant videos of -1 and 1: the raw-TF network's
  # embeddings of those give the same squared distance.
  low, high = (reference.logits(np.full([1, 15, 224, 224, 3], v, np.float32), weights)[0]
               for v in (-1., 1.))
  assert value == pytest.approx(np.sum((low.astype(np.float64) - high) ** 2), rel=1e-4)


# ---------------------------------------------------------------- the command


def run_fvd(*args):
  return commands.run(['-m', 'i3d.fvd', *args], env=commands.user_env())


def printed(result, key):
  lines = result.stdout.strip().splitlines()
  [line] = [x for x in lines if x.startswith(f'{key}: ')]
  return float(line.split()[1])


@pytest.fixture(scope='module')
def command_sets(real_sets, tmp_path_factory):
  """Four clips a set, as .npy files and as folders of lossless video files."""
  folder = tmp_path_factory.mktemp('fvd')
  sets = {}
  for name, videos in zip(('a', 'b'), real_sets):
    videos = videos[:4]
    np.save(folder / f'{name}.npy', videos)
    (folder / name).mkdir()
    for i, video in enumerate(videos):
      write_video(str(folder / name / f'clip{i}.avi'), list(video), fps=25)
    sets[name] = videos
  return folder, sets


def test_command_on_arrays_gives_the_reference_recipes_value(command_sets, weights):
  folder, sets = command_sets
  result = run_fvd('--real', str(folder / 'a.npy'), '--generated', str(folder / 'b.npy'),
                   '--num_frames', '9', '--batch_size', '3')
  assert result.returncode == 0, result.stderr
  assert result.stdout.strip().splitlines()[-1].startswith('FVD: ')
  assert result.stderr == ''  # Not a terminal: no progress bar, no TF chatter.
  expected = independent_fvd(reference_embeddings(sets['a'], weights),
                             reference_embeddings(sets['b'], weights))
  assert printed(result, 'FVD') == pytest.approx(expected, rel=1e-3)


def test_command_on_video_files_and_saved_statistics(command_sets, tmp_path):
  folder, _ = command_sets
  arrays = run_fvd('--real', str(folder / 'a.npy'), '--generated', str(folder / 'b.npy'),
                   '--num_frames', '9', '--kvd')
  files = run_fvd('--real', str(folder / 'a'), '--generated', str(folder / 'b' / '*.avi'),
                  '--num_frames', '9', '--save_stats', str(tmp_path / 'a.npz'), '--kvd')
  assert files.returncode == 0, files.stderr
  # Lossless files: the same frames, the same distances.
  assert printed(files, 'FVD') == pytest.approx(printed(arrays, 'FVD'), rel=1e-6)
  assert printed(files, 'KVD') == pytest.approx(printed(arrays, 'KVD'), rel=1e-5)
  assert files.stdout.strip().splitlines()[-2].startswith('KVD: ')
  stats = run_fvd('--real', str(tmp_path / 'a.npz'), '--generated', str(folder / 'b'),
                  '--num_frames', '9', '--kvd')
  assert stats.returncode == 0, stats.stderr
  assert printed(stats, 'FVD') == pytest.approx(printed(files, 'FVD'), rel=1e-9)
  assert printed(stats, 'KVD') == pytest.approx(printed(files, 'KVD'), rel=1e-9)
  # Shards, saved apart and merged, are the whole set.
  for i in (0, 1):
    np.save(tmp_path / f'part{i}.npy', np.load(folder / 'b.npy')[2 * i:2 * i + 2])
  shards = run_fvd('--real', str(tmp_path / 'a.npz'), '--generated',
                   str(tmp_path / 'part0.npy'), '--generated', str(tmp_path / 'part1.npy'),
                   '--num_frames', '9')
  # Embedded in other batches (2 + 2 against 4): to float32 rounding through the network.
  assert printed(shards, 'FVD') == pytest.approx(printed(files, 'FVD'),
                                                 rel=reference.ACROSS_BATCHES_RTOL)
  # Statistics of 9 frames compare with nothing else.
  other = run_fvd('--real', str(tmp_path / 'a.npz'), '--generated', str(folder / 'b'),
                  '--num_frames', '10')
  assert other.returncode == 1
  assert other.stderr.strip() == (
      f'python -m i3d.fvd: {folder / "b"}: num_frames 10, but {tmp_path / "a.npz"} has 9; '
      'sets compare only under the same settings')


@pytest.mark.parametrize('case', ['one video', 'too few frames', 'out of range', 'nan',
                                  'float without range', 'unreadable', 'frames flag'])
def test_command_bad_input(case, tmp_path):
  good = np.zeros([2, 9, 8, 8, 3], np.uint8)
  np.save(tmp_path / 'good.npy', good)
  bad = tmp_path / 'bad.npy'
  args, expected = ['--num_frames', '9'], None
  if case == 'one video':
    np.save(bad, good[:1])
    expected = f'{bad}: 1 video; FVD needs at least 2 per set'
  elif case == 'too few frames':
    np.save(bad, good[:, :8])
    expected = f'{bad}: videos of 8 frames, fewer than the 9 asked for (--num_frames)'
  elif case == 'out of range':
    np.save(bad, np.full([2, 9, 8, 8, 3], 1.5, np.float32))
    args += ['--input_range', '0-1']
    expected = f'{bad}: video 0: values in [1.5, 1.5], outside --input_range 0-1'
  elif case == 'nan':
    values = np.zeros([2, 9, 8, 8, 3], np.float32)
    values[1, 3, 2, 2, 0] = np.nan
    np.save(bad, values)
    args += ['--input_range', '0-1']
    expected = f'{bad}: video 1: holds NaN or infinite values'
  elif case == 'float without range':
    np.save(bad, good.astype(np.float32))
    expected = (f'{bad}: float32 values: say their range with --input_range '
                '(0-255, 0-1, -1-1)')
  elif case == 'unreadable':
    bad.write_bytes(b'not an array')
    expected = f'{bad}: not a readable .npy/.npz array'
  elif case == 'frames flag':
    np.save(bad, good)
    args = ['--num_frames', '8']
    expected = '--num_frames 8: the network needs at least 9 frames'
  result = run_fvd('--real', str(tmp_path / 'good.npy'), '--generated', str(bad), *args)
  assert result.returncode == 1
  assert len(result.stderr.strip().splitlines()) == 1
  assert result.stderr.startswith(f'python -m i3d.fvd: {expected}')


def test_merging_refuses_shards_given_twice_or_missing(tmp_path):
  """`--real part_0.npz --real part_0.npz` once printed an FVD (2106.6 where the whole
  set's is 2184.6); a missing shard was as silent. Saved shards say which of how many
  they are."""
  rng = np.random.default_rng(5)
  settings = fvd.Settings(16, 'float32', 'tf1_bilinear')
  paths = {}
  for name, shard in (('part_0', (0, 3)), ('part_1', (1, 3)), ('part_2', (2, 3)),
                      ('whole', None), ('other', None)):
    embedded = fvd.Embedded(name, settings, fvd.Statistics.of(rng.normal(size=(6, 400))),
                            shard=shard)
    paths[name] = str(tmp_path / f'{name}.npz')
    saved.save(paths[name], embedded)
  loaded = {name: saved.load(path) for name, path in paths.items()}
  assert loaded['part_1'].shard == (1, 3) and loaded['whole'].shard is None
  merged = fvd.merge([loaded['part_2'], loaded['part_0'], loaded['part_1']])
  assert merged.statistics.count == 18 and merged.shard is None
  refusals = {
      ('part_0', 'part_0', 'part_1', 'part_2'): f'{paths["part_0"]}: the same statistics as '
                                                f'{paths["part_0"]}, given twice',
      ('part_0', 'part_2'): 'shards of 3 given, but shard 1 missing: FVD needs the whole set',
      ('whole', 'part_0', 'part_1', 'part_2'): f'{paths["whole"]}: not a shard, merged with '
                                               f'the shards of {paths["part_0"]}',
      ('whole', 'whole'): f'{paths["whole"]}: the same statistics as {paths["whole"]}, given '
                          'twice',
  }
  for names, message in refusals.items():
    with pytest.raises(fvd.InputError) as raised:
      fvd.merge([loaded[n] for n in names])
    assert str(raised.value).startswith(message), names
  assert fvd.merge([loaded['whole'], loaded['other']]).statistics.count == 12  # Two sets.
  # The command: one line, exit 1, no FVD printed.
  result = run_fvd('--real', paths['part_0'], '--real', paths['part_0'], '--generated',
                   paths['other'])
  assert result.returncode == 1
  assert result.stderr.strip() == (f'python -m i3d.fvd: {paths["part_0"]}: the same '
                                   f'statistics as {paths["part_0"]}, given twice')
  assert 'FVD' not in result.stdout
