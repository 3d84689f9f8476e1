"""PyTorch checkpoints without PyTorch: the reader against files that real PyTorch wrote
(`../shared/pytorch/format/`, both formats and a nested checkpoint), crafted pickles
refused, the writer against the zip fixture's structure, pytorch-i3d's names against
its state-dict layouts, and converted seeded pytorch-i3d weights giving the logits and
features that pytorch-i3d's own model computed from them (`seeded_logits.json`)."""

import collections
import json
import os
import pickle
import pickletools
import struct
import zipfile
import zlib

import numpy as np
import pytest

from i3d import checkpoint
from i3d import convert
from i3d import provision
from i3d.catalogue import paths
from i3d.model import InceptionI3d
from i3d.pytorch import i3d_names
from i3d.pytorch import serialization
from tests import commands
from tests.conftest import ROOT

SHARED_PYTORCH = os.path.join(os.path.dirname(ROOT), 'shared', 'pytorch')
FORMAT = os.path.join(SHARED_PYTORCH, 'format')
I3D = os.path.join(SHARED_PYTORCH, 'pytorch_i3d')
FIXTURES = ('state_dict_zip.pt', 'state_dict_legacy.pt', 'checkpoint_nested.pth')
ENV = commands.user_env()

pytestmark = pytest.mark.skipif(not os.path.isdir(SHARED_PYTORCH),
                                reason='../shared/pytorch/ is not beside the checkout')


def expected_tensors():
  with np.load(os.path.join(FORMAT, 'expected.npz')) as arrays:
    return {name: arrays[name] for name in arrays.files}


def read_layout(name):
  """[(name, shape, dtype)] of a pytorch-i3d layout listing, in state-dict order."""
  rows = []
  with open(os.path.join(I3D, f'layout_{name}.tsv')) as f:
    for line in f:
      entry, shape, dtype = line.rstrip('\n').split('\t')
      rows.append((entry, () if shape == 'scalar' else
                   tuple(int(n) for n in shape.split('x')), dtype))
  return rows


def seeded_state_dict(layout, seed):
  """The README's recipe for seeded pytorch-i3d weights, written out with NumPy."""
  state = collections.OrderedDict()
  for name, shape, _ in read_layout(layout):
    r = np.random.default_rng([seed, zlib.crc32(name.encode())])
    if name.endswith('num_batches_tracked'):
      value = np.array(0, np.int64)
    elif name.endswith('conv3d.weight'):
      value = r.standard_normal(shape) * np.sqrt(2 / np.prod(shape[1:]))
    elif name.endswith('bn.running_mean'):
      value = 0.1 * r.standard_normal(shape)
    elif name.endswith('bn.running_var') or name.endswith('bn.weight'):
      value = r.uniform(0.5, 1.5, shape)
    else:
      value = 0.1 * r.standard_normal(shape)
    state[name] = np.asarray(value).astype(np.int64 if value.dtype == np.int64
                                           else np.float32)
  return state


# ---------------------------------------------------------------- reading

@pytest.mark.parametrize('name', FIXTURES)
def test_the_reader_returns_what_pytorch_wrote(name):
  loaded = serialization.load(os.path.join(FORMAT, name))
  if name == 'checkpoint_nested.pth':
    assert loaded['meta'] == {'epoch': 3, 'note': 'nested', 'classes': ['a', 'b']}
    loaded = loaded['state_dict']
  assert isinstance(loaded, collections.OrderedDict)
  expected = expected_tensors()
  assert list(loaded) == list(expected)  # The state dict's order.
  for key, value in expected.items():
    got = loaded[key]
    assert got.dtype == value.dtype and got.shape == value.shape, key
    np.testing.assert_array_equal(got, value, err_msg=key)
    assert got.flags.c_contiguous, key
  # A transposed view (strides (1, 6)) and two views into one storage, resolved.
  assert not np.shares_memory(loaded['shared_a'], loaded['shared_b'])


def zip_with_pickle(path, data):
  with zipfile.ZipFile(path, 'w') as archive:
    archive.writestr('crafted/data.pkl', data)
    archive.writestr('crafted/byteorder', 'little')
  return str(path)


def legacy_with_pickle(path, data):
  with open(path, 'wb') as f:
    for header in (serialization.LEGACY_MAGIC, serialization.LEGACY_PROTOCOL,
                   {'protocol_version': 1001, 'little_endian': True}):
      pickle.dump(header, f, protocol=2)
    f.write(data)
  return str(path)


def convert_command(*args):
  return commands.run(['-m', 'i3d.convert', *args], env=ENV)


@pytest.mark.parametrize('container', [zip_with_pickle, legacy_with_pickle])
def test_a_pickle_with_any_other_global_is_refused_and_never_run(container, tmp_path):
  marker = tmp_path / 'ran'
  # A state dict whose pickle calls os.system, as a malicious checkpoint would.
  crafted = (b'\x80\x02cos\nsystem\n' + pickle.dumps(f'touch {marker}', protocol=2)[2:-1] +
             b'\x85R.')
  path = container(tmp_path / 'evil.pt', crafted)
  with pytest.raises(serialization.CheckpointFormatError) as raised:
    serialization.load(path)
  message = str(raised.value)
  assert message.startswith(f'{path}: refused the global os.system: ')
  assert '\n' not in message
  assert not marker.exists()
  # Through the command: one line, exit 1.
  result = convert_command('--from', 'pytorch-i3d', path, '--to', str(tmp_path / 'out'))
  assert result.returncode == 1
  assert result.stderr.strip().splitlines() == [f'python -m i3d.convert: {message}']
  assert not marker.exists() and not (tmp_path / 'out').exists()


def test_damaged_files_are_named(tmp_path):
  cut = tmp_path / 'cut.pt'
  cut.write_bytes(open(os.path.join(FORMAT, 'state_dict_legacy.pt'), 'rb').read()[:-100])
  text = tmp_path / 'notes.pt'
  text.write_text('not a checkpoint\n')
  for path, words in ((cut, 'cut short'), (text, 'not a PyTorch checkpoint')):
    with pytest.raises(serialization.CheckpointFormatError, match=words):
      serialization.load(str(path))


# ---------------------------------------------------------------- writing

def opcodes(data):
  """The pickle's opcodes by name, with their arguments where they are structure."""
  return [(op.name, arg if op.name in ('GLOBAL', 'PROTO') else None)
          for op, arg, _ in pickletools.genops(data)]


def test_the_written_file_has_the_structure_pytorch_writes(tmp_path):
  fixture = zipfile.ZipFile(os.path.join(FORMAT, 'state_dict_zip.pt'))
  expected = expected_tensors()
  # The fixture's first four tensors each have a storage of their own, as ours do.
  first = collections.OrderedDict((k, expected[k]) for k in list(expected)[:4])
  path = tmp_path / 'state_dict_zip.pt'
  path.write_bytes(serialization.dumps(first, 'state_dict_zip'))
  ours = zipfile.ZipFile(path)
  theirs_names = fixture.namelist()
  storages = [n for n in theirs_names if '/data/' in n][:4]
  assert ours.namelist() == [n for n in theirs_names if '/data/' not in n or n in storages]
  for name in ('.format_version', '.storage_alignment', 'byteorder', 'version'):
    assert ours.read(f'state_dict_zip/{name}') == fixture.read(f'state_dict_zip/{name}')
  for name in storages:
    assert ours.read(name) == fixture.read(name)  # The same bytes, little-endian.
  # The same pickle, opcode for opcode, up to the fixture's fifth tensor.
  theirs = fixture.read('state_dict_zip/data.pkl')
  cut = theirs.index(b'half.weight') - 5  # Its BINUNICODE opcode and length.
  assert opcodes(ours.read('state_dict_zip/data.pkl'))[:-2] == opcodes(
      theirs[:cut] + b'.')[:-1]
  # Every storage starts at a multiple of 64 bytes, as PyTorch aligns them.
  for info in ours.infolist():
    ours.fp.seek(info.header_offset)
    name_length, extra_length = struct.unpack('<HH', ours.fp.read(30)[26:30])
    assert (info.header_offset + 30 + name_length + extra_length) % 64 == 0, info.filename


def test_every_dtype_round_trips(tmp_path):
  expected = expected_tensors()
  path = tmp_path / 'all.pt'
  path.write_bytes(serialization.dumps(expected))
  loaded = serialization.load(str(path))
  assert list(loaded) == list(expected)
  for key, value in expected.items():
    assert loaded[key].dtype == value.dtype and loaded[key].shape == value.shape, key
    np.testing.assert_array_equal(loaded[key], value, err_msg=key)


# ---------------------------------------------------------------- pytorch-i3d

@pytest.mark.parametrize('layout', ['rgb_400', 'flow_400', 'rgb_157', 'flow_157'])
def test_names_are_pytorch_i3ds_layout(layout):
  rows = read_layout(layout)
  assert i3d_names.state_dict_names() == [name for name, _, _ in rows]
  channels, classes = (3 if layout.startswith('rgb') else 2), int(layout.split('_')[1])
  # The release's tensors of one I3D, written as pytorch-i3d's: its shapes and dtypes.
  model = InceptionI3d(num_classes=classes)
  checkpoint.build(model, channels)
  tensors = {name: v.numpy() for name, v in checkpoint.model_variables(model).items()}
  state = convert.to_pytorch_i3d(tensors)
  assert [(n, v.shape, str(v.dtype)) for n, v in state.items()] == rows


def test_conversion_is_strict_naming_what_differs():
  state = seeded_state_dict('rgb_400', 1)
  del state['Mixed_4c.b1b.bn.bias']
  state['Mixed_4c.b1b.bn.extra'] = np.zeros(3, np.float32)
  with pytest.raises(convert.ConversionError) as raised:
    convert.from_pytorch_i3d(state, 'x.pt')
  assert str(raised.value) == ("x.pt: not pytorch-i3d's entries; nothing converted; "
                               'missing: Mixed_4c.b1b.bn.bias; left over: '
                               'Mixed_4c.b1b.bn.extra (3,)')
  state = seeded_state_dict('rgb_400', 1)
  state['Mixed_3b.b0.bn.bias'] = np.zeros(65, np.float32)
  with pytest.raises(convert.ConversionError, match=r'Mixed_3b/Branch_0/Conv3d_0a_1x1/'
                     r'batch_norm/beta \(65,\) \(expected \(64,\)\)'):
    convert.from_pytorch_i3d(state, 'x.pt')
  # Files of PyTorch before 0.4.1 have no num_batches_tracked, nn.DataParallel's prefix
  # every name with `module.`.
  state = seeded_state_dict('rgb_400', 1)
  old = {f'module.{n}': v for n, v in state.items() if 'num_batches' not in n}
  tensors, channels, classes = convert.from_pytorch_i3d(convert.state_dict_of(old, 'x'))
  assert (channels, classes) == (3, 400) and len(tensors) == 57 * 4 + 2  # 57 units.


def run_network(prefix, channels, classes, clip):
  model = InceptionI3d(num_classes=classes)
  checkpoint.load_checkpoint(model, prefix)
  logits, ends = model(clip, is_training=False)
  return logits.numpy()[0], ends['Mixed_5c'].numpy()[0].mean(axis=(0, 1, 2))


@pytest.mark.parametrize('case', ['rgb_400', 'flow_400', 'rgb_157'])
def test_converted_weights_give_pytorch_i3ds_logits_and_features(case, tmp_path):
  """pytorch-i3d's model in eval mode, on its seeded weights (batch-norm scales in
  [0.5, 1.5]) and input, against the converted weights in this project's network."""
  reference = json.load(open(os.path.join(I3D, 'seeded_logits.json')))[case]
  channels, classes = reference['in_channels'], reference['classes']
  state = seeded_state_dict(case, reference['seed'])
  source = tmp_path / f'{case}.pt'
  source.write_bytes(serialization.dumps(state))  # Through the file, as users have it.
  labels = None
  if classes != 400:
    labels = tmp_path / 'Charades_v1_classes.txt'
    labels.write_text(''.join(f'c{i:03d} Action {i}\n' for i in range(classes)))
  prefix = convert.pytorch_to_release(str(source), str(tmp_path / 'converted'),
                                      labels and str(labels))
  seeded = np.random.default_rng([reference['seed'], 99]).uniform(
      -1, 1, (1, channels, 16, 224, 224)).astype(np.float32)
  logits, features = run_network(prefix, channels, classes, seeded.transpose(0, 2, 3, 4, 1))
  expected_logits = np.array(reference['mean_logits'], np.float32)
  expected_features = np.array(reference['features'], np.float32)
  # 1e-4 relative to the largest value: float32 rounding through 58 units, and the
  # folded scale's one product per weight.
  np.testing.assert_allclose(logits, expected_logits, rtol=1e-4,
                             atol=1e-4 * np.abs(expected_logits).max())
  np.testing.assert_allclose(features, expected_features, rtol=1e-4,
                             atol=1e-4 * np.abs(expected_features).max())


@pytest.mark.parametrize('file_format', ['pt', 'safetensors'])
def test_the_real_rgb_weights_round_trip_bit_for_bit(file_format, tmp_path):
  provision.provision()
  source = os.path.join(paths.checkpoint_dir(), 'rgb_imagenet')
  release, scope = convert.read_release(source)
  path = tmp_path / f'rgb_imagenet.{file_format}'
  assert convert.release_to_pytorch(source, str(path)) == file_format
  state = convert.load_pytorch(str(path))
  names = i3d_names.state_dict_names()  # safetensors keeps them sorted.
  assert (list(state) if file_format == 'pt' else sorted(state)) == (
      names if file_format == 'pt' else sorted(names))
  assert all(np.all(state[n] == 1) for n in state if n.endswith('bn.weight'))
  back = convert.pytorch_to_release(str(path), str(tmp_path / 'back'))
  again, again_scope = convert.read_release(str(tmp_path / 'back'))
  assert again_scope == scope == 'RGB/inception_i3d/'
  assert sorted(again) == sorted(release)
  for name, value in release.items():
    assert again[name].dtype == value.dtype
    np.testing.assert_array_equal(again[name], value, err_msg=name)
  assert back.endswith('model.ckpt')


@pytest.fixture(scope='module')
def converted_flow(tmp_path_factory):
  """A data folder holding the real RGB weights, pytorch-i3d's flow_imagenet.pt (seeded
  here) converted by the command, and the samples' first 16 frames (the network's work
  a quarter of the whole samples'); the command's output; each stream's logits."""
  from i3d.preprocess import sample  # pylint: disable=g-import-not-at-top
  provision.provision()
  root = tmp_path_factory.mktemp('converted_flow')
  checkpoints, samples = root / 'data' / 'checkpoints', root / 'data' / 'samples'
  checkpoints.mkdir(parents=True)
  samples.mkdir()
  os.symlink(os.path.join(paths.checkpoint_dir(), 'rgb_imagenet'), checkpoints / 'rgb_imagenet')
  source = root / 'flow_imagenet.pt'
  source.write_bytes(serialization.dumps(seeded_state_dict('flow_400', 2)))
  converted = convert_command('--from', 'pytorch-i3d', str(source), '--to',
                              str(checkpoints / 'flow_imagenet'))
  logits = {}
  for stream, channels in (('rgb', 3), ('flow', 2)):
    clip = np.load(f'{sample.provision()}_{stream}.npy', mmap_mode='r')[:, :16]
    np.save(samples / f'bigbuckbunny_{stream}.npy', clip)
    logits[stream], _ = run_network(str(checkpoints / f'{stream}_imagenet' / 'model.ckpt'),
                                    channels, 400, np.asarray(clip))
  return root, source, converted, logits


def test_a_converted_flow_stream_makes_the_release_default_joint_run(converted_flow):
  """`evaluate_sample.py` with no flags (joint: RGB and flow logits summed) prints the
  top 20 of the sum of the two streams."""
  from tests.test_evaluate_sample import check_printout  # pylint: disable=g-import-not-at-top
  root, source, converted, logits = converted_flow
  checkpoints = root / 'data' / 'checkpoints'
  assert converted.returncode == 0, converted.stderr
  assert converted.stdout.strip() == (
      f'{source} -> {checkpoints / "flow_imagenet" / "model.ckpt"}')
  assert sorted(os.listdir(checkpoints / 'flow_imagenet')) == [
      'CONVERSION.json', 'checkpoint', 'model.ckpt.data-00000-of-00001', 'model.ckpt.index']
  joint = commands.run(['evaluate_sample.py'], env=dict(ENV, I3D_DATA_DIR=str(root / 'data')))
  assert joint.returncode == 0, joint.stderr
  check_printout(joint.stdout, logits['rgb'] + logits['flow'], 20)


def test_a_converted_charades_model_scores_a_charades_set(tmp_path):
  """157 classes with Charades' class list: a model folder that the multi-label
  classification takes with `--model_dir`, scored over Charades' 157 classes."""
  from i3d.train import camera_motion  # pylint: disable=g-import-not-at-top
  provision.provision()
  data = tmp_path / 'charades'
  camera_motion.generate_multilabel(str(data), 1, 2, 12, (112, 84), seed=3,
                                    classes=('PanLeft', 'ZoomIn', 'TiltUp'))
  classes = tmp_path / 'Charades_v1_classes.txt'
  classes.write_text(''.join(f'c{i:03d} Action number {i}\n' for i in range(157)))
  source = tmp_path / 'rgb_charades.safetensors'
  from safetensors.numpy import save_file  # pylint: disable=g-import-not-at-top
  save_file(seeded_state_dict('rgb_157', 3), str(source))
  converted = convert_command('--from', 'pytorch-i3d', str(source), '--labels', str(classes),
                              '--to', str(tmp_path / 'model'))
  assert converted.returncode == 0, converted.stderr
  label_map = (tmp_path / 'model' / 'label_map.txt').read_text().split()
  assert label_map == [f'c{i:03d}' for i in range(157)]
  scored = commands.run(
      ['-m', 'i3d.classify', '--videos', str(data / 'charades_test.csv'),
       '--video_dir', str(data), '--labels', str(classes), '--model_dir',
       str(tmp_path / 'model'), '--window_frames', '0', '--output_dir',
       str(tmp_path / 'scored'), '--noplots'], env=ENV, timeout=600)
  assert scored.returncode == 0, scored.stderr
  metrics = json.loads((tmp_path / 'scored' / 'metrics.json').read_text())
  assert metrics['videos_scored'] == metrics['videos'] == 2
  assert 0 <= metrics['mAP'] <= 1 and 0 <= metrics['localization_mAP'] <= 1
  per_class = (tmp_path / 'scored' / 'per_class.csv').read_text().splitlines()
  assert len(per_class) == 1 + 157 and per_class[1].startswith('c000,')
  # A video's 157 logits are the converted network's on the whole video's centre crop.
  from i3d import preprocess  # pylint: disable=g-import-not-at-top
  name = sorted(os.listdir(tmp_path / 'scored' / 'videos'))[0]
  with np.load(tmp_path / 'scored' / 'videos' / name) as result:
    got = result['logits']
  clip = preprocess.video_to_arrays(str(data / f'{name[:-len(".npz")]}.mp4'), ['rgb'],
                                    preprocess.Options(progress=False))['rgb']
  expected, _ = run_network(str(tmp_path / 'model' / 'model' / 'model.ckpt'), 3, 157, clip)
  np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


def test_every_storage_type_round_trips(tmp_path):
  """The dtypes of PyTorch's storage types beyond the fixture's: bfloat16 (as
  `ml_dtypes.bfloat16`, TensorFlow's), bool and the small integers."""
  import ml_dtypes  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(0)
  tensors = collections.OrderedDict(
      bf16=rng.normal(size=(3, 4)).astype(ml_dtypes.bfloat16),
      mask=rng.random((5,)) > 0.5, u8=rng.integers(0, 255, (2, 3), np.uint8),
      i8=rng.integers(-128, 127, (4,), np.int8), i16=rng.integers(-999, 999, (3,), np.int16))
  path = tmp_path / 'types.pt'
  path.write_bytes(serialization.dumps(tensors))
  loaded = serialization.load(str(path))
  for key, value in tensors.items():
    assert loaded[key].dtype == value.dtype and loaded[key].shape == value.shape, key
    np.testing.assert_array_equal(loaded[key].view(np.uint8), value.view(np.uint8))
  names = [op[1] for op in opcodes(zipfile.ZipFile(path).read('archive/data.pkl'))
           if op[0] == 'GLOBAL']
  assert {'torch BFloat16Storage', 'torch BoolStorage', 'torch ByteStorage',
          'torch CharStorage', 'torch ShortStorage'} <= set(names)
