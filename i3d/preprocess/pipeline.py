"""A video file to the RGB and flow arrays that the I3D networks take.

Frames are decoded, resampled to 25 fps (or another rate), resized (a recipe of
`transforms.RECIPES`) and cropped (or not, for crops cut later) one at a time; flow comes
from consecutive resized grayscale frames, so N frames give N - 1 flow frames. Memory does
not grow with the video's length.
"""

import dataclasses
import functools
import os
from typing import Dict, Iterator, Optional, Sequence, Tuple, Union

import numpy as np
import tqdm

from i3d.catalogue import CHANNELS, DEFAULT_FLOW_IMPL, FPS, IMAGE_SIZE, MIN_FRAMES
from i3d.catalogue import MODALITIES
from i3d.catalogue import geometry
from i3d.catalogue.geometry import NATIVE
from i3d.preprocess import flow as flow_lib
from i3d.preprocess import gif
from i3d.preprocess import transforms
from i3d.preprocess import video as video_lib
from i3d.preprocess.npy_writer import NpyWriter
from i3d.system import files
from i3d.system.pool import OrderedMap

# `none` keeps the resized frame whole (for the crops of multi-view testing, cut later).
CROPS = ('center', 'random', 'none')
# GIF previews show at most the first 10 seconds.
GIF_MAX_FRAMES = 250


@dataclasses.dataclass(frozen=True)
class Options:
  """How to preprocess.

  Attributes:
    recipe: `kinetics` (the release's README) or `mediapipe`; see `transforms`.
    crop: `center` (test time), `random` (training), the same for RGB and flow, or
      `none`: the resized frame whole.
    seed: Seeds the random crop.
    workers: Workers computing TV-L1 flow (threads for `fast`, processes for
      `opencv`); None uses every core. The output is the same whatever the number.
    start: Clip start, seconds.
    end: Clip end, seconds; the whole video if None.
    progress: Show a progress bar; None shows one only on a terminal.
    flow_impl: TV-L1 implementation, `fast` or `opencv` (`i3d.preprocess.flow`).
    fps: The frame rate frames are resampled to (the network's 25 by default), or
      `native`: the video's own frames, every one, at its own rate.
    refuse_cut_short: Refuse (VideoError) a video that decodes fewer frames than its
      container declares, rather than use those with a `ShortVideoWarning`.
  """
  recipe: str = 'kinetics'
  crop: str = 'center'
  seed: int = 0
  workers: Optional[int] = None
  start: float = 0.0
  end: Optional[float] = None
  progress: Optional[bool] = None
  flow_impl: str = DEFAULT_FLOW_IMPL
  fps: Union[float, str] = FPS
  refuse_cut_short: bool = False

  def __post_init__(self):
    flow_lib.check_flow_impl(self.flow_impl)
    if self.recipe not in transforms.RECIPES:
      raise ValueError(f'Unknown recipe {self.recipe!r}; valid recipes: '
                       f'{", ".join(transforms.RECIPES)}')
    if self.crop not in CROPS:
      raise ValueError(f'Unknown crop {self.crop!r}; valid crops: {", ".join(CROPS)}')
    geometry.check_fps(self.fps)

  def frame_rate(self, info: video_lib.VideoInfo) -> float:
    """The rate frames are resampled to for a video."""
    return info.fps if self.fps == NATIVE else float(self.fps)

  def rate_name(self) -> str:
    """The rate in words, for messages: `25 fps`, or the video's own."""
    return "the video's own rate" if self.fps == NATIVE else f'{self.fps:g} fps'


def _check_modalities(modalities: Sequence[str]) -> Tuple[str, ...]:
  unknown = [m for m in modalities if m not in MODALITIES]
  if unknown or not modalities:
    raise ValueError(f'modalities must be among {", ".join(MODALITIES)}, got '
                     f'{list(modalities)}')
  return tuple(m for m in MODALITIES if m in modalities)


def iter_inputs(path: str, modalities: Sequence[str] = MODALITIES,
                options: Options = Options()) -> Iterator[Dict[str, np.ndarray]]:
  """Yields, per resampled frame, `{'rgb': [224, 224, 3], 'flow': [224, 224, 2]}` in
  [-1, 1] for the requested modalities (the resized size, with crop `none`). The first
  frame has no flow (flow is from frame t to t + 1 and is yielded with frame t + 1).
  """
  modalities = _check_modalities(modalities)
  frames = _frames(path, modalities, options)
  if 'flow' not in modalities:
    yield from (frame.finished() for frame in frames)
    return
  # One worker computes in this thread; more, at most two pairs each ahead of the
  # consumer so that memory stays bounded.
  with _flow_map(_Frame.finished, frames, options) as finished:
    yield from finished


def _flow_map(fn, items, options: Options) -> OrderedMap:
  """`fn` over `items` on the flow workers: threads for `fast`, processes for
  `opencv`."""
  workers = options.workers or os.cpu_count() or 1
  if workers < 1:
    raise ValueError(f'workers must be at least 1, got {options.workers}')
  if options.flow_impl == 'fast':
    return OrderedMap(fn, items, processes=workers if workers > 1 else 0, threads=True)
  return OrderedMap(fn, items, processes=workers if workers > 1 else 0,
                    initializer=flow_lib.start_worker)


@dataclasses.dataclass
class _Frame:
  """A frame's RGB input, and the grayscale pair its flow is computed from (if any)."""
  rgb: Optional[np.ndarray]
  pair: Optional[Tuple[np.ndarray, np.ndarray]]
  offset: Tuple[int, int]
  recipe: str
  flow_impl: str

  def finished(self) -> Dict[str, np.ndarray]:
    """The network inputs: TV-L1 (the slow step) on the pair, cropped and scaled."""
    item = {}
    if self.rgb is not None:
      item['rgb'] = self.rgb
    if self.pair is not None:
      flow = flow_lib.tvl1(*self.pair, impl=self.flow_impl)
      if self.recipe == 'mediapipe':
        flow = transforms.quantize_flow_mediapipe(flow)
      item['flow'] = transforms.flow_to_unit_range(_cut(flow, self.offset))
    return item


def _frames(path: str, modalities: Tuple[str, ...], options: Options) -> Iterator[_Frame]:
  """Decodes, resamples, resizes and crops; RGB is finished here, flow left to do."""
  info = video_lib.probe(path)
  offset, previous = None, None
  fps = options.frame_rate(info)
  frames = video_lib.read_frames(path, fps, start=options.start, end=options.end, info=info,
                                 refuse_cut_short=options.refuse_cut_short)
  total = video_lib.resampled_count(info, options.start, options.end, fps)
  disable = None if options.progress is None else not options.progress
  for frame in tqdm.tqdm(frames, total=total, unit='frame', disable=disable,
                         desc=os.path.basename(path), leave=False):
    resized = transforms.resize(frame, options.recipe)
    if offset is None and options.crop != 'none':
      if options.crop == 'center':
        offset = transforms.centre_crop_offset(resized.shape)
      else:
        offset = transforms.random_crop_offset(resized.shape,
                                               np.random.default_rng(options.seed))
    rgb = pair = None
    if 'rgb' in modalities:
      rgb = rgb_input(frame, options.recipe, offset,
                      resized if options.recipe != 'kinetics' else None)
    if 'flow' in modalities:
      gray = flow_lib.to_gray(resized)
      if previous is not None:
        pair = (previous, gray)
      previous = gray
    yield _Frame(rgb, pair, offset, options.recipe, options.flow_impl)


def iter_flow_fields(path: str, options: Options = Options()) -> Iterator[np.ndarray]:
  """Yields TV-L1 flow `[H, W, 2]` float32 in pixels between consecutive resampled
  frames at the resized (uncropped) size, as `iter_inputs` computes it before its
  crop: for a cache from which random crops are cut later."""
  info = video_lib.probe(path)

  def pairs():
    previous = None
    for frame in video_lib.read_frames(path, options.frame_rate(info), start=options.start,
                                       end=options.end, info=info,
                                       refuse_cut_short=options.refuse_cut_short):
      gray = flow_lib.to_gray(transforms.resize(frame, options.recipe))
      if previous is not None:
        yield previous, gray
      previous = gray

  flow = functools.partial(_pair_flow, impl=options.flow_impl)
  with _flow_map(flow, pairs(), options) as flows:
    yield from flows


def _pair_flow(pair: Tuple[np.ndarray, np.ndarray], impl: str) -> np.ndarray:
  return flow_lib.tvl1(*pair, impl=impl)


def rgb_input(frame: np.ndarray, recipe: str, offset: Optional[Tuple[int, int]],
              resized: Optional[np.ndarray] = None) -> np.ndarray:
  """A decoded RGB uint8 frame to the network's `[224, 224, 3]` float32 in [-1, 1]:
  resized by `recipe`, cropped at `offset` (`transforms.centre_crop_offset` of the
  resized shape, for the centre; None: not cropped), rescaled. `resized`: the uint8
  resize, if made."""
  if recipe == 'kinetics':
    # Resized in float, then rescaled: no uint8 rounding between the two steps.
    # (MediaPipe resizes uint8 images, and so does its recipe here.)
    resized = transforms.resize(frame.astype(np.float32), recipe)
  elif resized is None:
    resized = transforms.resize(frame, recipe)
  return transforms.rgb_to_unit_range(_cut(resized, offset))


def _cut(frame: np.ndarray, offset: Optional[Tuple[int, int]]) -> np.ndarray:
  return frame if offset is None else transforms.crop(frame, offset)


def check_length(path: str, counts: Dict[str, int], options: Options) -> None:
  """Raises VideoError, naming the video, the counts and the rate, if a modality has
  fewer frames than the network takes."""
  for modality, count in counts.items():
    if count < MIN_FRAMES:
      raise video_lib.VideoError(
          f'{path}: too short, {count} {modality} frames at {options.rate_name()} where the '
          f'network needs at least {MIN_FRAMES}')


def video_to_arrays(path: str, modalities: Sequence[str] = MODALITIES,
                    options: Options = Options()) -> Dict[str, np.ndarray]:
  """Preprocesses a video in memory: `{'rgb': [1, T, 224, 224, 3], 'flow':
  [1, T - 1, 224, 224, 2]}` float32 in [-1, 1], for the requested modalities (the resized
  size, with crop `none`).

  Raises:
    VideoError: If the video cannot be read or is too short for the network.
  """
  frames = {m: [] for m in _check_modalities(modalities)}
  for item in iter_inputs(path, modalities, options):
    for modality, value in item.items():
      frames[modality].append(value)
  check_length(path, {m: len(v) for m, v in frames.items()}, options)
  return {m: np.stack(v)[np.newaxis] for m, v in frames.items()}


def output_paths(out_prefix: str, modality: str) -> Tuple[str, str]:
  """The `.npy` and `.gif` files of a modality: `PREFIX_rgb.npy`, `PREFIX_rgb.gif`."""
  return f'{out_prefix}_{modality}.npy', f'{out_prefix}_{modality}.gif'


def _frame_shape(modality: str, options: Options) -> Optional[Tuple[int, int, int]]:
  """An output frame's shape; None (the first frame's) when frames are not cropped."""
  return None if options.crop == 'none' else (IMAGE_SIZE, IMAGE_SIZE, CHANNELS[modality])


def preprocess_video(path: str, out_prefix: str, modalities: Sequence[str] = MODALITIES,
                     options: Options = Options(), gifs: bool = True) -> Dict[str, str]:
  """Writes `PREFIX_<modality>.npy` (and `.gif` previews) for a video, streaming.

  Each array is written through a temporary file and renamed when complete; on any
  error none of the outputs is left behind. Temporaries that a killed run left beside
  the outputs are removed first.

  Returns:
    `{modality: path of its .npy}`.

  Raises:
    VideoError: If the video cannot be read or is too short for the network.
    ValueError: If an output cannot be written there (a folder, or under a file).
    OSError: If the filesystem fails (no space, read-only).
  """
  modalities = _check_modalities(modalities)
  for modality in modalities:
    for output in output_paths(out_prefix, modality):
      files.check_writable(output)
      files.remove_stale_temporaries(output)  # A killed run's.
  writers = {m: NpyWriter(output_paths(out_prefix, m)[0], _frame_shape(m, options))
             for m in modalities}
  try:
    for item in iter_inputs(path, modalities, options):
      for modality, value in item.items():
        writers[modality].append(value)
    check_length(path, {m: w.count for m, w in writers.items()}, options)
  except BaseException:
    for writer in writers.values():
      writer.abort()
    raise
  written = {}
  try:
    for modality, writer in writers.items():
      writer.close()
      written[modality] = writer.path
    if gifs:
      for modality, npy in written.items():
        frames = np.load(npy, mmap_mode='r')[0, :GIF_MAX_FRAMES]
        preview = gif.rgb_preview if modality == 'rgb' else gif.flow_preview
        gif.write_gif(preview(np.asarray(frames)), output_paths(out_prefix, modality)[1])
  except BaseException:
    for modality in modalities:
      for output in output_paths(out_prefix, modality):
        if os.path.exists(output):
          os.remove(output)
    raise
  return written
