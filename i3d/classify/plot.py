"""A PNG of a video's top classes' probabilities over time, one point per window."""

import io
from typing import Dict
import warnings

import matplotlib

matplotlib.use('Agg')  # Files only, no display.
from matplotlib import pyplot  # pylint: disable=g-import-not-at-top
import numpy as np

from i3d.catalogue import FPS
from i3d.classify import prediction
from i3d.classify import result as result_lib


def plot_png(arrays: Dict[str, np.ndarray], top: int = 5) -> bytes:
  """The video's `top` classes (by its whole-video prediction): each window's softmax
  probability for them, at the window's centre in seconds."""
  meta = result_lib.metadata(arrays)
  length = meta['window_length'] or max(meta['frames'].values())
  centres = (arrays['window_starts'] + length / 2) / FPS
  probabilities = prediction.softmax(arrays['window_logits'])
  figure, axes = pyplot.subplots(figsize=(8, 4), dpi=100)
  try:
    with warnings.catch_warnings():
      # A title in a script the font lacks draws boxes; the warning per glyph says no more.
      warnings.filterwarnings('ignore', message=r'Glyph \d+ .*missing from')
      for index, name in list(zip(arrays['top_k_indices'], arrays['top_k_classes']))[:top]:
        axes.plot(centres, probabilities[:, index], marker='o', markersize=3, label=name)
      axes.set_xlabel(f'window centre (s); windows of {length} frames at {FPS} fps')
      axes.set_ylabel('probability')
      axes.set_ylim(0, 1)
      axes.set_title(meta['id'])
      axes.legend(loc='upper left', bbox_to_anchor=(1.01, 1), fontsize='small')
      figure.tight_layout()
      buffer = io.BytesIO()
      figure.savefig(buffer, format='png')
  finally:
    pyplot.close(figure)
  return buffer.getvalue()
