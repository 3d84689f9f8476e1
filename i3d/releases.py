"""Networks holding the original release's checkpoints (the table is `i3d_catalogue`'s)."""

from typing import Optional

from i3d_catalogue import Release, Stream, paths, release_prefix

from i3d import checkpoint
from i3d.model import InceptionI3d


def load_stream(stream: Stream, **model_kwargs) -> InceptionI3d:
  """A model holding a plan's stream: its release's network, from its prefix.

  Raises:
    CheckpointMismatchError: If the checkpoint is not that release's network.
  """
  release = stream.release
  model = InceptionI3d(num_classes=release.num_classes, **model_kwargs)
  checkpoint.load_checkpoint(model, stream.prefix,
                             scope=checkpoint.LAYOUTS[release.layout].scope)
  if model.input_channels != release.channels:
    raise checkpoint.CheckpointMismatchError(
        f'{stream.prefix}: a network for {model.input_channels}-channel inputs, but '
        f'{release.name} takes {release.channels}')
  return model


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
    release: A value of `i3d_catalogue.RELEASES`.
    checkpoint_dir: Folder of the release checkpoints; default `paths.checkpoint_dir()`.
    **model_kwargs: For `InceptionI3d` (`dtype`, `final_endpoint`, ...).

  Raises:
    MissingCheckpointError: If the folder holds no checkpoint; the message says what
      belongs there. There is no fallback to another checkpoint or to random weights.
    CheckpointMismatchError: If the checkpoint is not that release's network.
  """
  prefix = release_prefix(release, checkpoint_dir or paths.checkpoint_dir())
  return load_stream(Stream(release.name, release, prefix), **model_kwargs)
