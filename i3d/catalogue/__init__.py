"""What exists, stated once: the release's checkpoints, the evaluation types built from
them, their class lists, the input geometry, the precisions, and the project's folders.

Imports nothing heavier than the standard library, so that every package (the
TensorFlow-free `preprocess` too) and every worker process can read it.
"""

from i3d.catalogue import paths
from i3d.catalogue.geometry import (CHANNELS, FEATURE_SIZE, FPS, IMAGE_SIZE, MIN_FRAMES,
                                    MODALITIES)
from i3d.catalogue.plan import (CHECKPOINT_BASENAME, MissingCheckpointError, Plan, Stream,
                                checkpoint_prefix, has_checkpoint, make_plan, model_plan,
                                release_prefix)
from i3d.catalogue.releases import (EVAL_TYPES, EVAL_TYPES_WITH_AUTO, RELEASES,
                                    RGB_EVAL_TYPES, Release, STREAMS, read_labels,
                                    release_for, releases_of)

# Network precisions: bfloat16 is faster only on hardware with bfloat16 units. What
# `--precision` takes adds `auto`: bfloat16 where there are such units, else float32.
PRECISIONS = ('float32', 'bfloat16')
PRECISION_CHOICES = ('auto',) + PRECISIONS
# Back-ends of the commands that run a fixed network many times (`i3d.runtime`), and
# the precisions they take: int8 only on OpenVINO.
BACKENDS = ('tensorflow', 'openvino')
BACKEND_PRECISION_CHOICES = PRECISION_CHOICES + ('int8',)
# int8's calibration clips by default, and their length (`i3d.runtime.int8`).
CALIBRATION_CLIPS = 256
CALIBRATION_CLIP_FRAMES = 32
# Crops per clip that multi-view testing takes (`i3d.classify.views`): the centre, three
# along the longer side, ten (four corners and the centre, and their mirrors).
SPATIAL_VIEWS = (1, 3, 10)
# Preprocessing recipes (see `i3d.preprocess.transforms`): the release's README, MediaPipe's.
RECIPES = ('kinetics', 'mediapipe')
# TV-L1 implementations (see `i3d.preprocess.flow`): the same flow, bit for bit, on every
# video measured; `fast` (compiled, fused) is 5 to 10 times faster than OpenCV's.
FLOW_IMPLS = ('fast', 'opencv')
DEFAULT_FLOW_IMPL = FLOW_IMPLS[0]


def check_flow_impl(impl: str) -> str:
  """Returns `impl` if it is a TV-L1 implementation; raises ValueError naming it."""
  if impl not in FLOW_IMPLS:
    raise ValueError(f'Unknown flow implementation {impl!r}; valid: {", ".join(FLOW_IMPLS)}')
  return impl

__all__ = [
    'BACKENDS', 'BACKEND_PRECISION_CHOICES', 'CALIBRATION_CLIPS', 'CALIBRATION_CLIP_FRAMES',
    'CHANNELS', 'CHECKPOINT_BASENAME', 'DEFAULT_FLOW_IMPL', 'EVAL_TYPES',
    'EVAL_TYPES_WITH_AUTO', 'FEATURE_SIZE', 'FLOW_IMPLS', 'FPS', 'IMAGE_SIZE', 'MIN_FRAMES',
    'MODALITIES', 'MissingCheckpointError', 'PRECISIONS', 'PRECISION_CHOICES', 'Plan',
    'RECIPES', 'RELEASES', 'RGB_EVAL_TYPES', 'Release', 'SPATIAL_VIEWS', 'STREAMS', 'Stream',
    'check_flow_impl', 'checkpoint_prefix', 'has_checkpoint', 'make_plan', 'model_plan',
    'paths', 'read_labels', 'release_for', 'release_prefix', 'releases_of',
]
