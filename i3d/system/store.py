"""Where a run's files live: a local folder, or any Apache Beam filesystem.

Files are named by `/`-separated names relative to the store's root. Every write is
whole or nothing: locally a temporary file renamed into place; on object stores
(`gs://`, `s3://`, `hdfs://`) through Beam's `FileSystems`, whose files become visible
only once closed. `open_store` picks the implementation from the root's scheme.
"""

import os
from typing import Optional, Protocol

from i3d.system import files


class Store(Protocol):
  """The files under one root folder."""
  root: str

  def path(self, name: str) -> str:
    """The full path of a file (for messages and local reads)."""

  def exists(self, name: str) -> bool:
    """Whether the file is there."""

  def read(self, name: str) -> Optional[bytes]:
    """The file's bytes, or None if it is not there."""

  def write(self, name: str, data: bytes) -> None:
    """Writes the file whole, replacing any file of that name."""

  def remove(self, name: str) -> None:
    """Removes the file if it is there."""

  def remove_temporaries(self, folder: str) -> None:
    """Removes what a killed run was writing in a folder (never a complete file)."""


def is_local(path: str) -> bool:
  """Whether a path is on the local filesystem (no `scheme://`, or `file://`)."""
  return '://' not in path or path.startswith('file://')


def open_store(root: str) -> Store:
  """The store for `root`: `LocalStore` for local paths, else `BeamStore`."""
  if is_local(root):
    return LocalStore(root[len('file://'):] if root.startswith('file://') else root)
  return BeamStore(root)


class LocalStore:
  """Files under a local folder."""

  def __init__(self, root: str):
    self.root = root

  def path(self, name: str) -> str:
    return os.path.join(self.root, *name.split('/'))

  def exists(self, name: str) -> bool:
    return os.path.exists(self.path(name))

  def read(self, name: str) -> Optional[bytes]:
    try:
      with open(self.path(name), 'rb') as f:
        return f.read()
    except FileNotFoundError:
      return None

  def write(self, name: str, data: bytes) -> None:
    files.write_atomically(self.path(name), data)

  def remove(self, name: str) -> None:
    try:
      os.remove(self.path(name))
    except FileNotFoundError:
      pass

  def remove_temporaries(self, folder: str) -> None:
    """Removes the temporaries of killed writers (a live shard's are kept)."""
    files.remove_dead_temporaries(self.path(folder))


class BeamStore:
  """Files under a folder of a Beam filesystem (`gs://`, `s3://`, `hdfs://`, ...)."""

  def __init__(self, root: str):
    try:
      from apache_beam.io.filesystems import \
          FileSystems  # pylint: disable=g-import-not-at-top
    except ImportError as e:
      raise ImportError(f'{root}: writing there needs Apache Beam: pip install '
                        '"kinetics-i3d-tf2[beam]" (or pip install apache-beam)') from e
    self._filesystems = FileSystems
    self.root = root

  def path(self, name: str) -> str:
    return self._filesystems.join(self.root, *name.split('/'))

  def exists(self, name: str) -> bool:
    return self._filesystems.exists(self.path(name))

  def read(self, name: str) -> Optional[bytes]:
    if not self.exists(name):
      return None
    with self._filesystems.open(self.path(name)) as f:
      return f.read()

  def write(self, name: str, data: bytes) -> None:
    with self._filesystems.create(self.path(name)) as f:
      f.write(data)

  def remove(self, name: str) -> None:
    if self.exists(name):
      self._filesystems.delete([self.path(name)])

  def remove_temporaries(self, folder: str) -> None:
    del folder  # Object stores show a file only once it is closed: nothing half-written.
