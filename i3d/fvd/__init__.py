"""Fréchet Video Distance (Unterthiner et al. 2018) with the reference's exact recipe.

The embedding (`embedding`), the distance (`distance`) and the kernel distance are those
of google-research's `frechet_video_distance` and TF-GAN, step for step; `recipes` names
what an embedding's statistics record of its recipe; `inputs` reads arrays, video files
and saved statistics; `metric` chains them; `protocols` and `drawn`
draw clips as published protocols do. See `python -m i3d.fvd`.
"""

from i3d.system import lazy

# Loaded on first use (PEP 562): the command reads its flags before TensorFlow loads.
_EXPORTS = {
    'Drawn': 'i3d.fvd.saved',
    'EMBEDDING_SIZE': 'i3d.fvd.recipes',
    'Embedded': 'i3d.fvd.saved',
    'Embedder': 'i3d.fvd.embedding',
    'InputError': 'i3d.fvd.inputs',
    'PROTOCOLS': 'i3d.fvd.protocols',
    'Protocol': 'i3d.fvd.protocols',
    'Settings': 'i3d.fvd.saved',
    'Statistics': 'i3d.fvd.distance',
    'array_set': 'i3d.fvd.inputs',
    'embed_set': 'i3d.fvd.metric',
    'frechet_distance': 'i3d.fvd.distance',
    'fvd': 'i3d.fvd.metric',
    'fvd_of_arrays': 'i3d.fvd.metric',
    'kernel_distance': 'i3d.fvd.distance',
    'kvd': 'i3d.fvd.metric',
    'merge': 'i3d.fvd.metric',
    'open_set': 'i3d.fvd.inputs',
}
__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy.exports(globals(), _EXPORTS)
