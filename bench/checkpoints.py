"""A checkpoint folder for benchmarks with a flow stream: no flow checkpoint is in a
registry, and a network's speed does not depend on its weights."""

import os

from i3d import checkpoint
from i3d import model as model_lib
from i3d.catalogue import paths


def flow_checkpoint_dir(root: str) -> str:
  """`root`, holding rgb_imagenet (linked) beside a flow_imagenet of random values in
  the release's layout."""
  os.symlink(os.path.join(paths.checkpoint_dir(), 'rgb_imagenet'),
             os.path.join(root, 'rgb_imagenet'))
  model = model_lib.InceptionI3d()
  checkpoint.build(model, 2)
  checkpoint.save_release_checkpoint(model, os.path.join(root, 'flow_imagenet'), 'flow')
  return root
