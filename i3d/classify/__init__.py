"""Many videos through I3D: classification, features and accuracy, resumable, on one
machine (`classify_videos`, `python -m i3d.classify`) or on Apache Beam
(`i3d.classify.beam`).

The names below load on first use, so that the preprocessing workers, which import
`i3d.classify.scratch`, never import TensorFlow.
"""

from i3d.system import lazy

_EXPORTS = {
    'Networks': 'i3d.runtime.networks',
    'RunSummary': 'i3d.classify.run',
    'Settings': 'i3d.classify.settings',
    'SettingsMismatchError': 'i3d.system.claims',
    'SourceError': 'i3d.videosets.sources',
    'Video': 'i3d.videosets.sources',
    'classify_videos': 'i3d.classify.run',
    'from_bytes': 'i3d.classify.result',
    'list_videos': 'i3d.videosets.sources',
    'metadata': 'i3d.classify.result',
}
__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy.exports(globals(), _EXPORTS)
