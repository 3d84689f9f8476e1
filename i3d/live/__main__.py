r"""Live classification of a camera, a stream or a file, window by window.

  python -m i3d.live --source 0                       (a camera)
  python -m i3d.live --source rtsp://host/path        (a stream OpenCV opens)
  python -m i3d.live --source video.mp4 --realtime    (a file at its own pace)

Keeps the last --window_frames frames at 25 fps (preprocessed as `classify` does: the
shorter side to 256, the centre 224x224, [-1, 1]) and every --stride frames hands the
window to a background thread running the RGB network. When the network is busy, a
live source (or --realtime) skips that window rather than falling behind; a file read
as fast as it decodes waits instead, and every window is classified. A line per window:
its span in the stream, the top classes, and the latency from the arrival of its last
frame to the printed result; --output writes them (and the logits) as JSON lines.
A summary line ends every run. Exit status: 0 when a file ends, 1 when a source cannot be
opened or stops, 3 without the checkpoint, 130 on Ctrl-C (after the summary).
Flow is not offered: TV-L1 runs at about a frame pair a second on a CPU.
"""

import collections
import dataclasses
import json
import queue
import sys
import threading
import time
from typing import List, Optional

from absl import app
from absl import flags
import numpy as np

from i3d import catalogue
from i3d import flags as shared
from i3d import runtime
from i3d.catalogue import CHANNELS, FPS, IMAGE_SIZE, MIN_FRAMES
from i3d.catalogue.geometry import MAX_FRAMES
from i3d.live import source as stream_source
from i3d.preprocess import pipeline
from i3d.preprocess import transforms
from i3d.system import faults
from i3d.system import files

PROGRAM = 'python -m i3d.live'

_SOURCE = flags.DEFINE_string('source', None, 'A camera number, a URL or a video file.')
_REALTIME = flags.DEFINE_bool('realtime', False, 'Play a file at its own frame rate, as a '
                              'live stream (windows are skipped when the network lags).')
_WINDOW_FRAMES = flags.DEFINE_integer('window_frames', 64, 'Frames per window, at 25 fps.',
                                      lower_bound=MIN_FRAMES, upper_bound=MAX_FRAMES)
_STRIDE = flags.DEFINE_integer('stride', 16, 'Frames between windows.', lower_bound=1)
_TOP_K = flags.DEFINE_integer('top_k', 3, 'Classes printed per window.', lower_bound=1)
_EVAL_TYPE = shared.eval_type('rgb', catalogue.RGB_EVAL_TYPES)
_IMAGENET_PRETRAINED = shared.imagenet_pretrained()
_CHECKPOINT_DIR = shared.checkpoint_dir()
_PRECISION = shared.precision(with_int8=True)
_BACKEND = shared.backend()
_OUTPUT = flags.DEFINE_string('output', None, 'Also write each window as a JSON line '
                              'here (written whole when the run ends).')


@dataclasses.dataclass
class Window:
  start: int            # Index of its first frame at 25 fps.
  frames: np.ndarray    # [1, T, 224, 224, 3] float32.
  last_arrived: float   # When its last frame arrived (monotonic).


@dataclasses.dataclass
class Tally:
  """What a run did, for the summary line."""
  classified: int = 0
  skipped: int = 0
  frames: int = 0
  latencies: List[float] = dataclasses.field(default_factory=list)
  started: float = dataclasses.field(default_factory=time.monotonic)

  def summary(self) -> str:
    seconds = time.monotonic() - self.started
    line = (f'summary: {self.classified} windows classified, {self.skipped} skipped; '
            f'{self.frames} frames in {seconds:.1f} s ({self.frames / seconds:.1f} '
            'frames/s)')
    if self.latencies:
      line += (f'; latency mean {np.mean(self.latencies):.2f} s, 95th percentile '
               f'{np.percentile(self.latencies, 95):.2f} s')
    return line


class Classifier:
  """A background thread classifying one window at a time, printing each result."""

  def __init__(self, networks, top_k: int, tally: Tally, records: Optional[list]):
    self._networks = networks
    self._top_k = top_k
    self._tally = tally
    self._records = records
    self._windows: queue.Queue = queue.Queue(maxsize=1)
    self._idle = threading.Event()
    self._idle.set()
    self._error: Optional[BaseException] = None
    self._thread = threading.Thread(target=self._run, daemon=True)
    self._thread.start()

  def offer(self, window: Window, wait: bool) -> bool:
    """Hands `window` over if the thread is idle (or, with `wait`, once it is)."""
    self.raise_error()
    if wait:
      self._idle.wait()
    elif not self._idle.is_set():
      return False
    self._idle.clear()
    self._windows.put(window)
    return True

  def finish(self) -> None:
    """Waits for the window in hand, then stops the thread."""
    self._idle.wait()
    self._windows.put(None)
    self._thread.join()
    self.raise_error()

  def raise_error(self) -> None:
    if self._error is not None:
      raise self._error

  def _run(self) -> None:
    while (window := self._windows.get()) is not None:
      try:
        self._classify(window)
      except BaseException as e:  # pylint: disable=broad-except
        self._error = e
      finally:
        self._idle.set()

  def _classify(self, window: Window) -> None:
    logits = self._networks(self._networks.streams[0], window.frames)[0][0]
    probabilities = np.exp(logits - logits.max())
    probabilities /= probabilities.sum()
    top = np.argsort(probabilities)[::-1][:self._top_k]
    latency = time.monotonic() - window.last_arrived
    span = (window.start / FPS, (window.start + window.frames.shape[1]) / FPS)
    classes = ', '.join(f'{self._networks.labels[i]} {probabilities[i]:.3f}' for i in top)
    print(f'{span[0]:7.2f}-{span[1]:.2f} s  {classes}  (latency {latency:.2f} s)',
          flush=True)
    self._tally.classified += 1
    self._tally.latencies.append(latency)
    if self._records is not None:
      self._records.append(json.dumps({
          'start_frame': window.start, 'start_s': span[0], 'end_s': span[1],
          'top_k': [[self._networks.labels[i], float(probabilities[i])] for i in top],
          'latency_s': latency, 'logits': logits.tolist()}))


def classify_stream(source: str, networks, window_frames: int, stride: int, top_k: int,
                    realtime: bool, tally: Tally, records: Optional[list]) -> None:
  """Reads the source to its end, classifying windows as they fill."""
  classifier = Classifier(networks, top_k, tally, records)
  wait = not (realtime or stream_source.is_live(source))
  buffer = collections.deque(maxlen=window_frames)
  offset = None
  try:
    for frame in stream_source.frames(source, realtime):
      if offset is None:
        resized = transforms.resize(frame.rgb, 'kinetics')
        offset = transforms.centre_crop_offset(resized.shape)
      buffer.append(pipeline.rgb_input(frame.rgb, 'kinetics', offset))
      tally.frames += 1
      start = frame.index + 1 - window_frames
      if start >= 0 and start % stride == 0:
        window = Window(start, np.stack(buffer)[None], frame.arrived)
        if not classifier.offer(window, wait):
          tally.skipped += 1
  finally:
    classifier.finish()


def write_records(path: str, records: List[str]) -> None:
  files.write_atomically(path, ''.join(r + '\n' for r in records).encode())


def stream() -> None:
  # Imported here: flags and errors first, TensorFlow only for a run.
  from i3d.runtime import backends  # pylint: disable=g-import-not-at-top

  source = _SOURCE.value
  stream_source.check_source(source)
  if _OUTPUT.value:
    files.check_writable(_OUTPUT.value)
  plan = catalogue.make_plan(_EVAL_TYPE.value, _IMAGENET_PRETRAINED.value,
                             _CHECKPOINT_DIR.value)
  runtime.check(_BACKEND.value, _PRECISION.value)
  choice = backends.choose_precision(_BACKEND.value, _PRECISION.value)
  if choice.message:
    print(f'{PROGRAM}: {choice.message}', file=sys.stderr)
  networks = backends.load_networks(
      plan, _BACKEND.value, choice.precision,
      calibration_videos=runtime.calibration_from_flags(flags.FLAGS),
      calibration_clips=flags.FLAGS.calibration_clips)
  # The first call traces the network; made before the stream starts, it is not
  # counted as latency.
  shape = (1, _WINDOW_FRAMES.value, IMAGE_SIZE, IMAGE_SIZE, CHANNELS['rgb'])
  networks(networks.streams[0], np.zeros(shape, np.float32))
  tally = Tally()
  records = [] if _OUTPUT.value else None
  try:  # Entered before the first line: a Ctrl-C once it is shown gets the summary.
    print(f'{source}: windows of {_WINDOW_FRAMES.value} frames every {_STRIDE.value} at '
          f'{FPS} fps, {plan.checkpoint_names[0]} in {choice.precision}'
          f'{" on OpenVINO" * (_BACKEND.value == "openvino")}', flush=True)
    classify_stream(source, networks, _WINDOW_FRAMES.value, _STRIDE.value, _TOP_K.value,
                    _REALTIME.value, tally, records)
  finally:
    print(tally.summary(), flush=True)
    if records is not None:
      write_records(_OUTPUT.value, records)


def main(argv):
  if len(argv) > 1:
    sys.exit(f'{PROGRAM}: unexpected arguments {argv[1:]}')
  faults.run_command(PROGRAM, stream)


def run() -> None:
  flags.mark_flag_as_required('source')
  app.run(main)


if __name__ == '__main__':
  run()
