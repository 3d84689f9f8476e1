"""Many videos through I3D: classification, features and accuracy, resumable, on one
machine (`classify_videos`, `python -m classify`) or on Apache Beam (`classify.beam`)."""

from classify.network import Networks
from classify.result import from_bytes, metadata
from classify.run import RunSummary, classify_videos
from classify.settings import Settings
from classify.sources import SourceError, Video, list_videos
from classify.work import SettingsMismatchError

__all__ = [
    'Networks', 'RunSummary', 'Settings', 'SettingsMismatchError', 'SourceError', 'Video',
    'classify_videos', 'from_bytes', 'list_videos', 'metadata',
]
