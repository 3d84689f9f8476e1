"""Many videos through I3D: classification, features and accuracy, resumable, on one
machine (`classify_videos`, `python -m classify`) or on Apache Beam (`classify.beam`).

The names below load on first use, so that the preprocessing workers, which import
`classify.scratch`, never import TensorFlow.
"""

import importlib

_EXPORTS = {
    'Networks': 'classify.network',
    'RunSummary': 'classify.run',
    'Settings': 'classify.settings',
    'SettingsMismatchError': 'classify.launch',
    'SourceError': 'classify.sources',
    'Video': 'classify.sources',
    'classify_videos': 'classify.run',
    'from_bytes': 'classify.result',
    'list_videos': 'classify.sources',
    'metadata': 'classify.result',
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
