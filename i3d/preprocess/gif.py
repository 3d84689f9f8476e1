"""GIF previews of the network inputs, as the release showed its sample."""

import io

import numpy as np
from PIL import Image

from i3d.system import files

# At 25 fps a GIF frame lasts 40 ms.
_FRAME_MS = 40


def rgb_preview(rgb: np.ndarray) -> np.ndarray:
  """`[T, H, W, 3]` in [-1, 1] to uint8 frames: values mapped back to [0, 1]."""
  return np.round(np.clip((rgb + 1) / 2, 0, 1) * 255).astype(np.uint8)


def flow_preview(flow: np.ndarray) -> np.ndarray:
  """`[T, H, W, 2]` in [-1, 1] to uint8 RGB frames: a zero third channel, plus 0.5,
  clipped to [0, 1]."""
  padded = np.concatenate([flow, np.zeros(flow.shape[:-1] + (1,), flow.dtype)], axis=-1)
  return np.round(np.clip(padded + 0.5, 0, 1) * 255).astype(np.uint8)


def write_gif(frames: np.ndarray, path: str) -> None:
  """Writes uint8 `[T, H, W, 3]` frames as a looping GIF, atomically."""
  images = [Image.fromarray(frame) for frame in frames]
  buffer = io.BytesIO()
  images[0].save(buffer, format='GIF', save_all=True, append_images=images[1:],
                 duration=_FRAME_MS, loop=0)
  files.write_atomically(path, buffer.getvalue())
