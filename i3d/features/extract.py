"""A video's feature array from its preprocessed inputs."""

from typing import Dict, List, Tuple, TYPE_CHECKING

import numpy as np

from i3d.classify import prediction
from i3d.classify import views
from i3d.features.settings import FeatureSettings
from i3d.features.snippets import snippet_starts

if TYPE_CHECKING:  # Only for the annotations: the networks need TensorFlow.
  from i3d.runtime.networks import Networks  # pylint: disable=g-bad-import-order


def video_features(inputs: Dict[str, np.ndarray], networks: 'Networks',
                   settings: FeatureSettings) -> Tuple[np.ndarray, List[int], int]:
  """Features float32 `[N, D]` (`[N, crops, D]` with several crops) of inputs
  `{modality: [1, T, H, W, C]}`: Mixed_5c averaged over time and space per snippet,
  the streams' concatenated in the plan's order (RGB, then flow). Also the snippets'
  first frames and their length (the video's, if shorter than a snippet).

  Each frame was preprocessed once; snippets are slices of the arrays, batched.
  """
  common = min(int(a.shape[1]) for a in inputs.values())
  starts = snippet_starts(common, settings.snippet_frames, settings.snippet_stride)
  length = min(settings.snippet_frames, common)
  height, width = next(iter(inputs.values())).shape[2:4]
  crops = views.spatial_crops(height, width, settings.spatial_views)
  per_stream = [
      prediction.run_views(networks, stream.name, inputs[stream.modality][0], starts,
                           length, crops, settings.batch_size)[1]
      for stream in networks.plan.streams]
  features = np.concatenate(per_stream, axis=-1).astype(np.float32)
  if settings.spatial_views == 1:
    features = features[:, 0]
  return features, starts, length
