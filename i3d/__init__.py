"""Kinetics I3D (Carreira & Zisserman, CVPR 2017) on TensorFlow 2 and Sonnet 2.

The model's names below load TensorFlow on first use (PEP 562), so that `import i3d` and
its TensorFlow-free parts (`i3d.catalogue`, `i3d.system`, `i3d.videosets`, and the
top-level `preprocess` that uses them) stay cheap for the preprocessing workers.

Subpackages: `catalogue` (what exists), `system` (files, locks, stores, the process
pool, downloads, the CPU), `videosets` (video lists, labelled sets, accuracy),
`classify`, `train`, `fvd`, `live`; modules `model`, `checkpoint`, `releases`,
`precision`, `export`, `evaluate_sample`, `provision`, `flags`.
"""

from i3d.system import lazy

_EXPORTS = {
    'BatchNorm': 'i3d.batch_norm',
    'CheckpointMismatchError': 'i3d.checkpoint',
    'InceptionBlock': 'i3d.model',
    'InceptionI3d': 'i3d.model',
    'LAYOUTS': 'i3d.checkpoint',
    'Layout': 'i3d.checkpoint',
    'Unit3D': 'i3d.model',
    'checkpoint_prefix': 'i3d.checkpoint',
    'load_checkpoint': 'i3d.checkpoint',
    'save_checkpoint': 'i3d.checkpoint',
    'save_release_checkpoint': 'i3d.checkpoint',
    'write_release_checkpoint': 'i3d.checkpoint',
}
__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy.exports(globals(), _EXPORTS)
