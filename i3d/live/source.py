"""Frames of a camera, a stream URL or a file, at 25 fps, as they arrive.

A file is decoded as `classify` decodes it (`i3d.preprocess.video.read_frames`: the source
frame nearest each 1/25 s), so its windows are `classify`'s windows; `realtime` plays it
at its own pace, each 25 fps frame handed over at its time. A camera or a URL is read
as it comes, each of its frames standing for the 1/25 s periods up to its arrival.
"""

import dataclasses
import os
import time
from typing import Iterator, Optional
import warnings

import cv2
import numpy as np

from i3d.catalogue import FPS
from i3d.preprocess import video as video_lib
from i3d.system import stderr


class SourceError(ValueError):
  """A source that cannot be opened or that stopped; the message names it."""


@dataclasses.dataclass
class Frame:
  """A frame at 25 fps: its index, RGB uint8 pixels, and when it arrived (monotonic)."""
  index: int
  rgb: np.ndarray
  arrived: float


def is_live(source: str) -> bool:
  return source.isdigit() or '://' in source


def frames(source: str, realtime: bool = False) -> Iterator[Frame]:
  """The source's frames at 25 fps, in order.

  Raises:
    SourceError: If it cannot be opened, or a live source or a file stops before its
      end (a file cut short); a file that simply ends ends the iteration.
  """
  if is_live(source):
    yield from _live_frames(source)
  else:
    yield from _file_frames(source, realtime)


def _file_frames(path: str, realtime: bool) -> Iterator[Frame]:
  try:
    info = video_lib.probe(path)
  except video_lib.VideoError as e:
    raise SourceError(str(e)) from e
  start = time.monotonic()
  with warnings.catch_warnings():
    # A file cut short is a stream that stopped, not a warning.
    warnings.simplefilter('error', video_lib.ShortVideoWarning)
    try:
      for index, rgb in enumerate(video_lib.read_frames(path, fps=FPS, info=info)):
        if realtime:
          time.sleep(max(0., start + index / FPS - time.monotonic()))
        yield Frame(index, rgb, time.monotonic())
    except video_lib.ShortVideoWarning as e:
      raise SourceError(f'the stream stopped: {e}') from e
    except video_lib.VideoError as e:
      raise SourceError(str(e)) from e


def _open_live(source: str) -> cv2.VideoCapture:
  # OpenCV says why each of its back-ends could not open the source in [ WARN ] lines
  # on stderr; the one line below says it for the user (I3D_VERBOSE shows them).
  with stderr.held_back(drop_all=True):
    capture = cv2.VideoCapture(int(source) if source.isdigit() else source)
  if not capture.isOpened():
    capture.release()
    raise SourceError(f'{source}: cannot be opened (no such camera, or a stream OpenCV '
                      'cannot reach or decode)')
  return capture


def _live_frames(source: str) -> Iterator[Frame]:
  """Reads as frames come; source frame i, arrived at t, stands for the 25 fps frames
  due by t (none, or several when frames come slower than 25 fps)."""
  capture = _open_live(source)
  try:
    start: Optional[float] = None
    index = 0
    while True:
      ok, bgr = capture.read()
      now = time.monotonic()
      if not ok:
        raise SourceError(f'{source}: the stream stopped after {index} frames '
                          f'({0 if start is None else now - start:.1f} s)')
      start = now if start is None else start
      rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
      while index <= (now - start) * FPS:
        yield Frame(index, rgb, now)
        index += 1
  finally:
    capture.release()


def check_source(source: str) -> None:
  """Fails now, before the network loads, if the source is a file that does not exist
  or that OpenCV cannot open."""
  if is_live(source):
    return
  if os.path.isdir(source):
    raise SourceError(f'{source}: is a folder (a source is a camera number, a URL or a '
                      'video file)')
  if not os.path.isfile(source):
    raise SourceError(f'{source}: no such file (a source is a camera number, a URL or '
                      'a video file)')
  try:
    video_lib.probe(source)
  except video_lib.VideoError as e:
    raise SourceError(str(e)) from e
