"""Features for localization, anomaly detection and retrieval: per video, Mixed_5c
averaged over time and space for every snippet of a few frames (`extract_videos`,
`python -m i3d.features`). Preprocessing, workers, resumption and faults are
classification's. The names below load on first use (TensorFlow only with the networks).
"""

from i3d.system import lazy

_EXPORTS = {
    'FeatureSettings': 'i3d.features.settings',
    'PRESETS': 'i3d.features.settings',
    'RunSummary': 'i3d.features.run',
    'extract_videos': 'i3d.features.run',
    'snippet_starts': 'i3d.features.snippets',
    'video_features': 'i3d.features.extract',
}
__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy.exports(globals(), _EXPORTS)
