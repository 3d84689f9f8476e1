"""Reads and writes PyTorch's `torch.save` files as NumPy arrays, without PyTorch.

Two formats exist. The zip format (PyTorch 1.6 and later): `<name>/data.pkl` holds the
pickled object, each tensor's storage is the file `<name>/data/<key>`, and
`<name>/byteorder` says the storages' byte order. The legacy format (the files of
before 2020, pytorch-i3d's among them): four pickles in a row (a magic number, the
protocol version, the machine's description, the object), then the list of storage keys
and each storage as an int64 element count followed by its bytes, little-endian.

In both, a tensor is pickled as a call of `torch._utils._rebuild_tensor_v2(storage,
offset, size, stride, ...)` whose storage is a persistent id. The reader admits only
the globals a state dict needs (that rebuild, the storage types, `OrderedDict`), so a
pickle cannot run code: anything else is refused, naming the file and the global.
"""

import collections
import hashlib
import io
import pickle
import zipfile
from typing import Any, Dict, Mapping, Optional, Tuple

import numpy as np

# The legacy format's first pickle, and the protocol version it records.
LEGACY_MAGIC = 0x1950a86a20f9469cfc6c
LEGACY_PROTOCOL = 1001
# The storage classes of `torch` and the element type of each.
STORAGE_DTYPES = {
    'DoubleStorage': np.dtype('<f8'), 'FloatStorage': np.dtype('<f4'),
    'HalfStorage': np.dtype('<f2'), 'LongStorage': np.dtype('<i8'),
    'IntStorage': np.dtype('<i4'), 'ShortStorage': np.dtype('<i2'),
    'CharStorage': np.dtype('i1'), 'ByteStorage': np.dtype('u1'),
    'BoolStorage': np.dtype('?'),
}
try:  # bfloat16, as TensorFlow holds it (ml_dtypes comes with TensorFlow).
  import ml_dtypes  # pylint: disable=g-import-not-at-top
  STORAGE_DTYPES['BFloat16Storage'] = np.dtype(ml_dtypes.bfloat16).newbyteorder('<')
except ImportError:
  pass
STORAGE_OF_DTYPE = {dtype.newbyteorder('='): name for name, dtype in STORAGE_DTYPES.items()}
# The zip format's storages start at multiples of this (PyTorch's own alignment, so a
# reader may map them).
STORAGE_ALIGNMENT = 64


class CheckpointFormatError(ValueError):
  """A file that is not a PyTorch checkpoint this reader admits; the message names it."""


class _Storage:
  """A storage named by a persistent id; its values arrive once the file is read."""

  def __init__(self, dtype: np.dtype, numel: int):
    self.dtype, self.numel = dtype, numel
    self.values: Optional[np.ndarray] = None


class _Tensor:
  """A tensor rebuilt over a storage, resolved to an array at the end."""

  def __init__(self, storage: _Storage, offset: int, size: Tuple[int, ...],
               stride: Tuple[int, ...]):
    self.storage, self.offset, self.size, self.stride = storage, offset, size, stride


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False,
                       backward_hooks=None, metadata=None):
  del requires_grad, backward_hooks, metadata  # Autograd's; nothing of the values.
  if not isinstance(storage, _Storage):
    raise pickle.UnpicklingError('a tensor over something that is not a storage')
  return _Tensor(storage, int(storage_offset), tuple(int(n) for n in size),
                 tuple(int(n) for n in stride))


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None):
  del requires_grad, backward_hooks
  return data


class _StorageType:

  def __init__(self, name: str):
    self.name = name


_ADMITTED = {
    ('collections', 'OrderedDict'): collections.OrderedDict,
    ('torch._utils', '_rebuild_tensor_v2'): _rebuild_tensor_v2,
    ('torch._utils', '_rebuild_parameter'): _rebuild_parameter,
}
_ADMITTED.update({('torch', name): _StorageType(name) for name in STORAGE_DTYPES})


class _StateDictUnpickler(pickle.Unpickler):
  """Admits the globals of `_ADMITTED` only; storages by persistent id."""

  def __init__(self, file, path: str):
    super().__init__(file)
    self.path = path
    self.storages: Dict[str, _Storage] = {}
    self.views: Dict[str, Tuple[str, int, int]] = {}

  def find_class(self, module, name):
    if (module, name) not in _ADMITTED:
      raise CheckpointFormatError(
          f'{self.path}: refused the global {module}.{name}: a checkpoint of tensors '
          'needs only tensors, storages and plain containers, and running other code '
          'from a pickle is unsafe')
    return _ADMITTED[module, name]

  def persistent_load(self, pid):
    # ('storage', type, key, location, numel) in the zip format; the legacy format adds
    # view metadata: None, or (view key, offset, size) of a view into the storage.
    if not (isinstance(pid, tuple) and len(pid) in (5, 6) and pid[0] == 'storage' and
            isinstance(pid[1], _StorageType)):
      raise CheckpointFormatError(f'{self.path}: an unknown persistent id {pid!r:.80}')
    storage_type, key, numel = pid[1], str(pid[2]), int(pid[4])
    if key not in self.storages:
      self.storages[key] = _Storage(STORAGE_DTYPES[storage_type.name], numel)
    view = pid[5] if len(pid) == 6 else None
    if view is None:
      return self.storages[key]
    view_key, offset, size = str(view[0]), int(view[1]), int(view[2])
    if view_key not in self.storages:
      self.views[view_key] = (key, offset, size)
      self.storages[view_key] = _Storage(self.storages[key].dtype, size)
    return self.storages[view_key]


def _unpickle(data: bytes, path: str) -> Tuple[Any, _StateDictUnpickler]:
  unpickler = _StateDictUnpickler(io.BytesIO(data), path)
  try:
    return unpickler.load(), unpickler
  except CheckpointFormatError:
    raise
  except Exception as e:  # pylint: disable=broad-except
    raise CheckpointFormatError(f'{path}: not a PyTorch checkpoint ({e})') from None


def _resolve(value: Any, path: str) -> Any:
  """The unpickled object with every tensor made an array (a copy, C-contiguous)."""
  if isinstance(value, _Tensor):
    return _tensor_array(value, path)
  if isinstance(value, collections.OrderedDict):
    return collections.OrderedDict((k, _resolve(v, path)) for k, v in value.items())
  if isinstance(value, dict):
    return {k: _resolve(v, path) for k, v in value.items()}
  if isinstance(value, (list, tuple)):
    return type(value)(_resolve(v, path) for v in value)
  return value


def _tensor_array(tensor: _Tensor, path: str) -> np.ndarray:
  values = tensor.storage.values
  if any(n < 0 for n in tensor.size) or len(tensor.size) != len(tensor.stride):
    raise CheckpointFormatError(f'{path}: a tensor of size {tensor.size} and stride '
                                f'{tensor.stride}')
  if 0 in tensor.size:
    return np.zeros(tensor.size, values.dtype.newbyteorder('='))
  last = tensor.offset + sum((n - 1) * s for n, s in zip(tensor.size, tensor.stride))
  if tensor.offset < 0 or min(tensor.stride, default=0) < 0 or last >= len(values):
    raise CheckpointFormatError(
        f'{path}: a tensor of size {tensor.size}, stride {tensor.stride} and offset '
        f'{tensor.offset} reaches beyond its storage of {len(values)} elements')
  native = values.dtype.newbyteorder('=')
  if not tensor.size:  # A scalar (as_strided would take an empty shape as "unchanged").
    return np.array(values[tensor.offset], native)
  view = np.lib.stride_tricks.as_strided(
      values[tensor.offset:], shape=tensor.size,
      strides=[s * values.itemsize for s in tensor.stride], writeable=False)
  return np.ascontiguousarray(view).astype(native, copy=False)


def _storage_values(raw: bytes, storage: _Storage, byteorder: str, path: str,
                    key: str) -> np.ndarray:
  dtype = storage.dtype.newbyteorder('>' if byteorder == 'big' else '<')
  if len(raw) < storage.numel * dtype.itemsize:
    raise CheckpointFormatError(f'{path}: cut short: storage {key} holds {len(raw)} bytes, '
                                f'fewer than its {storage.numel} elements of {dtype.itemsize}')
  return np.frombuffer(raw, dtype, count=storage.numel)


def _load_zip(path: str) -> Any:
  with zipfile.ZipFile(path) as archive:
    pickles = [n for n in archive.namelist() if n.endswith('/data.pkl') and n.count('/') == 1]
    if len(pickles) != 1:
      raise CheckpointFormatError(f'{path}: a zip file, but not a PyTorch checkpoint (no '
                                  'single <name>/data.pkl)')
    prefix = pickles[0][:-len('data.pkl')]
    names = set(archive.namelist())
    byteorder = (archive.read(prefix + 'byteorder').decode().strip()
                 if prefix + 'byteorder' in names else 'little')
    value, unpickler = _unpickle(archive.read(pickles[0]), path)
    for key, storage in unpickler.storages.items():
      member = f'{prefix}data/{key}'
      if member not in names:
        raise CheckpointFormatError(f'{path}: storage {key} is missing ({member})')
      storage.values = _storage_values(archive.read(member), storage, byteorder, path, key)
  return _resolve(value, path)


def _load_legacy(path: str, data: bytes) -> Any:
  stream = io.BytesIO(data)
  try:  # The magic number, the protocol version, the machine's description.
    magic = _HeaderUnpickler(stream).load()
    protocol = _HeaderUnpickler(stream).load()
    system = _HeaderUnpickler(stream).load()
  except Exception:  # pylint: disable=broad-except
    magic = protocol = system = None
  if magic != LEGACY_MAGIC or protocol != LEGACY_PROTOCOL or not isinstance(system, dict):
    raise CheckpointFormatError(f'{path}: not a PyTorch checkpoint (neither a zip file nor '
                                'the legacy format\'s magic number)')
  little = system.get('little_endian', True)
  unpickler = _StateDictUnpickler(stream, path)
  try:
    value = unpickler.load()
    keys = _HeaderUnpickler(stream).load()
  except CheckpointFormatError:
    raise
  except Exception as e:  # pylint: disable=broad-except
    raise CheckpointFormatError(f'{path}: not a PyTorch checkpoint ({e})') from None
  byteorder = 'little' if little else 'big'
  for key in keys:
    key = str(key)
    if key not in unpickler.storages or key in unpickler.views:
      raise CheckpointFormatError(f'{path}: storage {key} is not one the object names')
    storage = unpickler.storages[key]
    count = np.frombuffer(stream.read(8).ljust(8, b'\xff'), '<i8' if little else '>i8')
    if count[0] != storage.numel:
      raise CheckpointFormatError(f'{path}: storage {key} is cut short or mislabelled')
    raw = stream.read(storage.numel * storage.dtype.itemsize)
    storage.values = _storage_values(raw, storage, byteorder, path, key)
  for key, (root, offset, size) in unpickler.views.items():
    unpickler.storages[key].values = unpickler.storages[root].values[offset:offset + size]
  missing = [k for k, s in unpickler.storages.items() if s.values is None]
  if missing:
    raise CheckpointFormatError(f'{path}: storages {missing[:3]} are missing')
  return _resolve(value, path)


class _HeaderUnpickler(pickle.Unpickler):
  """Plain values only: the legacy format's header and storage keys."""

  def find_class(self, module, name):
    raise pickle.UnpicklingError(f'a global {module}.{name} in a header')


def load(path: str) -> Any:
  """The object a `torch.save` file holds, its tensors as NumPy arrays (C-contiguous
  copies in native byte order; views and shared storages resolved).

  Raises:
    CheckpointFormatError: If the file is neither format, is damaged, or its pickle
      names a global other than a state dict's (never run).
    OSError: If the file cannot be read.
  """
  if zipfile.is_zipfile(path):
    try:
      return _load_zip(path)
    except (zipfile.BadZipFile, KeyError, EOFError) as e:
      raise CheckpointFormatError(f'{path}: a damaged zip file ({e})') from None
  with open(path, 'rb') as f:
    data = f.read()
  return _load_legacy(path, data)


class _Global:
  """A `module.name` that PyTorch's unpickler finds (it need not exist here)."""

  def __init__(self, module: str, name: str):
    self.module, self.name = module, name

  def __call__(self, *args):  # Pickle's save_reduce asks for a callable.
    raise TypeError(f'{self.module}.{self.name} is PyTorch\'s; it is only named here')


class _TensorRecord:
  """What `_rebuild_tensor_v2` is called with for a C-contiguous array over a storage of
  its own, storage number `key`."""

  def __init__(self, key: int, array: np.ndarray):
    self.key, self.array = key, array


_REBUILD = _Global('torch._utils', '_rebuild_tensor_v2')


class _StateDictPickler(pickle._Pickler):  # pylint: disable=protected-access
  """Protocol 2, as `torch.save`: tensors as calls of `_rebuild_tensor_v2` over storages
  named by persistent ids."""

  dispatch = dict(pickle._Pickler.dispatch)  # pylint: disable=protected-access

  def __init__(self, file):
    super().__init__(file, protocol=2)
    self.storage_types = {}

  def save_global_name(self, obj):
    self.write(pickle.GLOBAL + f'{obj.module}\n{obj.name}\n'.encode('ascii'))
    self.memoize(obj)

  dispatch[_Global] = save_global_name

  def save_tensor(self, record):
    array = record.array
    name = STORAGE_OF_DTYPE[array.dtype.newbyteorder('=')]
    storage_type = self.storage_types.setdefault(name, _Global('torch', name))
    strides, step = [], 1
    for n in reversed(array.shape):
      strides.insert(0, step)
      step *= max(n, 1)
    self.save_reduce(_REBUILD, (_PersistentStorage(
        ('storage', storage_type, str(record.key), 'cpu', array.size)), 0,
        tuple(array.shape), tuple(strides), False, collections.OrderedDict()), obj=record)

  dispatch[_TensorRecord] = save_tensor


class _PersistentStorage:
  """A storage's persistent id, written with BINPERSID."""

  def __init__(self, pid: tuple):
    self.pid = pid


def _save_persistent(pickler, obj):
  pickler.save(obj.pid)
  pickler.write(pickle.BINPERSID)


_StateDictPickler.dispatch[_PersistentStorage] = _save_persistent


def _aligned_info(archive: zipfile.ZipFile, name: str) -> zipfile.ZipInfo:
  """A stored (uncompressed) entry whose data starts at a multiple of
  STORAGE_ALIGNMENT, padded with an extra field in the local header as PyTorch does."""
  info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
  info.compress_type = zipfile.ZIP_STORED
  header_end = archive.fp.tell() + 30 + len(name.encode())
  padding = -(header_end + 4) % STORAGE_ALIGNMENT
  info.extra = b'FB' + padding.to_bytes(2, 'little') + b'Z' * padding
  return info


def _supported(name: str, value: Any) -> np.ndarray:
  array = np.asarray(value)
  if array.dtype.newbyteorder('=') not in STORAGE_OF_DTYPE:
    raise ValueError(f'{name}: a {array.dtype} array has no PyTorch storage type')
  # Little-endian and C-ordered (np.ascontiguousarray would make a scalar 1-d).
  return np.asarray(array.astype(array.dtype.newbyteorder('<'), copy=False), order='C')


def dumps(tensors: Mapping[str, np.ndarray], archive_name: str = 'archive') -> bytes:
  """A state dict `{name: array}` in PyTorch's zip format (as `torch.save(sd)` writes
  an `OrderedDict` of tensors, each over a storage of its own), as bytes."""
  arrays = collections.OrderedDict(
      (name, _supported(name, value)) for name, value in tensors.items())
  body = io.BytesIO()
  _StateDictPickler(body).dump(collections.OrderedDict(
      (name, _TensorRecord(key, array)) for key, (name, array) in enumerate(arrays.items())))
  out = io.BytesIO()
  prefix = archive_name + '/'
  with zipfile.ZipFile(out, 'w', zipfile.ZIP_STORED) as archive:
    def add(name, data):
      archive.writestr(_aligned_info(archive, prefix + name), data)
    add('data.pkl', body.getvalue())
    add('.format_version', b'1')
    add('.storage_alignment', str(STORAGE_ALIGNMENT).encode())
    add('byteorder', b'little')
    for key, array in enumerate(arrays.values()):
      add(f'data/{key}', array.tobytes())
    add('version', b'3\n')
    # PyTorch's is 40 decimal digits; here derived from the content, so equal state
    # dicts give equal files.
    digest = int.from_bytes(hashlib.sha256(body.getvalue()).digest()[:16], 'big')
    add('.data/serialization_id', f'{digest:040d}'[-40:].encode())
  return out.getvalue()
