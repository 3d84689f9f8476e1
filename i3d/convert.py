"""Converts I3D weights between the release's TensorFlow layout and pytorch-i3d's PyTorch
state dicts (`.pt`, `.pth`, `.safetensors`), both ways, strictly, without PyTorch.

  # pytorch-i3d's flow weights as the release's flow_imagenet checkpoint:
  python -m i3d.convert --from pytorch-i3d flow_imagenet.pt --to data/checkpoints/flow_imagenet
  # Charades' 157 classes, as a model folder for `classify --model_dir`:
  python -m i3d.convert --from pytorch-i3d rgb_charades.pt --labels Charades_v1_classes.txt \
      --to models/rgb_charades
  # The other way: a release checkpoint or a trained model's folder as a state dict.
  python -m i3d.convert --from release data/checkpoints/rgb_imagenet --to rgb_imagenet.pt

Batch norm's scale. pytorch-i3d's batch norm has a scale `gamma` (`bn.weight`), the
release's has none. In inference (and in fine-tuning with frozen batch norm) a unit
computes `gamma * (conv(x, W) - mean) / sqrt(var + eps) + beta`, which equals
`(conv(x, gamma * W) - gamma * mean) / sqrt(var + eps) + beta`: the scale is folded into
the convolution's output channels and the moving mean, exactly in real arithmetic (any
sign of gamma, zero included), to float32 rounding of one product (2^-24 relative) in
practice. Folding keeps the release's layout, so every command, export and the original
TF1 code read the result; it was chosen over a scale variable outside that layout, which
nothing else would read. Training batch norm afresh (`--nofreeze_batch_norm`) normalizes
by the batch's statistics, where the folded scale survives only as its sign, as with the
release's own checkpoints, which never had one. The other way, the scale written is 1,
so release -> PyTorch -> release is bit for bit.
"""

import collections
import json
import os
from typing import Any, Dict, Mapping, Optional, Tuple

from absl import app
from absl import flags
import numpy as np

from i3d.catalogue import CHANNELS
from i3d.catalogue import plan as plan_lib
from i3d.pytorch import i3d_names
from i3d.pytorch import serialization
from i3d.system import faults
from i3d.system import files
from i3d.videosets import multilabel

# `checkpoint` and the model (TensorFlow) are imported where they are used, so that the
# command answers --help and bad flags at once.
FORMATS = ('pt', 'safetensors')
SOURCES = ('pytorch-i3d', 'release')
CONVERSION = 'CONVERSION.json'  # Written beside a converted checkpoint: where it came from.


class ConversionError(ValueError):
  """The weights do not convert whole; the message names the file and what differs."""


def _release_shapes(channels: int, num_classes: int) -> Dict[str, Tuple[int, ...]]:
  """`{name below the scope: shape}` of every variable of the network."""
  from i3d import checkpoint  # pylint: disable=g-import-not-at-top
  from i3d.model import InceptionI3d  # pylint: disable=g-import-not-at-top
  model = InceptionI3d(num_classes=num_classes)
  checkpoint.build(model, channels)
  return {name: tuple(v.shape) for name, v in checkpoint.model_variables(model).items()}


def _listing(entries: Mapping[str, Any], names) -> str:
  shown = [f'{n} {tuple(np.shape(entries[n]))}' for n in sorted(names)[:6]]
  more = len(names) - len(shown)
  return ', '.join(shown) + (f' and {more} more' if more > 0 else '')


def state_dict_of(loaded: Any, source: str) -> Dict[str, np.ndarray]:
  """The state dict in what `torch.load` gives: the object itself, or a checkpoint's
  `state_dict` or `model` entry (MMAction2's, MMEngine's); a `module.` prefix of every
  name (`nn.DataParallel`'s) removed."""
  for key in ('state_dict', 'model'):
    if isinstance(loaded, dict) and isinstance(loaded.get(key), dict):
      loaded = loaded[key]
      break
  if not (isinstance(loaded, dict) and loaded and
          all(isinstance(v, np.ndarray) for v in loaded.values())):
    raise ConversionError(f'{source}: holds no state dict (a dict of tensors, or a '
                          "checkpoint with one under 'state_dict')")
  if all(name.startswith('module.') for name in loaded):
    loaded = {name[len('module.'):]: value for name, value in loaded.items()}
  return dict(loaded)


def from_pytorch_i3d(state_dict: Mapping[str, np.ndarray], source: str = 'state dict'
                     ) -> Tuple[Dict[str, np.ndarray], int, int]:
  """pytorch-i3d's state dict as release tensors (names below the scope), batch norm's
  scale folded (see the module); with the input channels and classes it is for.

  Raises:
    ConversionError: Unless its entries are exactly pytorch-i3d's (`num_batches_tracked`
      may be absent, as in files of PyTorch before 0.4.1), with the shapes of one I3D.
  """
  logits = state_dict.get('logits.conv3d.weight')
  first = state_dict.get('Conv3d_1a_7x7.conv3d.weight')
  if logits is None or first is None or logits.ndim != 5 or first.ndim != 5:
    raise ConversionError(f'{source}: not a pytorch-i3d state dict (it needs '
                          'Conv3d_1a_7x7.conv3d.weight and logits.conv3d.weight)')
  channels, num_classes = int(first.shape[1]), int(logits.shape[0])
  expected = set(i3d_names.state_dict_names())
  optional = {n for n in expected if n.endswith('num_batches_tracked')}
  missing = sorted(expected - optional - set(state_dict))
  extra = sorted(set(state_dict) - expected)
  if missing or extra:
    raise ConversionError(
        f'{source}: not pytorch-i3d\'s entries; nothing converted'
        + (f'; missing: {", ".join(missing[:6])}' + (' ...' if len(missing) > 6 else '')
           if missing else '')
        + (f'; left over: {_listing(state_dict, extra)}' if extra else ''))
  tensors = {}
  for unit, release in i3d_names.units():
    gamma = np.asarray(state_dict[f'{unit}.bn.weight'], np.float32)
    weight = np.asarray(state_dict[f'{unit}.conv3d.weight'], np.float32)
    tensors[f'{release}/conv_3d/w'] = (weight * gamma[:, None, None, None, None]).transpose(
        2, 3, 4, 1, 0)
    tensors[f'{release}/batch_norm/beta'] = np.asarray(state_dict[f'{unit}.bn.bias'],
                                                       np.float32)
    tensors[f'{release}/batch_norm/moving_mean'] = (
        np.asarray(state_dict[f'{unit}.bn.running_mean'], np.float32) * gamma)
    tensors[f'{release}/batch_norm/moving_variance'] = np.asarray(
        state_dict[f'{unit}.bn.running_var'], np.float32)
  torch_logits, release_logits = i3d_names.LOGITS
  tensors[f'{release_logits}/conv_3d/w'] = np.asarray(
      logits, np.float32).transpose(2, 3, 4, 1, 0)
  tensors[f'{release_logits}/conv_3d/b'] = np.asarray(
      state_dict[f'{torch_logits}.conv3d.bias'], np.float32)
  _check_shapes(tensors, channels, num_classes, source)
  return tensors, channels, num_classes


def _check_shapes(tensors: Mapping[str, np.ndarray], channels: int, num_classes: int,
                  source: str) -> None:
  expected = _release_shapes(channels, num_classes)
  wrong = sorted(n for n in expected if tuple(tensors[n].shape) != expected[n])
  if wrong:
    raise ConversionError(
        f'{source}: shapes of another network than an I3D for {channels}-channel inputs '
        f'and {num_classes} classes: ' + ', '.join(
            f'{n} {tuple(tensors[n].shape)} (expected {expected[n]})' for n in wrong[:4]))


def to_pytorch_i3d(tensors: Mapping[str, np.ndarray]) -> 'collections.OrderedDict':
  """Release tensors (names below the scope, batch norm `[C]` or `[1, 1, 1, 1, C]`) as
  pytorch-i3d's state dict, in its order: batch norm's scale 1, `num_batches_tracked` 0.

  Raises:
    ConversionError: Unless the tensors are exactly one I3D's.
  """
  first = tensors.get('Conv3d_1a_7x7/conv_3d/w')
  logits = tensors.get('Logits/Conv3d_0c_1x1/conv_3d/w')
  if first is None or logits is None:
    raise ConversionError('not an I3D in the release\'s layout (it needs '
                          'Conv3d_1a_7x7/conv_3d/w and Logits/Conv3d_0c_1x1/conv_3d/w)')
  expected = _release_shapes(int(first.shape[3]), int(logits.shape[4]))
  flat = {n: (np.reshape(v, v.shape[-1:]) if '/batch_norm/' in n else v)
          for n, v in tensors.items()}
  missing, extra = sorted(set(expected) - set(flat)), sorted(set(flat) - set(expected))
  if missing or extra:
    raise ConversionError('not the release\'s variables of one I3D'
                          + (f'; missing: {", ".join(missing[:6])}' if missing else '')
                          + (f'; left over: {_listing(flat, extra)}' if extra else ''))
  _check_shapes(flat, int(first.shape[3]), int(logits.shape[4]), 'the checkpoint')
  state = collections.OrderedDict()
  torch_logits, release_logits = i3d_names.LOGITS
  state[f'{torch_logits}.conv3d.weight'] = flat[f'{release_logits}/conv_3d/w'].transpose(
      4, 3, 0, 1, 2)
  state[f'{torch_logits}.conv3d.bias'] = flat[f'{release_logits}/conv_3d/b']
  for unit, release in i3d_names.units():
    weight = flat[f'{release}/conv_3d/w']
    state[f'{unit}.conv3d.weight'] = weight.transpose(4, 3, 0, 1, 2)
    state[f'{unit}.bn.weight'] = np.ones(weight.shape[4], np.float32)
    state[f'{unit}.bn.bias'] = flat[f'{release}/batch_norm/beta']
    state[f'{unit}.bn.running_mean'] = flat[f'{release}/batch_norm/moving_mean']
    state[f'{unit}.bn.running_var'] = flat[f'{release}/batch_norm/moving_variance']
    state[f'{unit}.bn.num_batches_tracked'] = np.array(0, np.int64)
  return collections.OrderedDict(
      (n, np.ascontiguousarray(v) if v.ndim else v) for n, v in state.items())


def read_release(path: str) -> Tuple[Dict[str, np.ndarray], str]:
  """The tensors (names below the scope) and scope of the I3D in a release checkpoint
  (a folder or prefix) or a trained model's folder (`python -m i3d.train`'s)."""
  from i3d import checkpoint  # pylint: disable=g-import-not-at-top
  if os.path.isfile(os.path.join(path, plan_lib.MODEL_SUMMARY)):
    path = os.path.join(path, plan_lib.MODEL_SUBDIR)
  return checkpoint.read_tensors(plan_lib.checkpoint_prefix(path))


def load_pytorch(path: str) -> Dict[str, np.ndarray]:
  """A state dict from a `.safetensors` file or a `torch.save` file (either format)."""
  if path.endswith('.safetensors'):
    from safetensors import SafetensorError  # pylint: disable=g-import-not-at-top
    from safetensors.numpy import load_file  # pylint: disable=g-import-not-at-top
    try:
      return load_file(path)
    except SafetensorError as e:
      raise ConversionError(f'{path}: not a safetensors file ({e})') from None
  return state_dict_of(serialization.load(path), path)


def save_pytorch(state: Mapping[str, np.ndarray], path: str,
                 file_format: Optional[str] = None) -> str:
  """Writes a state dict as `pt` (`torch.save`'s zip format) or `safetensors` (default:
  by the file's extension), whole or not at all. Returns the format."""
  file_format = file_format or ('safetensors' if path.endswith('.safetensors') else 'pt')
  if file_format not in FORMATS:
    raise ValueError(f'unknown format {file_format!r}; valid: {", ".join(FORMATS)}')
  files.check_writable(path)
  if file_format == 'pt':
    name = os.path.splitext(os.path.basename(path))[0] or 'archive'
    files.write_atomically(path, serialization.dumps(state, name))
  else:
    from safetensors.numpy import save  # pylint: disable=g-import-not-at-top
    files.write_atomically(path, save(dict(state), metadata={'format': 'pt'}))
  return file_format


def release_to_pytorch(source: str, path: str, file_format: Optional[str] = None) -> str:
  """A release checkpoint (or a trained model's folder) as pytorch-i3d's state dict at
  `path`; returns the format written."""
  tensors, _ = read_release(source)
  return save_pytorch(to_pytorch_i3d(tensors), path, file_format)


def pytorch_to_release(source: str, directory: str, labels: Optional[str] = None,
                       modality: Optional[str] = None) -> str:
  """pytorch-i3d's weights (`.pt`, `.pth`, `.safetensors`) as a release checkpoint folder
  (`<directory>/model.ckpt.*`, the release's layout for the input channels: `RGB/` or
  `Flow/`; Kinetics-600's for 600 classes), or, with `labels` (a class list: one name
  a line, classInd.txt, or Charades_v1_classes.txt), as a model folder for `--model_dir`
  with its label map. Returns the checkpoint prefix.

  Raises:
    ConversionError: Naming what does not convert; nothing is written.
  """
  from i3d import checkpoint  # pylint: disable=g-import-not-at-top
  tensors, channels, num_classes = from_pytorch_i3d(load_pytorch(source), source)
  # The modality whose input channels the weights take (catalogue.CHANNELS, the fact).
  modality = modality or next((m for m, c in CHANNELS.items() if c == channels), None)
  if modality not in CHANNELS or channels != CHANNELS[modality]:
    raise ConversionError(f'{source}: weights for {channels}-channel inputs, not a '
                          f'{modality or "known"} stream')
  names = None
  if labels:
    names = multilabel.read_class_names(labels)
    if len(names) != num_classes:
      raise ConversionError(f'{labels}: {len(names)} classes, where {source} has '
                            f'{num_classes}')
  elif num_classes not in (400, 600):
    raise ConversionError(f'{source}: {num_classes} classes; give --labels (its class '
                          'list, such as Charades_v1_classes.txt) to write a model folder')
  layout = checkpoint.LAYOUTS['kinetics600' if num_classes == 600 and not labels
                              else modality]
  scoped = {layout.scope + n: (v.reshape((1, 1, 1, 1, -1)) if layout.batch_norm_rank5 and
                               '/batch_norm/' in n else v) for n, v in tensors.items()}
  record = json.dumps({'converted_from': os.path.abspath(source), 'source': 'pytorch-i3d',
                       'batch_norm_scale': 'folded into conv_3d/w and moving_mean',
                       'modality': modality, 'num_classes': num_classes}, indent=1) + '\n'
  if names is None:
    return checkpoint.write_release_checkpoint(scoped, directory,
                                               extra_files={CONVERSION: record})
  summary = {'modality': modality, 'num_classes': num_classes, 'converted_from':
             os.path.abspath(source)}
  with files.folder_written_atomically(directory) as staging:
    checkpoint.write_release_checkpoint(scoped, os.path.join(staging, plan_lib.MODEL_SUBDIR),
                                        extra_files={CONVERSION: record})
    with open(os.path.join(staging, plan_lib.MODEL_LABEL_MAP), 'w') as f:
      f.write(''.join(f'{name}\n' for name in names))
    with open(os.path.join(staging, plan_lib.MODEL_SUMMARY), 'w') as f:
      json.dump(summary, f, indent=1)
  return os.path.join(os.path.abspath(directory), plan_lib.MODEL_SUBDIR,
                      plan_lib.CHECKPOINT_BASENAME)


def _define_flags() -> None:
  """The command's flags, defined when it runs (not when the library is imported)."""
  flags.DEFINE_enum('from', None, SOURCES, 'What the input is: pytorch-i3d\'s weights '
                    '(.pt, .pth or .safetensors; pytorch-i3d\'s models/*.pt among them), '
                    'or a release checkpoint folder (or a trained model\'s folder).')
  flags.DEFINE_string('to', None, 'Where to write: a folder (from pytorch-i3d), or a file '
                      '(from a release checkpoint).')
  flags.DEFINE_enum('to_format', None, FORMATS, 'From a release checkpoint: pt (a file '
                    'that torch.load(path, weights_only=True) reads) or safetensors; '
                    'default: by the --to file\'s extension.')
  flags.DEFINE_string('labels', None, 'From pytorch-i3d: the class list of weights with '
                      'other classes than Kinetics\' (Charades_v1_classes.txt, say); the '
                      'output is then a model folder for --model_dir.')
  flags.mark_flags_as_required(['from', 'to'])


FLAGS = flags.FLAGS


def main(argv):
  if len(argv) != 2:
    raise app.UsageError('give one input: the file or folder to convert')
  source = argv[1]
  if FLAGS['from'].value == 'pytorch-i3d':
    if FLAGS.to_format:
      raise ValueError('--to_format: only from a release checkpoint (the output here is '
                       'a checkpoint folder)')
    prefix = pytorch_to_release(source, FLAGS.to, FLAGS.labels)
    print(f'{source} -> {prefix}')
  else:
    if FLAGS.labels:
      raise ValueError('--labels: only from pytorch-i3d')
    written = release_to_pytorch(source, FLAGS.to, FLAGS.to_format)
    print(f'{source} -> {FLAGS.to} ({written})')


def run() -> None:
  _define_flags()
  app.run(lambda argv: faults.run_command('python -m i3d.convert', lambda: main(argv)))


if __name__ == '__main__':
  run()
