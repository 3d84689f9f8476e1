"""Fréchet and kernel distances between two sets of embeddings, as TF-GAN computes them.

The Fréchet Video Distance reference (google-research `frechet_video_distance`) calls
`tfgan.eval.frechet_classifier_distance_from_activations`; this is that computation in
NumPy float64, step for step:

  means m1, m2; covariances S1, S2 with the unbiased N - 1 divisor;
  A = sqrt(S1) and sqrt(A S2 A), each the symmetric square root by SVD
  (U diag(sqrt(s)) V^T, singular values below 1e-10 left as they are, not rooted);
  FVD = |m1 - m2|^2 + Tr(S1 + S2) - 2 Tr(sqrt(A S2 A)).

Tr(sqrt(A S2 A)) = Tr(sqrt(S1 S2)) for positive semi-definite S1, S2, without the
non-symmetric square root that `scipy.linalg.sqrtm` takes. The statistics are
mergeable (count, mean, and the centred sum of outer products, merged with Chan et al.'s
pairwise update), so shards embedded apart give the FVD of one pass.
"""

import dataclasses
from typing import Tuple

import numpy as np

# TF-GAN's `_symmetric_matrix_square_root` threshold.
SQRT_EPS = 1e-10
# TF-GAN's default block size for the kernel distance.
KERNEL_BLOCK_SIZE = 1024


@dataclasses.dataclass(frozen=True)
class Statistics:
  """First and second moments of a set of embeddings, in float64.

  Attributes:
    count: How many embeddings.
    mean: `[D]`.
    scatter: `[D, D]`, the sum over the set of `(x - mean)(x - mean)^T`.
  """
  count: int
  mean: np.ndarray
  scatter: np.ndarray

  @classmethod
  def of(cls, embeddings: np.ndarray) -> 'Statistics':
    """The statistics of `[N, D]` embeddings."""
    x = np.asarray(embeddings, np.float64)
    if x.ndim != 2:
      raise ValueError(f'embeddings must be [N, D], got shape {x.shape}')
    mean = x.mean(axis=0)
    centred = x - mean
    return cls(len(x), mean, centred.T @ centred)

  @classmethod
  def empty(cls, dims: int) -> 'Statistics':
    return cls(0, np.zeros(dims), np.zeros((dims, dims)))

  @classmethod
  def from_covariance(cls, count: int, mean: np.ndarray,
                      covariance: np.ndarray) -> 'Statistics':
    return cls(int(count), np.asarray(mean, np.float64),
               np.asarray(covariance, np.float64) * (count - 1))

  def merge(self, other: 'Statistics') -> 'Statistics':
    """The statistics of both sets together (Chan, Golub & LeVeque's update)."""
    if not other.count:
      return self
    if not self.count:
      return other
    count = self.count + other.count
    delta = other.mean - self.mean
    mean = self.mean + delta * (other.count / count)
    scatter = (self.scatter + other.scatter +
               np.outer(delta, delta) * (self.count * other.count / count))
    return Statistics(count, mean, scatter)

  @property
  def covariance(self) -> np.ndarray:
    """The unbiased covariance, divided by N - 1 as TF-GAN does."""
    if self.count < 2:
      raise ValueError(f'a covariance needs at least 2 embeddings, got {self.count}')
    return self.scatter / (self.count - 1)


def symmetric_sqrt(matrix: np.ndarray, eps: float = SQRT_EPS) -> np.ndarray:
  """TF-GAN's square root of a symmetric positive semi-definite matrix, by SVD."""
  u, s, vh = np.linalg.svd(matrix)
  rooted = np.where(s < eps, s, np.sqrt(s))
  return (u * rooted) @ vh


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
  """Tr(sqrt(sigma1 sigma2)) as Tr(sqrt(A sigma2 A)), A = sqrt(sigma1)."""
  a = symmetric_sqrt(sigma1)
  return float(np.trace(symmetric_sqrt(a @ sigma2 @ a)))


def frechet_distance(real: Statistics, generated: Statistics) -> float:
  """The Fréchet distance between two sets' Gaussians (FVD on I3D embeddings)."""
  sigma1, sigma2 = real.covariance, generated.covariance
  trace = np.trace(sigma1 + sigma2) - 2.0 * trace_sqrt_product(sigma1, sigma2)
  return float(trace + np.sum(np.square(real.mean - generated.mean)))


def _block_bounds(n: int, blocks: int) -> np.ndarray:
  """TF-GAN's split of n rows into `blocks` nearly equal blocks, the larger ones last."""
  small = n // blocks
  larger = n - small * blocks
  sizes = [small] * (blocks - larger) + [small + 1] * larger
  return np.concatenate([[0], np.cumsum(sizes)])


def kernel_distance(real: np.ndarray, generated: np.ndarray,
                    max_block_size: int = KERNEL_BLOCK_SIZE) -> Tuple[float, float]:
  """Kernel distance (KVD on I3D embeddings; KID's estimator) and its standard error.

  TF-GAN's `kernel_classifier_distance_and_std_from_activations`: the sets are split in
  order into the same number of blocks, none larger than `max_block_size`; each block
  gives the unbiased MMD^2 estimate with the cubic polynomial kernel
  `k(x, y) = (x.y / d + 1)^3`; the value is their mean, the error the standard deviation
  of the block estimates (N - 1 divisor) over sqrt(blocks), NaN with a single block.
  """
  r = np.asarray(real, np.float64)
  g = np.asarray(generated, np.float64)
  if r.ndim != 2 or g.ndim != 2 or r.shape[1] != g.shape[1]:
    raise ValueError(f'embeddings must be [N, D] with the same D, got {r.shape} and '
                     f'{g.shape}')
  if min(len(r), len(g)) < 2:
    raise ValueError('the kernel distance needs at least 2 embeddings in each set')
  blocks = -(-max(len(r), len(g)) // max_block_size)
  r_bounds, g_bounds = _block_bounds(len(r), blocks), _block_bounds(len(g), blocks)
  if min(np.diff(r_bounds).min(), np.diff(g_bounds).min()) < 2:
    raise ValueError(f'sets of {len(r)} and {len(g)} embeddings split into {blocks} '
                     'blocks leave a block with fewer than 2: use sets of closer sizes')
  dims = r.shape[1]

  def kernel(x, y):
    return (x @ y.T / dims + 1) ** 3

  def within(k):
    m = len(k)
    return (k.sum() - np.trace(k)) / (m * (m - 1))

  estimates = []
  for i in range(blocks):
    x = r[r_bounds[i]:r_bounds[i + 1]]
    y = g[g_bounds[i]:g_bounds[i + 1]]
    estimates.append(within(kernel(x, x)) + within(kernel(y, y)) -
                     2 * kernel(x, y).mean())
  estimates = np.array(estimates)
  mean = float(estimates.mean())
  if blocks == 1:
    return mean, float('nan')
  return mean, float(np.sqrt(estimates.var(ddof=1) / blocks))
