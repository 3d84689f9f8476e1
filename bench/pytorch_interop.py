"""The converter against real PyTorch and pytorch-i3d's own model, where both are at hand
(neither is a dependency of the project): the provisioned RGB weights written as `.pt`
here, read by `torch.load(path, weights_only=True)`, taken by pytorch-i3d's
`InceptionI3d.load_state_dict` (strict), and run by it on the sample against this
project's network; and pytorch-i3d's state dict saved by `torch.save` in both formats,
read back here.

  python -m venv /tmp/tv && /tmp/tv/bin/pip install torch==2.13.0 numpy
  .venv/bin/python bench/pytorch_interop.py --torch_python /tmp/tv/bin/python \
      --pytorch_i3d path/to/pytorch-i3d/pytorch_i3d.py --json bench/results/pytorch_interop.json
"""

import json
import os
import subprocess
import sys
import tempfile

from absl import app
from absl import flags
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench import record  # noqa: E402  pylint: disable=g-import-not-at-top
from i3d import catalogue  # noqa: E402  pylint: disable=g-import-not-at-top
from i3d import convert  # noqa: E402  pylint: disable=g-import-not-at-top
from i3d import provision  # noqa: E402  pylint: disable=g-import-not-at-top
from i3d import releases  # noqa: E402  pylint: disable=g-import-not-at-top
from i3d.catalogue import paths  # noqa: E402  pylint: disable=g-import-not-at-top
from i3d.preprocess import sample  # noqa: E402  pylint: disable=g-import-not-at-top
from i3d.pytorch import serialization  # noqa: E402  pylint: disable=g-import-not-at-top
from i3d.quiet_tf import tf  # noqa: E402  pylint: disable=g-import-not-at-top

_TORCH_PYTHON = flags.DEFINE_string('torch_python', None, 'A Python with torch installed.',
                                    required=True)
_PYTORCH_I3D = flags.DEFINE_string('pytorch_i3d', None, "pytorch-i3d's pytorch_i3d.py.",
                                   required=True)
_JSON = flags.DEFINE_string('json', None, 'Where to write the figures.')
_FRAMES = 64

# Runs under the torch Python: argv = pytorch_i3d.py, our .pt, the clip, out folder.
_IN_TORCH = r'''
import importlib.util, sys, json
import numpy as np
import torch
spec = importlib.util.spec_from_file_location('pytorch_i3d', sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
state = torch.load(sys.argv[2], weights_only=True)
model = module.InceptionI3d(400, in_channels=3)
result = model.load_state_dict(state, strict=True)
model.eval()
clip = torch.from_numpy(np.load(sys.argv[3]).transpose(0, 4, 1, 2, 3).copy())
with torch.no_grad():
  logits = model(clip).mean(dim=2)[0].numpy()
  features = model.extract_features(clip)[0].mean(dim=(1, 2, 3)).numpy()
np.save(sys.argv[4] + '/torch_logits.npy', logits)
np.save(sys.argv[4] + '/torch_features.npy', features)
sd = model.state_dict()
torch.save(sd, sys.argv[4] + '/zip.pt')
torch.save(sd, sys.argv[4] + '/legacy.pt', _use_new_zipfile_serialization=False)
json.dump({'torch': torch.__version__, 'missing': list(result.missing_keys),
           'unexpected': list(result.unexpected_keys), 'entries': len(state)},
          open(sys.argv[4] + '/torch.json', 'w'))
'''


def main(argv):
  del argv
  provision.provision()
  source = os.path.join(paths.checkpoint_dir(), 'rgb_imagenet')
  clip = np.load(f'{sample.provision()}_rgb.npy', mmap_mode='r')[:, :_FRAMES]
  model = releases.load_release(catalogue.RELEASES['rgb_imagenet'])
  logits, ends = model(np.asarray(clip), is_training=False)
  ours = logits.numpy()[0]
  # pytorch-i3d's extract_features: Mixed_5c average-pooled [2, 7, 7] with stride 1 (7
  # windows over 8 time steps here), then averaged over them here, as on its side.
  pooled = tf.nn.avg_pool3d(ends['Mixed_5c'], [1, 2, 7, 7, 1], [1] * 5, 'VALID')
  features = pooled.numpy()[0].mean(axis=(0, 1, 2))
  with tempfile.TemporaryDirectory() as scratch:
    path = os.path.join(scratch, 'rgb_imagenet.pt')
    convert.release_to_pytorch(source, path)
    np.save(os.path.join(scratch, 'clip.npy'), np.asarray(clip))
    subprocess.run([_TORCH_PYTHON.value, '-c', _IN_TORCH, _PYTORCH_I3D.value, path,
                    os.path.join(scratch, 'clip.npy'), scratch], check=True)
    report = json.load(open(os.path.join(scratch, 'torch.json')))
    theirs = np.load(os.path.join(scratch, 'torch_logits.npy'))
    their_features = np.load(os.path.join(scratch, 'torch_features.npy'))
    expected = convert.to_pytorch_i3d(convert.read_release(source)[0])
    read_back = {}
    for name in ('zip.pt', 'legacy.pt'):
      loaded = serialization.load(os.path.join(scratch, name))
      read_back[name] = bool(list(loaded) == list(expected) and all(
          np.array_equal(loaded[k], v) and loaded[k].dtype == v.dtype
          for k, v in expected.items()))
  figures = {
      'torch': report['torch'],
      'clip': f'the sample, first {_FRAMES} frames',
      'torch_load_weights_only': True,
      'load_state_dict_strict': {'missing': report['missing'],
                                 'unexpected': report['unexpected'],
                                 'entries': report['entries']},
      'logits_max_abs_difference': float(np.abs(theirs - ours).max()),
      'largest_logit': float(np.abs(ours).max()),
      'features_max_abs_difference': float(np.abs(their_features - features).max()),
      'same_top5': [int(i) for i in np.argsort(-ours)[:5]] ==
                   [int(i) for i in np.argsort(-theirs)[:5]],
      'torch_saved_read_back_bit_for_bit': read_back,
  }
  print(json.dumps(figures, indent=1))
  if _JSON.value:
    record.write(_JSON.value, figures)


if __name__ == '__main__':
  app.run(main)
