"""The sets FVD compares: arrays of videos, video files, or statistics saved earlier.

Every set yields its videos one at a time as `[T, H, W, 3]` arrays in [0, 255] (uint8,
or float32 converted from the stated range), checked as they come: memory holds one
video of a set, never the set. Every error names the file (and the video in it).
"""

import abc
import dataclasses
import glob
import os
from typing import Iterator, List, Optional, Sequence
import zipfile

import numpy as np

from i3d.catalogue import MIN_FRAMES
from i3d.fvd import protocols
from i3d.preprocess import video as video_lib
from i3d.system.shards import Shard
from i3d.videosets import sources

# Value ranges a float array may be in, and the map of each onto [0, 255].
INPUT_RANGES = {
    '0-255': (0.0, 255.0),
    '0-1': (0.0, 1.0),
    '-1-1': (-1.0, 1.0),
}
# Values beyond the range by up to this fraction of its width pass, as the reference's
# own check (|2x/255 - 1| <= 1.001) lets them.
RANGE_TOLERANCE = 0.0005


class InputError(ValueError):
  """A set that cannot be embedded; the message names the file and what is wrong."""


def is_statistics_file(path: str) -> bool:
  """Whether `path` is a `.npz` of saved statistics (see `statistics_file`)."""
  if not path.lower().endswith('.npz') or not os.path.isfile(path):
    return False
  try:
    with np.load(path, allow_pickle=False) as archive:
      return 'fvd_statistics' in archive.files
  except zipfile.BadZipFile as e:  # Cut short, say: neither statistics nor an array.
    raise InputError(f'{path}: a damaged .npz ({e})') from e
  except (OSError, ValueError):
    return False


@dataclasses.dataclass
class VideoSet(abc.ABC):
  """Videos from one source.

  Attributes:
    source: What the user named (a file, folder or glob).
    count: How many videos.
    num_frames: Frames taken from each video (its first ones).
  """
  source: str
  count: int
  num_frames: int

  @abc.abstractmethod
  def videos(self) -> Iterator[np.ndarray]:
    """The set's videos, `[num_frames, H, W, 3]` in [0, 255], one at a time."""

  @abc.abstractmethod
  def lengths(self) -> List[int]:
    """Every video's whole length in frames (video files: as many as decode)."""

  @abc.abstractmethod
  def cut(self, clips: Sequence[protocols.Clip]) -> Iterator[np.ndarray]:
    """The clips `[len(frames), H, W, 3]` in [0, 255], in the order given (ordered by
    video, each video is read once)."""


class ArraySet(VideoSet):
  """`[N, T, H, W, 3]` in a `.npy` (memory-mapped) or a `.npz` holding one array."""

  def __init__(self, path: str, num_frames: int, input_range: Optional[str],
               array: Optional[np.ndarray] = None):
    """`array`, when given, is the data (named `path` in errors); else `path`'s."""
    self._array = _load_array(path) if array is None else _checked_array(path, array)
    n, frames = self._array.shape[:2]
    taken = num_frames or frames
    if frames < taken:
      raise InputError(f'{path}: videos of {frames} frames, fewer than the '
                       f'{num_frames} asked for (--num_frames)')
    super().__init__(path, n, taken)
    self._scale = _scale_to_255(path, self._array.dtype, input_range)

  def videos(self) -> Iterator[np.ndarray]:
    for i in range(self.count):
      video = np.asarray(self._array[i, :self.num_frames])
      yield self._scale(video, f'{self.source}: video {i}')

  def lengths(self) -> List[int]:
    return [int(self._array.shape[1])] * self.count

  def cut(self, clips: Sequence[protocols.Clip]) -> Iterator[np.ndarray]:
    for i, frames in clips:
      yield self._scale(np.asarray(self._array[i, list(frames)]),
                        f'{self.source}: video {i}')


def _load_array(path: str) -> np.ndarray:
  try:
    if path.lower().endswith('.npz'):
      with np.load(path, allow_pickle=False) as archive:
        if len(archive.files) != 1:
          raise InputError(f'{path}: holds {len(archive.files)} arrays '
                           f'({", ".join(archive.files[:5])}); expected one')
        array = archive[archive.files[0]]
    else:
      array = np.load(path, mmap_mode='r', allow_pickle=False)
  except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
    if isinstance(e, InputError):
      raise
    raise InputError(f'{path}: not a readable .npy/.npz array ({e})') from e
  return _checked_array(path, array)


def _checked_array(path: str, array: np.ndarray) -> np.ndarray:
  if array.ndim != 5 or array.shape[-1] != 3:
    raise InputError(f'{path}: shape {array.shape}, expected [N, T, H, W, 3] (RGB videos)')
  if not (np.issubdtype(array.dtype, np.integer) or
          np.issubdtype(array.dtype, np.floating)):
    raise InputError(f'{path}: dtype {array.dtype}, expected uint8 or float')
  return array


def _scale_to_255(path: str, dtype: np.dtype, input_range: Optional[str]):
  """A function checking one video's values and mapping them onto [0, 255]."""
  if dtype == np.uint8:  # 0-255 whatever --input_range says (it is for floats).
    return lambda video, unused_where: video
  if np.issubdtype(dtype, np.integer):
    raise InputError(f'{path}: dtype {dtype}; integer videos must be uint8')
  if input_range is None:
    raise InputError(f'{path}: {dtype} values: say their range with --input_range '
                     f'({", ".join(INPUT_RANGES)})')
  low, high = INPUT_RANGES[input_range]
  slack = RANGE_TOLERANCE * (high - low)

  def scale(video: np.ndarray, where: str) -> np.ndarray:
    video = video.astype(np.float32)
    if not np.isfinite(video).all():
      raise InputError(f'{where}: holds NaN or infinite values')
    if video.min() < low - slack or video.max() > high + slack:
      raise InputError(f'{where}: values in [{video.min():g}, {video.max():g}], outside '
                       f'--input_range {input_range}')
    if (low, high) == (0.0, 255.0):
      return video
    return (video - np.float32(low)) * np.float32(255.0 / (high - low))
  return scale


class FileSet(VideoSet):
  """Video files (a folder, recursively; a glob; a `.txt` or `.csv` list), decoded with
  the project's reader: the first `num_frames` frames at the file's own rate, or
  resampled to `fps`; with `shard`, only that shard's (`i3d.system.shards`)."""

  def __init__(self, source: str, num_frames: int, fps: Optional[float],
               shard: Optional[Shard] = None):
    try:
      self._paths = [v.path for v in sources.list_videos(source)
                     if shard is None or shard.holds(v.id)]
    except sources.SourceError as e:
      raise InputError(str(e)) from e
    if not num_frames:
      raise InputError(f'{source}: video files need a frame count (--num_frames)')
    super().__init__(source, len(self._paths), num_frames)
    self._fps = fps

  def videos(self) -> Iterator[np.ndarray]:
    for path in self._paths:
      info = video_lib.probe(path)
      fps = self._fps or info.fps
      frames = list(video_lib.read_frames(path, fps=fps, end=self.num_frames / fps,
                                          info=info))
      if len(frames) < self.num_frames:
        raise InputError(f'{path}: {len(frames)} frames at {fps:g} fps, fewer than the '
                         f'{self.num_frames} asked for (--num_frames)')
      if len({f.shape for f in frames}) > 1:
        raise InputError(f'{path}: frames of different sizes')
      yield np.stack(frames)

  def _frames(self, path: str) -> Iterator[np.ndarray]:
    info = video_lib.probe(path)
    return video_lib.read_frames(path, fps=self._fps or info.fps, info=info)

  def lengths(self) -> List[int]:
    return [sum(1 for _ in self._frames(path)) for path in self._paths]

  def cut(self, clips: Sequence[protocols.Clip]) -> Iterator[np.ndarray]:
    position = 0
    while position < len(clips):
      video = clips[position][0]
      end = position
      while end < len(clips) and clips[end][0] == video:
        end += 1
      yield from self._cut_video(video, clips[position:end])
      position = end

  def _cut_video(self, video: int, clips: Sequence[protocols.Clip]) -> Iterator[np.ndarray]:
    """One decoding of a video, keeping only the frames its clips use."""
    path = self._paths[video]
    needed = {i for _, frames in clips for i in frames}
    kept = {}
    for index, frame in enumerate(self._frames(path)):
      if index in needed:
        kept[index] = frame
      if len(kept) == len(needed):
        break
    if len(kept) < len(needed):
      raise InputError(f'{path}: {max(kept, default=-1) + 1} frames decoded, fewer than '
                       f'the {max(needed) + 1} a clip needs')
    if len({f.shape for f in kept.values()}) > 1:
      raise InputError(f'{path}: frames of different sizes')
    for _, frames in clips:
      yield np.stack([kept[i] for i in frames])


class Selected(VideoSet):
  """One clip of `num_frames` per video of a set, taken as `frames_from` says (see
  `protocols.frame_indices`; `random` seeded by `seed` and the set's side)."""

  def __init__(self, videos: VideoSet, frames_from: str, seed: int, side: str):
    rng = np.random.default_rng([seed, protocols.SIDES[side]])
    try:
      self._clips = [(i, protocols.frame_indices(n, videos.num_frames, frames_from, rng))
                     for i, n in enumerate(videos.lengths())]
    except ValueError as e:
      raise InputError(f'{videos.source}: a video of {e}') from e
    self._videos = videos
    super().__init__(videos.source, videos.count, videos.num_frames)

  def videos(self) -> Iterator[np.ndarray]:
    return self._videos.cut(self._clips)

  def lengths(self) -> List[int]:
    return self._videos.lengths()

  def cut(self, clips: Sequence[protocols.Clip]) -> Iterator[np.ndarray]:
    return self._videos.cut(clips)


def open_set(source: str, num_frames: int, fps: Optional[float] = None,
             input_range: Optional[str] = None, shard: Optional[Shard] = None) -> VideoSet:
  """The videos of `source`: a `.npy`/`.npz` array, or video files (of `shard` only,
  if given: arrays are not sharded).

  Raises:
    InputError: If the source is missing, malformed, or holds fewer than 2 videos.
  """
  if source.lower().endswith(('.npy', '.npz')) and not glob.has_magic(source):
    if not os.path.isfile(source):
      raise InputError(f'{source}: no such file')
    if shard:
      raise InputError(f'{source}: --shard splits video files, not arrays (slice the '
                       'array instead)')
    videos = ArraySet(source, num_frames, input_range)
  else:
    videos = FileSet(source, num_frames, fps, shard)
  return _checked_set(videos)


def array_set(name: str, array: np.ndarray, num_frames: int = 0,
              input_range: Optional[str] = None) -> VideoSet:
  """The videos of an array in memory, `[N, T, H, W, 3]`, named `name` in errors."""
  return _checked_set(ArraySet(name, num_frames, input_range, array=array))


def _checked_set(videos: VideoSet) -> VideoSet:
  source = videos.source
  if videos.count < 2:
    raise InputError(f'{source}: {videos.count} video; FVD needs at least 2 per set (and '
                     'each shard of --shard at least 2: use fewer shards)')
  if videos.num_frames < MIN_FRAMES:
    raise InputError(f'{source}: {videos.num_frames} frames per video; the network needs '
                     f'at least {MIN_FRAMES}')
  return videos

