"""Kinetics I3D (Carreira & Zisserman, CVPR 2017) on TensorFlow 2 and Sonnet 2."""

# First: TensorFlow without its C++ start-up lines (see quiet_tf).
from i3d.quiet_tf import tf  # noqa: F401  pylint: disable=unused-import
from i3d.batch_norm import BatchNorm
from i3d.checkpoint import (LAYOUTS, CheckpointMismatchError, Layout, checkpoint_prefix,
                            load_checkpoint, save_checkpoint, save_release_checkpoint,
                            write_release_checkpoint)
from i3d.model import InceptionBlock, InceptionI3d, Unit3D

__all__ = [
    'BatchNorm', 'CheckpointMismatchError', 'InceptionBlock', 'InceptionI3d', 'LAYOUTS',
    'Layout', 'Unit3D', 'checkpoint_prefix', 'load_checkpoint', 'save_checkpoint',
    'save_release_checkpoint', 'write_release_checkpoint',
]
