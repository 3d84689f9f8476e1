"""Videos to FVD embeddings, exactly as the reference's `preprocess` and
`create_id3_embedding` make them.

1. Frames in [0, 255], resized straight to 224x224 (no crop; the aspect ratio is not
   kept) with TF1's bilinear resize as the reference calls it:
   `tf.compat.v1.image.resize_bilinear`, align_corners=False, half_pixel_centers=False
   (output pixel i samples input position i * in / out). At 224x224 it is the identity.
2. `2 * x / 255 - 1`, in float32, in that order.
3. The `rgb_imagenet` network (DeepMind's TF-Hub `i3d-kinetics-400`), batch norm in
   inference mode, no dropout; the embedding is its time-averaged logits, 400 values
   before the softmax (the reference's `RGB/inception_i3d/Mean` tensor).

Each video's embedding depends on that video alone: any batch size gives the same
values (to float32 rounding of the convolutions).

Other implementations resize otherwise; `RESIZES` names those variants (opt-in, never
the default): `half_pixel_bilinear`, PyTorch's `interpolate(mode='bilinear',
align_corners=False)` as StyleGAN-V's port calls it, which is TF2's `tf.image.resize`
without antialias (sample positions `(i + 0.5) * in / out - 0.5`); `area`, TF's area
resize (each output pixel the mean of the input area it covers).
"""

from typing import Iterable, Iterator, Optional

import numpy as np

from i3d import releases
from i3d.catalogue import IMAGE_SIZE
from i3d.fvd.recipes import DEFAULT_RESIZE, RELEASE, RESIZES, recipe
from i3d.quiet_tf import tf


def resize_frames(frames: tf.Tensor, resize: str = DEFAULT_RESIZE) -> tf.Tensor:
  """`[N, H, W, 3]` float32 in [0, 255] to `[N, 224, 224, 3]`, by TF1's bilinear (or
  another of `RESIZES`)."""
  size = [IMAGE_SIZE, IMAGE_SIZE]
  if resize == 'area':
    return tf.raw_ops.ResizeArea(images=frames, size=size, align_corners=False)
  if resize not in RESIZES:
    raise ValueError(f'Unknown resize {resize!r}; valid: {", ".join(RESIZES)}')
  return tf.raw_ops.ResizeBilinear(images=frames, size=size, align_corners=False,
                                   half_pixel_centers=resize == 'half_pixel_bilinear')


def to_network_range(frames: tf.Tensor) -> tf.Tensor:
  """[0, 255] to [-1, 1], with the reference's float32 operations."""
  return 2. * frames / 255. - 1


def prepare(video: np.ndarray, resize: str = DEFAULT_RESIZE) -> tf.Tensor:
  """One video `[T, H, W, 3]` in [0, 255] (any dtype) to the network's `[T, 224, 224, 3]`."""
  frames = tf.cast(video, tf.float32)
  if frames.shape[1:3] != (IMAGE_SIZE, IMAGE_SIZE):
    frames = resize_frames(frames, resize)
  return to_network_range(frames)


class Embedder:
  """The reference's embedding network, for batches of any size."""

  def __init__(self, checkpoint_dir: Optional[str] = None, precision: str = 'float32',
               resize: str = DEFAULT_RESIZE):
    """Loads `rgb_imagenet` from `checkpoint_dir` (default: the provisioned one);
    frames are resized by `resize` (one of `RESIZES`).

    Raises:
      MissingCheckpointError: When it is not there (no fallback to other weights).
    """
    if resize not in RESIZES:
      raise ValueError(f'Unknown resize {resize!r}; valid: {", ".join(RESIZES)}')
    self.precision = precision
    self.resize = resize
    self.recipe = recipe(resize)
    self._model = releases.load_release(RELEASE, checkpoint_dir, dtype=precision)
    self._forward = tf.function(self._logits, reduce_retracing=True, autograph=False)

  def _logits(self, inputs: tf.Tensor) -> tf.Tensor:
    logits, _ = self._model(inputs, is_training=False)
    return tf.cast(logits, tf.float32)

  def embed_batch(self, videos: Iterable[np.ndarray]) -> np.ndarray:
    """`[B, 400]` float32 embeddings of B videos, each `[T, H, W, 3]` in [0, 255]."""
    return self._forward(tf.stack([prepare(v, self.resize) for v in videos])).numpy()

  def embed(self, videos: Iterable[np.ndarray], batch_size: int) -> Iterator[np.ndarray]:
    """Embeddings of a stream of videos, a `[<= batch_size, 400]` array per batch;
    only one batch of videos is held at a time."""
    batch = []
    for video in videos:
      batch.append(video)
      if len(batch) == batch_size:
        yield self.embed_batch(batch)
        batch = []
    if batch:
      yield self.embed_batch(batch)
