"""Where a video's feature snippets are: the rule the index documents.

Snippets of `length` frames start every `stride` frames from the first frame, as long
as a whole snippet fits: N = floor((T - length) / stride) + 1 for T frames. Frames after
the last whole snippet (fewer than `stride`) get no snippet of their own: an incomplete
snippet would pool fewer frames than the others and is dropped, not padded. A video
shorter than one snippet is one snippet of all its frames (the network takes any
length from 9 frames), as classification treats a video shorter than its window.

With flow, T is the flow's frame count (one fewer than RGB's): snippet k's flow runs
from each of its frames to the next, so it needs the frame after its last.
"""

from typing import List


def snippet_starts(num_frames: int, length: int, stride: int) -> List[int]:
  """First frames of the snippets over `num_frames` frames.

  Raises:
    ValueError: On a non-positive argument.
  """
  if num_frames < 1 or length < 1 or stride < 1:
    raise ValueError(f'need positive num_frames, length and stride, got {num_frames}, '
                     f'{length} and {stride}')
  if num_frames <= length:
    return [0]
  return list(range(0, num_frames - length + 1, stride))
