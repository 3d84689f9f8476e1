"""What decides an FVD embedding besides the frames and precision, as recorded in saved
statistics, and the resize variants: TensorFlow-free, so that `python -m i3d.fvd` reads
its flags (and answers `--help`) before TensorFlow loads."""

from i3d.catalogue import RELEASES

RELEASE = RELEASES['rgb_imagenet']
EMBEDDING_SIZE = RELEASE.num_classes
# Recorded in saved statistics, so that statistics made otherwise are refused.
RECIPE = ('frames in [0, 255] resized to 224x224 by TF1 bilinear (align_corners=False, '
          'half_pixel_centers=False), 2x/255-1, rgb_imagenet time-averaged logits')
RESIZES = {
    'tf1_bilinear': 'TF1 bilinear (align_corners=False, half_pixel_centers=False)',
    'half_pixel_bilinear': 'half-pixel bilinear (PyTorch align_corners=False, TF2 '
                           'tf.image.resize without antialias)',
    'area': 'area (TF ResizeArea, align_corners=False)',
}
DEFAULT_RESIZE = 'tf1_bilinear'


def recipe(resize: str = DEFAULT_RESIZE) -> str:
  """The recipe's description with `resize` (the reference's: `RECIPE` itself)."""
  return RECIPE.replace(RESIZES[DEFAULT_RESIZE], RESIZES[resize])
