"""OpenCV's Dual TV-L1 optical flow, step for step, with its inner iterations compiled.

OpenCV (`cv2.optflow.DualTVL1OpticalFlow`, contrib module `optflow`, `tvl1flow.cpp`)
runs each of up to 300 inner iterations per warp as five passes over the whole image
(thresholding, divergence, primal update with the stopping sum, forward gradient, dual
update), each streaming several full-size arrays: memory-bound, and on one core. Here
one iteration is one sweep over the rows: a row's flow is updated, then the dual
variables of the row above it (which needed that row's new flow), so each row is read
while it is in cache; the row loops vectorise (Numba, LLVM). Pairs run on threads.

What stays OpenCV's own: the image pyramid and the flow's upsampling (`cv2.resize`,
bilinear), the warps (`cv2.remap`, bicubic, zero outside), and the 5x5 median filter
(`cv2.medianBlur`): the same calls as `tvl1flow.cpp`, so the same values. The
per-pixel arithmetic repeats OpenCV's float32 operations in the same order and without
fused multiply-adds, so it gives the same numbers; the one deliberate difference is how
the stopping test's sum is formed (below).

OpenCV's stopping test sums, in float32 and serially, the squared change of the flow
over the image after every inner iteration, and stops a warp when that sum falls to
`epsilon^2 * area`. A serial float32 sum is one long dependency chain (slower than the
rest of the iteration); here the sum is taken in float64, which cannot lie on the other
side of the threshold from OpenCV's float32 sum unless the two are within that sum's
rounding bound (`n * 2^-24` relative), and only then is OpenCV's serial float32 sum
formed, in OpenCV's order, to decide. So the decisions, and the iteration counts, are
OpenCV's.

Parameters are OpenCV's defaults, which the release used: tau 0.25, lambda 0.15,
theta 0.3, 5 scales with step 0.8, 5 warps, epsilon 0.01, 30 inner and 10 outer
iterations, a 5x5 median filter, gamma 0.
"""

import dataclasses
import math
from typing import List, Optional, Tuple

import cv2
import numba
import numpy as np

TAU = 0.25
LAMBDA = 0.15
THETA = 0.3
SCALES = 5
WARPS = 5
EPSILON = 0.01
INNER_ITERATIONS = 30
OUTER_ITERATIONS = 10
SCALE_STEP = 0.8
MEDIAN_SIZE = 5
# OpenCV stops building the pyramid before a side shorter than this.
MIN_SIDE = 16

_F = np.float32


@numba.njit(cache=True, nogil=True, error_model='numpy')
def _flow_row(y, i1wx, i1wy, grad, rho_c, u1, u2, p11, p12, p21, p22, terms, l_t, theta):
  """OpenCV's estimateV, divergence and estimateU for row `y`: the new flow in place,
  and each pixel's squared change (the stopping sum's terms) in `terms[y]`."""
  width = u1.shape[1]
  flt_epsilon = np.float32(1.1920929e-07)
  zero = np.float32(0.0)
  for x in range(width):
    gx = i1wx[y, x]
    gy = i1wy[y, x]
    g = grad[y, x]
    u1k = u1[y, x]
    u2k = u2[y, x]
    rho = rho_c[y, x] + (gx * u1k + gy * u2k)
    lg = l_t * g
    # The thresholding step, as selects (it vectorises): OpenCV's if / else if chain.
    fi = -rho / g
    d1 = fi * gx if g > flt_epsilon else zero
    d2 = fi * gy if g > flt_epsilon else zero
    d1 = -l_t * gx if rho > lg else d1
    d2 = -l_t * gy if rho > lg else d2
    d1 = l_t * gx if rho < -lg else d1
    d2 = l_t * gy if rho < -lg else d2
    v1 = u1k + d1
    v2 = u2k + d2
    # Divergence of (p11, p12) and (p21, p22), with OpenCV's borders and order.
    if y > 0 and x > 0:
      div1 = (p11[y, x] - p11[y, x - 1]) + (p12[y, x] - p12[y - 1, x])
      div2 = (p21[y, x] - p21[y, x - 1]) + (p22[y, x] - p22[y - 1, x])
    elif x > 0:  # The first row.
      div1 = (p11[0, x] - p11[0, x - 1]) + p12[0, x]
      div2 = (p21[0, x] - p21[0, x - 1]) + p22[0, x]
    elif y > 0:  # The first column.
      div1 = (p11[y, 0] + p12[y, 0]) - p12[y - 1, 0]
      div2 = (p21[y, 0] + p22[y, 0]) - p22[y - 1, 0]
    else:
      div1 = p11[0, 0] + p12[0, 0]
      div2 = p21[0, 0] + p22[0, 0]
    n1 = v1 + theta * div1
    n2 = v2 + theta * div2
    u1[y, x] = n1
    u2[y, x] = n2
    terms[y, x] = (n1 - u1k) * (n1 - u1k) + (n2 - u2k) * (n2 - u2k)


@numba.njit(cache=True, nogil=True, error_model='numpy')
def _dual_row(y, u1, u2, p11, p12, p21, p22, taut):
  """OpenCV's forwardGradient and estimateDualVariables for row `y` (the flow's rows
  `y` and `y + 1` already new)."""
  height, width = u1.shape
  one = np.float32(1.0)
  zero = np.float32(0.0)
  last_row = y == height - 1
  for x in range(width):
    if x < width - 1:
      u1x = u1[y, x + 1] - u1[y, x]
      u2x = u2[y, x + 1] - u2[y, x]
    else:
      u1x = zero
      u2x = zero
    if not last_row:
      u1y = u1[y + 1, x] - u1[y, x]
      u2y = u2[y + 1, x] - u2[y, x]
    else:
      u1y = zero
      u2y = zero
    g1 = np.float32(math.sqrt(np.float64(u1x) * u1x + np.float64(u1y) * u1y))
    g2 = np.float32(math.sqrt(np.float64(u2x) * u2x + np.float64(u2y) * u2y))
    ng1 = one + taut * g1
    ng2 = one + taut * g2
    p11[y, x] = (p11[y, x] + taut * u1x) / ng1
    p12[y, x] = (p12[y, x] + taut * u1y) / ng1
    p21[y, x] = (p21[y, x] + taut * u2x) / ng2
    p22[y, x] = (p22[y, x] + taut * u2y) / ng2


@numba.njit(cache=True, nogil=True, error_model='numpy', fastmath={'reassoc', 'nsz'})
def _sum(terms):
  """The terms' sum in float64, in any order (vectorised)."""
  total = 0.0
  for y in range(terms.shape[0]):
    for x in range(terms.shape[1]):
      total += np.float64(terms[y, x])
  return total


@numba.njit(cache=True, nogil=True, error_model='numpy')
def _serial_float32_sum(terms):
  """OpenCV's sum: float32, serially, row-major."""
  total = np.float32(0.0)
  for y in range(terms.shape[0]):
    for x in range(terms.shape[1]):
      total += terms[y, x]
  return total


@numba.njit(cache=True, nogil=True, error_model='numpy')
def _inner_iterations(i1wx, i1wy, grad, rho_c, u1, u2, p11, p12, p21, p22, terms, l_t,
                      theta, taut, scaled_epsilon, iterations):
  """Up to `iterations` inner iterations, stopping once OpenCV's would. Returns whether
  the error is still above the threshold, the iterations run, and how many of their
  stopping tests needed the serial float32 sum."""
  height = u1.shape[0]
  serial = 0
  for done in range(1, iterations + 1):
    for y in range(height):
      _flow_row(y, i1wx, i1wy, grad, rho_c, u1, u2, p11, p12, p21, p22, terms, l_t, theta)
      if y > 0:
        _dual_row(y - 1, u1, u2, p11, p12, p21, p22, taut)
    _dual_row(height - 1, u1, u2, p11, p12, p21, p22, taut)
    above, used_serial = _decide(terms, scaled_epsilon)
    serial += used_serial
    if not above:
      return False, done, serial
  return True, iterations, serial


@numba.njit(cache=True, nogil=True, error_model='numpy')
def _decide(terms, scaled_epsilon):
  """Whether OpenCV's serial float32 sum of `terms` exceeds `scaled_epsilon` (float32),
  and whether that sum had to be formed to tell.

  The float64 sum decides unless it is within the float32 sum's rounding bound of the
  threshold: a serial float32 sum of n non-negative terms is within (n - 1) * 2^-24 of
  the exact sum (relative; doubled here for float64's own rounding and safety).
  """
  bound = 2.0 * terms.size * 2.0 ** -24
  threshold = np.float64(scaled_epsilon)
  total = _sum(terms)
  if total > threshold * (1.0 + bound):
    return True, 0
  if total < threshold * (1.0 - bound):
    return False, 0
  return _serial_float32_sum(terms) > scaled_epsilon, 1


def still_above(terms: np.ndarray, scaled_epsilon: np.float32) -> bool:
  """Whether OpenCV's stopping sum of `terms` is still above `scaled_epsilon`."""
  return bool(_decide(terms, scaled_epsilon)[0])


@numba.njit(cache=True, nogil=True, error_model='numpy')
def _centred_gradient(image):
  """OpenCV's centeredGradient: central differences, one-sided (halved) at borders."""
  height, width = image.shape
  half = np.float32(0.5)
  dx = np.empty_like(image)
  dy = np.empty_like(image)
  for y in range(height):
    for x in range(width):
      left = image[y, x - 1] if x > 0 else image[y, x]
      right = image[y, x + 1] if x < width - 1 else image[y, x]
      up = image[y - 1, x] if y > 0 else image[y, x]
      down = image[y + 1, x] if y < height - 1 else image[y, x]
      dx[y, x] = half * (right - left)
      dy[y, x] = half * (down - up)
  return dx, dy


@numba.njit(cache=True, nogil=True, error_model='numpy')
def _flow_maps(u1, u2):
  """OpenCV's buildFlowMap: where each pixel samples the second image."""
  height, width = u1.shape
  map1 = np.empty_like(u1)
  map2 = np.empty_like(u1)
  for y in range(height):
    for x in range(width):
      map1[y, x] = np.float32(x) + u1[y, x]
      map2[y, x] = np.float32(y) + u2[y, x]
  return map1, map2


@numba.njit(cache=True, nogil=True, error_model='numpy')
def _grad_rho(i0, i1w, i1wx, i1wy, u1, u2):
  """OpenCV's calcGradRho: |grad I1(x + u0)|^2 and the constant part of the residual."""
  grad = i1wx * i1wx + i1wy * i1wy
  rho_c = ((i1w - i1wx * u1) - i1wy * u2) - i0
  return grad, rho_c


@dataclasses.dataclass
class Counts:
  """What a flow computation did: pixel-iterations of the inner loop (its cost),
  pixel-warps (the bicubic remaps'), and stopping tests that needed OpenCV's serial
  float32 sum (the rest were decided by the float64 one)."""
  pixel_iterations: int = 0
  pixel_warps: int = 0
  iterations: int = 0
  serial_sums: int = 0

  # Floating-point operations per pixel: an inner iteration (thresholding 12,
  # divergence 6, primal update 4, stopping term 6, forward gradient 4, dual update 24
  # with its two square roots), a warp (three bicubic remaps of 32, the residual 8).
  FLOPS_PER_PIXEL_ITERATION = 56
  FLOPS_PER_PIXEL_WARP = 104

  @property
  def flops(self) -> int:
    return (self.FLOPS_PER_PIXEL_ITERATION * self.pixel_iterations +
            self.FLOPS_PER_PIXEL_WARP * self.pixel_warps)


def _one_scale(i0: np.ndarray, i1: np.ndarray, u1: np.ndarray, u2: np.ndarray,
               counts: Counts) -> None:
  """OpenCV's procOneScale: the warps at one scale, updating `u1`, `u2` in place."""
  scaled_epsilon = _F(EPSILON * EPSILON * i0.size)
  l_t, theta, taut = _F(LAMBDA * THETA), _F(THETA), _F(TAU / THETA)
  i1x, i1y = _centred_gradient(i1)
  p11, p12, p21, p22 = (np.zeros_like(i0) for _ in range(4))
  terms = np.empty_like(i0)
  for _ in range(WARPS):
    map1, map2 = _flow_maps(u1, u2)
    i1w, i1wx, i1wy = (cv2.remap(image, map1, map2, cv2.INTER_CUBIC)
                       for image in (i1, i1x, i1y))
    grad, rho_c = _grad_rho(i0, i1w, i1wx, i1wy, u1, u2)
    counts.pixel_warps += i0.size
    above = True
    for _ in range(OUTER_ITERATIONS):
      if not above:
        break
      u1[...] = cv2.medianBlur(u1, MEDIAN_SIZE)
      u2[...] = cv2.medianBlur(u2, MEDIAN_SIZE)
      above, done, serial = _inner_iterations(
          i1wx, i1wy, grad, rho_c, u1, u2, p11, p12, p21, p22, terms, l_t, theta, taut,
          scaled_epsilon, INNER_ITERATIONS)
      counts.iterations += done
      counts.pixel_iterations += done * i0.size
      counts.serial_sums += serial


def pyramid(image: np.ndarray) -> List[np.ndarray]:
  """OpenCV's scales: float32, each 0.8 of the last (bilinear), while both sides stay
  at least 16."""
  levels = [image.astype(np.float32)]
  for _ in range(1, SCALES):
    smaller = cv2.resize(levels[-1], None, fx=SCALE_STEP, fy=SCALE_STEP,
                         interpolation=cv2.INTER_LINEAR)
    if min(smaller.shape) < MIN_SIDE:
      break
    levels.append(smaller)
  return levels


def tvl1(previous: np.ndarray, current: np.ndarray,
         counts: Optional[Counts] = None) -> np.ndarray:
  """Flow `[H, W, 2]` float32 in pixels (x, y) from grayscale uint8 `previous` to
  `current`, as `cv2.optflow.DualTVL1OpticalFlow_create().calc` computes it; what it
  took is added to `counts` if given."""
  counts = counts if counts is not None else Counts()
  if previous.shape != current.shape or previous.ndim != 2:
    raise ValueError(f'two grayscale frames of one shape expected, got {previous.shape} '
                     f'and {current.shape}')
  first, second = pyramid(previous), pyramid(current)
  u1 = np.zeros_like(first[-1])
  u2 = np.zeros_like(first[-1])
  for scale in range(len(first) - 1, -1, -1):
    _one_scale(first[scale], second[scale], u1, u2, counts)
    if scale == 0:
      break
    height, width = first[scale - 1].shape
    zoom = _F(1 / SCALE_STEP)
    u1 = cv2.resize(u1, (width, height), interpolation=cv2.INTER_LINEAR) * zoom
    u2 = cv2.resize(u2, (width, height), interpolation=cv2.INTER_LINEAR) * zoom
  return np.stack([u1, u2], axis=-1)


def warm_up() -> Tuple[float, ...]:
  """Compiles the kernels (once per process, cached on disk after the first)."""
  frame = np.zeros((MIN_SIDE * 2, MIN_SIDE * 2), np.uint8)
  return tuple(tvl1(frame, frame).shape)
