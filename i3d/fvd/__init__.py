"""Fréchet Video Distance (Unterthiner et al. 2018) with the reference's exact recipe.

The embedding (`embedding`), the distance (`distance`) and the kernel distance are those
of google-research's `frechet_video_distance` and TF-GAN, step for step; `inputs` reads
arrays, video files and saved statistics; `metric` chains them; `protocols` and `drawn`
draw clips as published protocols do. See `python -m i3d.fvd`.
"""

from i3d.fvd.distance import Statistics, frechet_distance, kernel_distance
from i3d.fvd.embedding import EMBEDDING_SIZE, Embedder
from i3d.fvd.inputs import InputError, array_set, open_set
from i3d.fvd.metric import embed_set, fvd, fvd_of_arrays, kvd, merge
from i3d.fvd.protocols import PROTOCOLS, Protocol
from i3d.fvd.saved import Drawn, Embedded, Settings

__all__ = [
    'Drawn', 'EMBEDDING_SIZE', 'Embedded', 'Embedder', 'InputError', 'PROTOCOLS', 'Protocol',
    'Settings', 'Statistics',
    'array_set', 'embed_set', 'frechet_distance', 'fvd', 'fvd_of_arrays',
    'kernel_distance', 'kvd', 'merge', 'open_set',
]
