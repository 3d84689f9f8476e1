"""Writing a `.npy` array frame by frame, with bounded memory and atomically.

The frame count is known only at the end of a video, so the header is written with a
fixed size first and rewritten when the writer is closed. Frames go to a temporary file
beside the target, renamed into place only once complete: an interrupted run leaves
no half-written array.
"""

import os

import numpy as np

from i3d.system import files

# Header size in bytes (magic, version, length and the padded dict); a multiple of 64.
_HEADER_BYTES = 128


def _header(dtype: np.dtype, shape) -> bytes:
  text = (f"{{'descr': {np.lib.format.dtype_to_descr(dtype)!r}, "
          f"'fortran_order': False, 'shape': {tuple(shape)}, }}")
  body = text.ljust(_HEADER_BYTES - 10 - 1) + '\n'
  if len(body) != _HEADER_BYTES - 10:
    raise ValueError(f'shape {shape} does not fit a {_HEADER_BYTES}-byte .npy header')
  return b'\x93NUMPY\x01\x00' + len(body).to_bytes(2, 'little') + body.encode('latin1')


class NpyWriter:
  """Appends frames of one shape to `path`, an array `[1, T, *frame_shape]`.

  Use as a context manager: on leaving it normally the file is completed and moved to
  `path`; on an exception the temporary file is removed and `path` is untouched.
  `frame_shape` None takes the first frame's (uncropped frames, whose size depends on
  the video).
  """

  def __init__(self, path: str, frame_shape=None, dtype=np.float32):
    self.path = path
    self.frame_shape = None if frame_shape is None else tuple(frame_shape)
    self.dtype = np.dtype(dtype)
    self.count = 0
    handle, self._temporary = files.temporary_file(path)
    self._file = os.fdopen(handle, 'wb')
    self._file.write(_header(self.dtype, (1, 0) + (self.frame_shape or ())))

  def append(self, frame: np.ndarray) -> None:
    if self.frame_shape is None:
      self.frame_shape = frame.shape
    if frame.shape != self.frame_shape:
      raise ValueError(f'{self.path}: frame of shape {frame.shape}, expected '
                       f'{self.frame_shape}')
    try:
      self._file.write(np.ascontiguousarray(frame, self.dtype).tobytes())
    except OSError as e:  # No space, say: name the file (a write error names none).
      raise OSError(e.errno, e.strerror, self.path) from e
    self.count += 1

  def close(self) -> None:
    """Completes the header with the frame count and moves the file into place."""
    self._file.seek(0)
    self._file.write(_header(self.dtype, (1, self.count) + (self.frame_shape or ())))
    self._file.flush()
    os.fsync(self._file.fileno())
    self._file.close()
    files.chmod_as_created(self._temporary)
    os.replace(self._temporary, self.path)

  def abort(self) -> None:
    self._file.close()
    if os.path.exists(self._temporary):
      os.remove(self._temporary)

  def __enter__(self) -> 'NpyWriter':
    return self

  def __exit__(self, exc_type, exc, traceback) -> None:
    if exc_type is None:
      self.close()
    else:
      self.abort()
