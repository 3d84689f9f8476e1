"""Multi-view testing: where a video's clips are taken in time and space.

Temporal views follow MMAction2's test sampling (`SampleFrames` with `test_mode`, up to
its 0.x releases): the `num_frames - length + 1` possible starts are split into `views`
equal segments and each clip starts at the centre of its segment, rounded down. A video
no longer than a clip is one clip of the whole video, as the sliding windows treat it.

Spatial views are 224-pixel crops of the frame resized to a shorter side of 256:
- 1: the centre (the release's crop);
- 3: the start, middle and end of the longer side, centred on the shorter side
  (MMAction2's ThreeCrop, listed in that order here);
- 10: the four corners (top-left, top-right, bottom-left, bottom-right) and the centre,
  then the horizontal mirrors of those five (MMAction2's TenCrop). Corners touch the
  frame's edges; MMAction2 rounds its step down to a multiple of 4 pixels, which can put
  them up to 3 pixels inward. A mirrored flow crop has its horizontal component negated.
Imports no TensorFlow.
"""

from typing import List, NamedTuple, Tuple

import numpy as np

from i3d.catalogue import IMAGE_SIZE
from i3d.catalogue import SPATIAL_VIEWS


class Crop(NamedTuple):
  """A spatial view: the top-left corner of a 224-pixel crop, and whether it is
  mirrored left to right."""
  y: int
  x: int
  mirrored: bool = False


def temporal_starts(num_frames: int, length: int, views: int) -> List[int]:
  """First frames of `views` clips of `length` frames over `num_frames` frames.

  Raises:
    ValueError: On a non-positive argument.
  """
  if num_frames < 1 or length < 1 or views < 1:
    raise ValueError(f'need positive num_frames, length and views, got {num_frames}, '
                     f'{length} and {views}')
  if num_frames <= length:
    return [0] * views
  segment = (num_frames - length + 1) / views
  return [int(segment * k + segment / 2) for k in range(views)]


def spatial_crops(height: int, width: int, views: int, size: int = IMAGE_SIZE) -> List[Crop]:
  """The crops of one of `SPATIAL_VIEWS` for frames of `height` x `width`.

  Raises:
    ValueError: On another number of views, or frames smaller than a crop.
  """
  if views not in SPATIAL_VIEWS:
    raise ValueError(f'spatial views must be one of {SPATIAL_VIEWS}, got {views}')
  if height < size or width < size:
    raise ValueError(f'frames of {height}x{width} are smaller than the {size}x{size} crop')
  bottom, right = height - size, width - size
  centre = Crop(bottom // 2, right // 2)
  if views == 1:
    return [centre]
  if views == 3:
    if width >= height:
      return [Crop(bottom // 2, 0), centre, Crop(bottom // 2, right)]
    return [Crop(0, right // 2), centre, Crop(bottom, right // 2)]
  corners = [Crop(0, 0), Crop(0, right), Crop(bottom, 0), Crop(bottom, right), centre]
  return corners + [crop._replace(mirrored=True) for crop in corners]


def cut(frames: np.ndarray, start: int, length: int, crop: Crop,
        size: int = IMAGE_SIZE) -> np.ndarray:
  """The clip `[length, size, size, C]` of frames `[T, H, W, C]` (RGB or flow, in
  [-1, 1]) at `start`, cropped and, if the crop says so, mirrored (flow's horizontal
  component, channel 0, then changes sign)."""
  clip = np.asarray(frames[start:start + length, crop.y:crop.y + size,
                           crop.x:crop.x + size], np.float32)
  if crop.mirrored:
    clip = clip[:, :, ::-1]
    if clip.shape[-1] == 2:
      clip = clip * np.asarray([-1.0, 1.0], np.float32)
  return np.ascontiguousarray(clip)


def view_grid(starts: List[int], crops: List[Crop]) -> List[Tuple[int, int]]:
  """Every (temporal, spatial) index pair, temporal major: the order of the result's
  `[temporal, spatial, ...]` arrays."""
  return [(t, s) for t in range(len(starts)) for s in range(len(crops))]
