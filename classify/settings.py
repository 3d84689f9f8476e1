"""What a run computes; shared by the local command and the Beam pipeline."""

import dataclasses
from typing import Any, Dict, Optional

import i3d_catalogue
from i3d_catalogue import Plan, paths


@dataclasses.dataclass(frozen=True)
class Settings:
  """How every video of a run is processed: a plain value, checked on construction.

  Attributes:
    eval_type: `auto` (joint when the flow checkpoint is there, else rgb), `rgb`,
      `flow`, `joint` (RGB + flow logits, equal weight) or `rgb600` (Kinetics-600).
    imagenet_pretrained: The ImageNet-inflated checkpoints, or those from scratch.
    checkpoint_dir: Folder of the release checkpoints, `<name>/model.ckpt.*`.
    recipe: Preprocessing recipe, `kinetics` or `mediapipe` (see preprocess).
    flow_impl: TV-L1 implementation, `fast` or `opencv` (see preprocess.flow); recorded
      with the results of runs with a flow stream.
    window_frames: Window length in frames at 25 fps; 0 runs each stream once over the
      whole clip, the release's test protocol.
    window_stride: Frames between window starts.
    batch_size: Windows per forward pass.
    top_k: Classes kept per video in the results and the summary (at least 5, so that
      top-5 accuracy can be computed).
    precision: `float32`, `bfloat16` or `auto` (bfloat16 where there are bfloat16
      units; resolved at launch, and the results record which it was).
    plots: Write a PNG of the top classes' probabilities over time per video.
    model_dir: A model trained by `python -m train`, run instead of the release's
      checkpoints (with its own classes); `eval_type` and `checkpoint_dir` are unused.
  """
  eval_type: str = 'auto'
  imagenet_pretrained: bool = True
  checkpoint_dir: str = dataclasses.field(default_factory=paths.checkpoint_dir)
  recipe: str = 'kinetics'
  flow_impl: str = 'fast'
  window_frames: int = 64
  window_stride: int = 32
  batch_size: int = 8
  top_k: int = 5
  precision: str = 'float32'
  plots: bool = True
  model_dir: Optional[str] = None

  def __post_init__(self):
    choices = (('eval_type', i3d_catalogue.EVAL_TYPES_WITH_AUTO), ('recipe', i3d_catalogue.RECIPES),
               ('precision', i3d_catalogue.PRECISION_CHOICES),
               ('flow_impl', i3d_catalogue.FLOW_IMPLS))
    for name, valid in choices:
      if getattr(self, name) not in valid:
        raise ValueError(f'Unknown {name} {getattr(self, name)!r}; valid: '
                         f'{", ".join(valid)}')
    if self.window_frames != 0 and self.window_frames < i3d_catalogue.MIN_FRAMES:
      raise ValueError(f'window_frames must be 0 (whole clip) or at least '
                       f'{i3d_catalogue.MIN_FRAMES}, got {self.window_frames}')
    if self.window_stride < 1 or self.batch_size < 1:
      raise ValueError(f'window_stride and batch_size must be positive, got '
                       f'{self.window_stride} and {self.batch_size}')
    if self.top_k < 5:
      raise ValueError(f'top_k must be at least 5, got {self.top_k}')

  def make_plan(self) -> Plan:
    """The networks these settings run, `auto` resolved, checkpoints found on disk.

    Raises:
      MissingCheckpointError: If a needed checkpoint is absent.
    """
    if self.model_dir:
      return i3d_catalogue.model_plan(self.model_dir)
    return i3d_catalogue.make_plan(self.eval_type, self.imagenet_pretrained,
                                   self.checkpoint_dir)

  def identity(self, plan: Plan) -> Dict[str, Any]:
    """What decides the results' values: two runs into one folder must agree on it."""
    identity = {
        'eval_type': plan.eval_type,
        'checkpoints': plan.checkpoint_names,
        'recipe': self.recipe,
        'window_frames': self.window_frames,
        'window_stride': self.window_stride,
        'top_k': self.top_k,
        'precision': self.precision,
    }
    if 'flow' in plan.modalities:
      identity['flow_impl'] = self.flow_impl
    return identity
