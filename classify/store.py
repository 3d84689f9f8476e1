"""Where a run's results live, and how they are written: whole or not at all.

A result appears under its final name only once complete (written to a temporary name,
then renamed), so a killed run leaves either nothing or a whole file, and "the file
exists" means "the video is done".
"""

import os
from typing import Optional

from preprocess import files

VIDEOS = 'videos'


def result_name(video_id: str) -> str:
  return f'{VIDEOS}/{video_id}.npz'


def failure_name(video_id: str) -> str:
  return f'{VIDEOS}/{video_id}.failed.json'


def plot_name(video_id: str) -> str:
  return f'{VIDEOS}/{video_id}.png'


class LocalStore:
  """Files under a local folder, named by `/`-separated relative names."""

  def __init__(self, root: str):
    self.root = root

  def path(self, name: str) -> str:
    return os.path.join(self.root, *name.split('/'))

  def exists(self, name: str) -> bool:
    return os.path.exists(self.path(name))

  def read(self, name: str) -> Optional[bytes]:
    """The file's bytes, or None if it is not there."""
    try:
      with open(self.path(name), 'rb') as f:
        return f.read()
    except FileNotFoundError:
      return None

  def write(self, name: str, data: bytes) -> None:
    files.write_atomically(self.path(name), data)

  def remove_temporaries(self) -> None:
    """Removes what a killed run was writing (never a complete result); a no-op on a
    folder that is not local."""
    folder = self.path(VIDEOS)
    if os.path.isdir(folder):
      for name in os.listdir(folder):
        if files.is_temporary(name):
          os.remove(os.path.join(folder, name))

  def remove(self, name: str) -> None:
    try:
      os.remove(self.path(name))
    except FileNotFoundError:
      pass
