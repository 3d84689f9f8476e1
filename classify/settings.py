"""What a run computes; shared by the local command and the Beam pipeline."""

import dataclasses
from typing import Any, Dict

from i3d import releases
from classify import network
import preprocess

PRECISIONS = ('float32', 'bfloat16')


@dataclasses.dataclass(frozen=True)
class Settings:
  """How every video of a run is processed.

  Attributes:
    eval_type: `auto` (joint when the flow checkpoint is there, else rgb), `rgb`,
      `flow`, `joint` (RGB + flow logits, equal weight) or `rgb600` (Kinetics-600).
    imagenet_pretrained: The ImageNet-inflated checkpoints, or those from scratch.
    checkpoint_dir: Folder of the release checkpoints, `<name>/model.ckpt.*`.
    recipe: Preprocessing recipe, `kinetics` or `mediapipe` (see preprocess).
    window_frames: Window length in frames at 25 fps; 0 runs each stream once over the
      whole clip, the release's test protocol.
    window_stride: Frames between window starts.
    batch_size: Windows per forward pass.
    top_k: Classes kept per video in the results and the summary (at least 5, so that
      top-5 accuracy can be computed).
    precision: `float32` or `bfloat16`.
    plots: Write a PNG of the top classes' probabilities over time per video.
  """
  eval_type: str = 'auto'
  imagenet_pretrained: bool = True
  checkpoint_dir: str = releases.DEFAULT_CHECKPOINT_DIR
  recipe: str = 'kinetics'
  window_frames: int = 64
  window_stride: int = 32
  batch_size: int = 8
  top_k: int = 5
  precision: str = 'float32'
  plots: bool = True

  def __post_init__(self):
    if self.eval_type not in network.EVAL_TYPES:
      raise ValueError(f'Unknown eval_type {self.eval_type!r}; valid: '
                       f'{", ".join(network.EVAL_TYPES)}')
    if self.recipe not in preprocess.RECIPES:
      raise ValueError(f'Unknown recipe {self.recipe!r}; valid: '
                       f'{", ".join(preprocess.RECIPES)}')
    if self.precision not in PRECISIONS:
      raise ValueError(f'Unknown precision {self.precision!r}; valid: '
                       f'{", ".join(PRECISIONS)}')
    if self.window_frames != 0 and self.window_frames < preprocess.MIN_FRAMES:
      raise ValueError(f'window_frames must be 0 (whole clip) or at least '
                       f'{preprocess.MIN_FRAMES}, got {self.window_frames}')
    if self.window_stride < 1 or self.batch_size < 1:
      raise ValueError(f'window_stride and batch_size must be positive, got '
                       f'{self.window_stride} and {self.batch_size}')
    if self.top_k < 5:
      raise ValueError(f'top_k must be at least 5, got {self.top_k}')

  def resolved(self) -> 'Settings':
    """These settings with `auto` replaced by the eval type it stands for here."""
    return dataclasses.replace(self, eval_type=network.resolve_eval_type(
        self.eval_type, self.imagenet_pretrained, self.checkpoint_dir))

  def modalities(self):
    return tuple(dict.fromkeys(releases.input_modality(s)
                               for s in releases.STREAMS[self.resolved().eval_type]))

  def identity(self) -> Dict[str, Any]:
    """What decides the results' values: two runs into one folder must agree on it."""
    resolved = self.resolved()
    return {
        'eval_type': resolved.eval_type,
        'checkpoints': [r.name for r in releases.releases_of(resolved.eval_type,
                                                            self.imagenet_pretrained)],
        'recipe': self.recipe,
        'window_frames': self.window_frames,
        'window_stride': self.window_stride,
        'top_k': self.top_k,
        'precision': self.precision,
    }
