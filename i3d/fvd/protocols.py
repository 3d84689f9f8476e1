"""Which clips FVD compares: named protocols, how clips are drawn from a set of videos,
and how a clip is taken from a longer video when no protocol is named.

The named protocols are StyleGAN-V's (Skorokhodov et al., CVPR 2022;
`src/metrics/metric_main.py` and `frechet_video_distance.py` of universome/stylegan-v):
  fvd2048_16f               2048 clips of 16 consecutive frames
  fvd2048_128f              2048 clips of 128 consecutive frames
  fvd2048_128f_subsample8f  2048 clips of 16 frames, every 8th of 128 consecutive ones
A video takes part only if it holds the whole span (`frames * stride` frames, as
StyleGAN-V's `discard_short_videos` with its `subsample_factor`). Where StyleGAN-V is not
explicit or differs by construction, this module chooses, and says so:
- Clips are drawn uniformly over the eligible videos, then one start uniformly over the
  video's possible starts (`0 .. length - span`, both ends included), seeded by the run's
  seed (and a side: real or generated). Videos are drawn without replacement when there
  are at least as many as clips, with replacement only when there are fewer (the run says
  so). StyleGAN-V takes its dataset's first videos in order for the real side, without
  replacement; drawing at random is what makes several draws (seeds) meaningful.
- Frames are the videos' own (every stored frame); `--fps` resamples first if given.
Imports no TensorFlow.
"""

import dataclasses
from typing import Dict, List, Sequence, Tuple

import numpy as np

# A clip: a video's index in its set and the indices of its frames, in order.
Clip = Tuple[int, Tuple[int, ...]]

FRAMES_FROM = ('start', 'uniform', 'random')
SIDES = {'real': 0, 'generated': 1}


@dataclasses.dataclass(frozen=True)
class Protocol:
  """A named way of drawing clips.

  Attributes:
    name: Its name (`--protocol`).
    clips: Clips per set per draw.
    frames: Frames a clip gives the network.
    stride: Every `stride`-th frame is taken.
    source: Whose definition it is.
  """
  name: str
  clips: int
  frames: int
  stride: int
  source: str

  @property
  def span(self) -> int:
    """Frames a video needs to give a clip."""
    return self.frames * self.stride

  def describe(self) -> str:
    every = 'consecutive frames' if self.stride == 1 else (
        f'frames, every {self.stride}th of {self.span} consecutive ones')
    return f'{self.name}: {self.clips} clips of {self.frames} {every} ({self.source})'


_STYLEGAN_V = 'StyleGAN-V\'s definition'
PROTOCOLS: Dict[str, Protocol] = {
    p.name: p for p in (
        Protocol('fvd2048_16f', 2048, 16, 1, _STYLEGAN_V),
        Protocol('fvd2048_128f', 2048, 128, 1, _STYLEGAN_V),
        Protocol('fvd2048_128f_subsample8f', 2048, 16, 8, _STYLEGAN_V),
    )}


@dataclasses.dataclass(frozen=True)
class Draw:
  """The clips of one set in one draw.

  Attributes:
    seed: The draw's seed.
    clips: Every clip drawn (a clip drawn twice is there twice).
    eligible: How many videos hold the protocol's span.
    with_replacement: Whether videos were drawn with replacement (fewer than clips).
  """
  seed: int
  clips: Tuple[Clip, ...]
  eligible: int
  with_replacement: bool


def draw_clips(lengths: Sequence[int], protocol: Protocol, seed: int, side: str,
               source: str = 'the set') -> Draw:
  """Draws `protocol.clips` clips from videos of `lengths` frames.

  Raises:
    ValueError: If no video holds the protocol's span, naming `source`.
  """
  eligible = np.asarray([i for i, n in enumerate(lengths) if n >= protocol.span])
  if not len(eligible):
    raise ValueError(f'{source}: no video holds the {protocol.span} frames a '
                     f'{protocol.name} clip spans (the longest has {max(lengths, default=0)})')
  rng = np.random.default_rng([seed, SIDES[side]])
  replace = len(eligible) < protocol.clips
  videos = rng.choice(eligible, protocol.clips, replace=replace)
  starts = rng.integers(0, np.asarray(lengths)[videos] - protocol.span + 1)
  offsets = np.arange(protocol.frames) * protocol.stride
  clips = tuple((int(v), tuple(int(i) for i in s + offsets))
                for v, s in zip(videos, starts))
  return Draw(seed, clips, len(eligible), replace)


def frame_indices(length: int, num_frames: int, frames_from: str,
                  rng: np.random.Generator) -> Tuple[int, ...]:
  """The frames of a clip of `num_frames` taken from a video of `length` frames:
  `start` its first frames (the reference's example, and the default); `uniform`
  `num_frames` frames spread evenly over the whole video (`linspace(0, length - 1)`
  rounded down, the common `np.linspace(..., dtype=int)`); `random` consecutive frames
  from a start drawn uniformly from `rng`.

  Raises:
    ValueError: If the video is shorter than the clip, or on an unknown way.
  """
  if frames_from not in FRAMES_FROM:
    raise ValueError(f'Unknown frames_from {frames_from!r}; valid: {", ".join(FRAMES_FROM)}')
  if length < num_frames:
    raise ValueError(f'{length} frames, fewer than the {num_frames} of a clip')
  if frames_from == 'start':
    first = 0
  elif frames_from == 'random':
    first = int(rng.integers(0, length - num_frames + 1))
  else:
    return tuple(int(i) for i in np.linspace(0, length - 1, num_frames).astype(int))
  return tuple(range(first, first + num_frames))


def distinct_clips(draws: Sequence[Draw]) -> List[Clip]:
  """Every clip of the draws once, ordered by video then frames: each is embedded once."""
  return sorted({clip for draw in draws for clip in draw.clips})
