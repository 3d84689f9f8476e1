"""FVD under a protocol: clips drawn from each set once per seed, each distinct clip
embedded once across the draws, one distance per draw."""

from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np

from i3d.fvd import distance
from i3d.fvd import protocols
from i3d.fvd.inputs import InputError, VideoSet
from i3d.fvd.saved import Drawn, Settings


def draw_set(videos: VideoSet, side: str, protocol: protocols.Protocol,
             seeds: Sequence[int]) -> List[protocols.Draw]:
  """The set's draws, one per seed.

  Raises:
    InputError: If no video of the set holds a clip's span.
  """
  lengths = videos.lengths()
  try:
    return [protocols.draw_clips(lengths, protocol, seed, side, videos.source)
            for seed in seeds]
  except ValueError as e:
    raise InputError(str(e)) from e


def embed_draws(videos: VideoSet, draws: Sequence[protocols.Draw],
                protocol: protocols.Protocol, embedder, batch_size: int,
                progress: Optional[Callable[[int], None]] = None) -> Drawn:
  """The statistics of each draw; every distinct clip goes through the network once,
  in full batches."""
  clips = protocols.distinct_clips(draws)
  rows = {clip: row for row, clip in enumerate(clips)}
  embedded = []
  for batch in embedder.embed(videos.cut(clips), batch_size):
    embedded.append(batch)
    if progress:
      progress(len(batch))
  embeddings = np.concatenate(embedded)
  statistics = tuple(distance.Statistics.of(embeddings[[rows[c] for c in draw.clips]])
                     for draw in draws)
  settings = Settings(protocol.frames, embedder.precision, embedder.recipe)
  return Drawn(videos.source, settings, protocol.name, protocol.clips,
               tuple(d.seed for d in draws), statistics)


def distances(real: Drawn, generated: Drawn) -> Tuple[float, ...]:
  """The FVD of each draw (the same seeds on both sides, in order).

  Raises:
    InputError: If the two differ in protocol, clips, settings or seeds.
  """
  mismatch = real.mismatch(generated)
  if mismatch:
    raise InputError(mismatch)
  if real.seeds != generated.seeds:
    raise InputError(f'{generated.source}: draws of seeds {list(generated.seeds)}, but '
                     f'{real.source} has {list(real.seeds)}')
  return tuple(distance.frechet_distance(r, g)
               for r, g in zip(real.statistics, generated.statistics))
