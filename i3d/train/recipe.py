"""The training recipe of the paper and the release's README, every value a setting.

SGD with momentum 0.9; learning rate 0.1 from scratch, 0.01 when fine-tuning, divided by
10 at each of `lr_boundaries` (`lr_schedule` `step`, the default; or a `cosine` decay to
0 over the run, or `constant`, and a linear warm-up over `warmup_steps`); weight decay
1e-7 (on the convolution kernels, as TF-slim's L2 regulariser: `decay * sum(w^2) / 2`);
dropout keeping 0.5 before the
logits; clips of `num_frames` at 25 fps from a random start (short videos looped), the
shorter side resized to 256 and a random 224x224 crop, a random left-right flip of the
whole clip (for flow, the horizontal component negated too); batch norm trained with
the release's semantics (its statistics recomputed over `precise_bn_batches` training
batches before each evaluation and the final save, when not 0) or frozen. Evaluation: the
centre crop of the whole video, as the release tests (`classify --window_frames 0`).
"""

import dataclasses
import math
from typing import Any, Dict, Optional, Tuple

from i3d.catalogue import (DEFAULT_FLOW_IMPL, FLOW_IMPLS, MODALITIES, PRECISIONS,
                           RELEASES)
from i3d.catalogue.geometry import MAX_FRAMES

TRAIN_LAYERS = ('all', 'logits')
LR_SCHEDULES = ('step', 'constant', 'cosine')
# Warm-up starts at this fraction of the rate (MMAction2's LinearLR, start_factor 0.1).
WARMUP_START = 0.1


@dataclasses.dataclass(frozen=True)
class Recipe:
  """What decides a training run's result (a run resumes only under the same)."""
  modality: str = 'rgb'
  init: str = 'rgb_imagenet'           # A release, a checkpoint path, or `scratch`.
  train_layers: str = 'all'
  classes: Tuple[str, ...] = ()
  num_frames: int = 64
  batch_size: int = 8
  steps: int = 1000
  learning_rate: Optional[float] = None  # None: 0.1 from scratch, else 0.01.
  lr_boundaries: Tuple[int, ...] = ()
  lr_schedule: str = 'step'
  warmup_steps: int = 0
  momentum: float = 0.9
  weight_decay: float = 1e-7
  dropout_keep_prob: float = 0.5
  flip: bool = True
  freeze_batch_norm: bool = False
  precise_bn_batches: int = 0  # 0: off (i3d.train.precise_bn).
  multilabel: bool = False  # Sigmoid losses on actions' spans (i3d.train.multilabel).
  precision: str = 'float32'          # bfloat16: computation, on float32 variables.
  flow_impl: str = DEFAULT_FLOW_IMPL   # The flow stream's TV-L1 (i3d.preprocess.flow).
  seed: int = 0

  def __post_init__(self):
    for name, valid in (('modality', MODALITIES), ('precision', PRECISIONS),
                        ('flow_impl', FLOW_IMPLS), ('train_layers', TRAIN_LAYERS),
                        ('lr_schedule', LR_SCHEDULES)):
      if getattr(self, name) not in valid:
        raise ValueError(f'--{name} must be one of {", ".join(valid)}, got '
                         f'{getattr(self, name)!r}')
    if self.init in RELEASES and RELEASES[self.init].modality != self.modality:
      raise ValueError(f'--init {self.init} is a {RELEASES[self.init].modality} network, '
                       f'not {self.modality} (--modality)')
    if self.init == 'scratch' and self.train_layers == 'logits':
      raise ValueError('--train_layers logits needs a pretrained --init, not scratch')
    if (sorted(self.lr_boundaries) != list(self.lr_boundaries) or
        any(b < 1 for b in self.lr_boundaries)):
      raise ValueError(f'--lr_boundaries must be positive and increase, got '
                       f'{list(self.lr_boundaries)}')
    if self.lr_boundaries and self.lr_schedule != 'step':
      raise ValueError(f'--lr_boundaries are the step schedule\'s, not '
                       f'--lr_schedule {self.lr_schedule}\'s')
    if not 0 <= self.warmup_steps <= self.steps:
      raise ValueError(f'--warmup_steps must be in 0 .. --steps ({self.steps}), got '
                       f'{self.warmup_steps}')
    if not 0 < self.num_frames <= MAX_FRAMES:  # The network needs 9: the flag says so.
      raise ValueError(f'--num_frames must be positive and at most {MAX_FRAMES}, got '
                       f'{self.num_frames}')
    for name, value, low in (('learning_rate', self.learning_rate, None),
                             ('weight_decay', self.weight_decay, 0),
                             ('seed', self.seed, 0), ('batch_size', self.batch_size, 1),
                             ('precise_bn_batches', self.precise_bn_batches, 0),
                             ('steps', self.steps, 1)):
      if value is not None and not (value > 0 if low is None else value >= low):
        bound = 'more than 0' if low is None else f'at least {low}'
        raise ValueError(f'--{name} must be {bound}, got {value}')
    if not 0 < self.dropout_keep_prob <= 1:
      raise ValueError(f'--dropout_keep_prob must be in (0, 1], got '
                       f'{self.dropout_keep_prob}')

  @property
  def uses_precise_bn(self) -> bool:
    """Whether batch norm's statistics are recomputed: asked for, and batch norm
    trained (frozen, its statistics are the initialisation's and stay so)."""
    return self.precise_bn_batches > 0 and not self.freeze_batch_norm

  @property
  def base_learning_rate(self) -> float:
    if self.learning_rate is not None:
      return self.learning_rate
    return 0.1 if self.init == 'scratch' else 0.01

  def learning_rate_at(self, step: int) -> float:
    """The rate of the step after `step` steps: a function of the step alone, so a
    resumed run goes on as an uninterrupted one.

    `cosine` is PySlowFast's `lr_func_cosine` with its end rate 0, per step:
    `base * (1 + cos(pi * step / steps)) / 2`. The warm-up multiplies the schedule by a
    factor rising linearly from 0.1 at step 0 to 1 at `warmup_steps`, as MMAction2's
    `LinearLR(start_factor=0.1)` chained with its main schedule does.
    """
    if self.lr_schedule == 'cosine':
      rate = self.base_learning_rate * (1 + math.cos(math.pi * step / self.steps)) / 2
    else:
      drops = sum(step >= boundary for boundary in self.lr_boundaries)
      rate = self.base_learning_rate / 10 ** drops
    if step < self.warmup_steps:
      rate *= WARMUP_START + (1 - WARMUP_START) * step / self.warmup_steps
    return rate

  def to_json(self) -> Dict[str, Any]:
    """The settings; the schedule's only when not the default, so that the folders of
    runs from before it existed resume."""
    defaults = {'lr_schedule': 'step', 'warmup_steps': 0, 'precise_bn_batches': 0,
                'multilabel': False}
    return {name: value for name, value in dataclasses.asdict(self).items()
            if not (name in defaults and value == defaults[name])}
