"""Networks holding the original release's checkpoints (the table is `i3d.catalogue`'s)."""

from typing import Optional, Sequence

from i3d import checkpoint
from i3d.catalogue import paths
from i3d.catalogue import Release, Stream, release_prefix
from i3d.model import InceptionI3d


def load_stream(stream: Stream, **model_kwargs) -> InceptionI3d:
  """A model holding a plan's stream: its release's network, from its prefix.

  Raises:
    CheckpointMismatchError: If the checkpoint is not that release's network.
  """
  release = stream.release
  model = InceptionI3d(num_classes=release.num_classes, **model_kwargs)
  load_into(model, stream)
  if model.input_channels != release.channels:
    raise checkpoint.CheckpointMismatchError(
        f'{stream.prefix}: a network for {model.input_channels}-channel inputs, but '
        f'{release.name} takes {release.channels}')
  return model


def load_into(model: InceptionI3d, stream: Stream, exclude: Sequence[str] = ()) -> None:
  """Loads a plan's stream into `model` strictly (see `checkpoint.load_checkpoint`),
  under its release's scope, from the prefix the plan resolved."""
  checkpoint.load_prefix(model, stream.prefix, checkpoint.LAYOUTS[stream.release.layout].scope,
                         exclude)


def release_stream(release: Release, checkpoint_dir: Optional[str] = None) -> Stream:
  """A release as a stream, its prefix found in `<checkpoint_dir>/<name>/`.

  Raises:
    MissingCheckpointError: If the folder holds no checkpoint; the message says what
      belongs there. There is no fallback to another checkpoint or to random weights.
  """
  prefix = release_prefix(release, checkpoint_dir or paths.checkpoint_dir())
  return Stream(release.name, release, prefix)


def verify_stream(stream: Stream) -> None:
  """Checks a plan's checkpoint before any work (see `checkpoint.verify`).

  Raises:
    CheckpointMismatchError: Naming the file and, for damaged data, the variable.
  """
  release = stream.release
  checkpoint.verify(stream.prefix, checkpoint.LAYOUTS[release.layout].scope,
                    release.channels, release.num_classes)


def load_release(release: Release, checkpoint_dir: Optional[str] = None,
                 **model_kwargs) -> InceptionI3d:
  """A model holding a released checkpoint from `<checkpoint_dir>/<name>/`.

  Args:
    release: A value of `catalogue.RELEASES`.
    checkpoint_dir: Folder of the release checkpoints; default `paths.checkpoint_dir()`.
    **model_kwargs: For `InceptionI3d` (`dtype`, `final_endpoint`, ...).

  Raises:
    MissingCheckpointError: If the folder holds no checkpoint; the message says what
      belongs there. There is no fallback to another checkpoint or to random weights.
    CheckpointMismatchError: If the checkpoint is not that release's network.
  """
  return load_stream(release_stream(release, checkpoint_dir), **model_kwargs)
