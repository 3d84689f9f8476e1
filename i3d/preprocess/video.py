"""Decoding a video with OpenCV and resampling it to a fixed frame rate, streamed."""

import dataclasses
import math
import os
from typing import Callable, Iterator, Optional
import warnings

import cv2
import numpy as np

from i3d.catalogue import FPS

# FFmpeg's own messages ("moov atom not found") repeat what the one-line error that
# follows says; I3D_VERBOSE=1 shows them. (Read when the first video is opened.)
if not os.environ.get('I3D_VERBOSE'):
  os.environ.setdefault('OPENCV_FFMPEG_LOGLEVEL', '-8')


class VideoError(ValueError):
  """A video that cannot be used; the message starts with the file's path."""


class ShortVideoWarning(UserWarning):
  """A video that decodes to fewer frames than its container says (cut short, damaged):
  it is used as far as it decodes."""


# The lowest frame rate taken for a video's own. Resampling repeats a frame for its whole
# period, so a container whose timing is broken (an mp4 with an mdhd timescale of 0 reads
# as 0.00195 fps) would make 20 frames into 256,000 at 25 fps; at or above this rate a
# decoded frame becomes at most FPS / MIN_SOURCE_FPS = 25 output frames.
MIN_SOURCE_FPS = 1.0


@dataclasses.dataclass(frozen=True)
class VideoInfo:
  """What the container says of a video (the frame count can be approximate)."""
  path: str
  fps: float
  frame_count: int
  width: int
  height: int

  @property
  def duration(self) -> float:
    return self.frame_count / self.fps


def probe(path: str) -> VideoInfo:
  """Opens `path` and reads its frame rate, frame count and size.

  Raises:
    VideoError: If the file is missing or OpenCV cannot open it as a video.
  """
  if not os.path.exists(path):
    raise VideoError(f'{path}: no such file')
  if os.path.isdir(path):
    raise VideoError(f'{path}: is a folder, not a video')
  capture = cv2.VideoCapture(path)
  try:
    if not capture.isOpened():
      raise VideoError(f'{path}: not a video OpenCV can open (unknown container or codec)')
    fps = capture.get(cv2.CAP_PROP_FPS)
    info = VideoInfo(path, fps, int(capture.get(cv2.CAP_PROP_FRAME_COUNT)),
                     int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
                     int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
  finally:
    capture.release()
  if not fps > 0 or not math.isfinite(fps):
    raise VideoError(f'{path}: no frame rate in the container (read {fps})')
  if fps < MIN_SOURCE_FPS:
    raise VideoError(f'{path}: the container says {fps:g} frames per second, below any '
                     f'video\'s ({MIN_SOURCE_FPS:g}): its timing is broken')
  return info


def resampled_count(info: VideoInfo, start: float = 0.0, end: Optional[float] = None,
                    fps: float = FPS) -> int:
  """How many frames `read_frames` yields for a video of the container's length."""
  end = info.duration if end is None else min(end, info.duration)
  return max(0, round((end - start) * fps))


def check_decodable(path: str) -> VideoInfo:
  """`probe`, and the first frame decoded: a file that opens may hold no frame a
  decoder can read (a damaged stream), which only decoding tells.

  Raises:
    VideoError: If the file cannot be opened, or no frame decoded.
  """
  info = probe(path)
  next(read_frames(path, info=info))
  return info


def read_frames(path: str, fps: float = FPS, start: float = 0.0,
                end: Optional[float] = None, info: Optional[VideoInfo] = None,
                refuse_cut_short: bool = False,
                on_cut_short: Optional[Callable[[str], None]] = None
                ) -> Iterator[np.ndarray]:
  """Yields the video's frames as RGB uint8 `[H, W, 3]`, resampled to `fps`.

  Output frame k stands for time `start + k / fps`; it is the source frame closest to
  that time (source frame i is at `i / source fps`). Periods after the last decoded
  frame repeat it, up to `round((end - start) * fps)` frames in all, `end` being the
  video's duration unless given. Frames are decoded one at a time: memory does not
  grow with the video's length.

  Args:
    path: The video file.
    fps: Output frame rate.
    start: Start of the clip, in seconds.
    end: End of the clip, in seconds (exclusive); the whole video if None.
    info: The video's `probe`, if the caller has it already.
    refuse_cut_short: Raise VideoError for a video that decodes fewer frames than its
      container declares, instead of using those (after yielding them).
    on_cut_short: Called with the one-line note of such a video instead of warning
      (`ShortVideoWarning`): a caller on several threads collects notes this way.

  Raises:
    VideoError: If the file cannot be opened or decoded, or the clip has no frames.
  """
  info = info or probe(path)
  if start < 0 or (end is not None and end <= start):
    raise VideoError(f'{path}: bad clip times start={start} end={end}')
  capture = cv2.VideoCapture(path)
  try:
    k = 0          # Next output frame.
    index = -1     # Index of `frame` in the source.
    frame = None
    limit = None if end is None else round((end - start) * fps)
    ended = False  # Whether decoding stopped before the clip's end.
    while limit is None or k < limit:
      ok, bgr = capture.read()
      if not ok:
        ended = True
        break
      index += 1
      frame = bgr
      # Emit every output frame whose closest source frame is this one: the source
      # index nearest to time t is floor(t * source_fps + 1/2).
      while ((limit is None or k < limit) and
             math.floor((start + k / fps) * info.fps + 0.5) <= index):
        yield cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        k += 1
    if frame is None:
      raise VideoError(f'{path}: no frame could be decoded')
    if k == 0:
      raise VideoError(f'{path}: no frames between {start} s and the end '
                       f'({(index + 1) / info.fps:.2f} s)')
    # Containers' counts may be one off (or estimated from the duration); more is a
    # video cut short, used as far as it decodes.
    if ended and info.frame_count > index + 2:
      note = (f'{path}: the container says {info.frame_count} frames, {index + 1} could be '
              'decoded')
      if refuse_cut_short:
        raise VideoError(f'{note}; refused (--refuse_cut_short)')
      if on_cut_short is not None:
        on_cut_short(f'{note}; using those')
      else:
        warnings.warn(ShortVideoWarning(f'{note}; using those'), stacklevel=2)
    # The decoded length decides the count: repeat the last frame to fill its period.
    total = round(((index + 1) / info.fps - start) * fps)
    if limit is not None:
      total = min(total, limit)
    last = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
    while k < total:
      yield last
      k += 1
  finally:
    capture.release()
