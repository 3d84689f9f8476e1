"""Many videos through I3D: classification, features and accuracy, resumable, on one
machine (`classify_videos`, `python -m i3d.classify`) or on Apache Beam
(`i3d.classify.beam`).

The names below load on first use, so that the preprocessing workers, which import
`i3d.classify.scratch`, never import TensorFlow.
"""

import importlib

_EXPORTS = {
    'Networks': 'i3d.classify.network',
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


def __getattr__(name):
  if name not in _EXPORTS:
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
  value = getattr(importlib.import_module(_EXPORTS[name]), name)
  globals()[name] = value
  return value


def __dir__():
  return sorted(list(globals()) + __all__)
