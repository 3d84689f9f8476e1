"""What exists, stated once: the release's checkpoints, the evaluation types built from
them, their class lists, the input geometry, the precisions, and the project's folders.

Imports nothing heavier than the standard library, so that every package (the
TensorFlow-free `preprocess` too) and every worker process can read it.
"""

from i3d_catalogue import paths
from i3d_catalogue.geometry import CHANNELS, FEATURE_SIZE, FPS, IMAGE_SIZE, MIN_FRAMES
from i3d_catalogue.plan import (CHECKPOINT_BASENAME, MissingCheckpointError, Plan, Stream,
                                checkpoint_prefix, has_checkpoint, make_plan,
                                model_plan, release_prefix)
from i3d_catalogue.releases import (EVAL_TYPES, EVAL_TYPES_WITH_AUTO, RELEASES, STREAMS,
                                    Release, read_labels, release_for, releases_of)

# Network precisions: bfloat16 is faster only on hardware with bfloat16 units. What
# `--precision` takes adds `auto`: bfloat16 where there are such units, else float32.
PRECISIONS = ('float32', 'bfloat16')
PRECISION_CHOICES = ('auto',) + PRECISIONS
# Preprocessing recipes (see `preprocess.transforms`): the release's README, MediaPipe's.
RECIPES = ('kinetics', 'mediapipe')
# TV-L1 implementations (see `preprocess.flow`): the same flow, bit for bit, on every
# video measured; `fast` (compiled, fused) is 5 to 10 times faster than OpenCV's.
FLOW_IMPLS = ('fast', 'opencv')

__all__ = [
    'CHANNELS', 'CHECKPOINT_BASENAME', 'EVAL_TYPES', 'EVAL_TYPES_WITH_AUTO',
    'FEATURE_SIZE', 'FLOW_IMPLS', 'FPS', 'IMAGE_SIZE', 'MIN_FRAMES', 'MissingCheckpointError', 'PRECISIONS',
    'PRECISION_CHOICES', 'Plan', 'RECIPES', 'RELEASES', 'Release', 'STREAMS', 'Stream', 'checkpoint_prefix', 'has_checkpoint',
    'make_plan', 'model_plan', 'paths', 'read_labels', 'release_for',
    'release_prefix', 'releases_of',
]
