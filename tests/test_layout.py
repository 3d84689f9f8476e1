"""The code's layout as the README states it: each part imports only the parts below it,
no module imports itself round a cycle, and each shared flag is declared in one place."""

import ast
import collections
import os
import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT

# Lowest first. A module may import its own part and the parts of lower layers only.
LAYERS = (
    ('catalogue',),                       # What exists: standard library only.
    ('system', 'flags'),                  # Files, locks, stores, the pool; shared flags.
    ('videosets', 'preprocess', 'pytorch'),  # Video lists and scoring; video to arrays;
                                             # PyTorch's files.
    ('quiet_tf',),                        # TensorFlow, imported quietly.
    ('batch_norm', 'checkpoint', 'precision'),
    ('model',),                           # The network.
    ('releases',),                        # The network holding a release.
    ('runtime',),                         # A plan's networks on a back-end.
    ('provision', 'evaluate_sample', 'export', 'convert', 'fvd', 'classify', 'train'),
    ('live', 'features'),                 # Run classify's networks and preprocessing.
)
LAYER_OF = {part: level for level, parts in enumerate(LAYERS) for part in parts}


def modules():
  """`{dotted name: path}` of every module of the `i3d` package."""
  found = {}
  for folder, _, names in os.walk(os.path.join(ROOT, 'i3d')):
    for name in names:
      if name.endswith('.py'):
        path = os.path.join(folder, name)
        dotted = os.path.relpath(path, ROOT)[:-3].replace(os.sep, '.')
        found[dotted.removesuffix('.__init__')] = path
  return found


def imports_at_load(path, known):
  """The `i3d` modules a file imports when it is loaded (not those a function imports
  when called, nor those under `if TYPE_CHECKING`)."""
  tree = ast.parse(open(path).read())
  names = []

  def visit(nodes):
    for node in nodes:
      if isinstance(node, ast.Import):
        names.extend(alias.name for alias in node.names)
      elif isinstance(node, ast.ImportFrom) and node.module:
        # `from package import module` imports the module; `from module import name`,
        # the module.
        submodules = [f'{node.module}.{a.name}' for a in node.names]
        found = [name for name in submodules if name in known]
        names.extend(found or [node.module])
      elif isinstance(node, ast.Try):
        visit(node.body)
      elif isinstance(node, ast.If) and 'TYPE_CHECKING' not in ast.unparse(node.test):
        visit(node.body)

  visit(tree.body)
  # A module's own packages are always loaded before it: no edge.
  this = os.path.relpath(path, ROOT)[:-3].replace(os.sep, '.').removesuffix('.__init__')
  return {name for name in names if name.startswith('i3d.') and
          not this.startswith(name + '.') and name != this}


def part(module):
  return module.split('.')[1]


def test_every_part_has_a_layer():
  assert {part(m) for m in modules() if m != 'i3d'} == set(LAYER_OF)


def test_no_import_runs_upward_or_sideways():
  known = modules()
  wrong = []
  for module, path in known.items():
    if module == 'i3d':
      continue
    for imported in imports_at_load(path, known):
      if imported not in known or part(imported) == part(module):
        continue
      if LAYER_OF[part(imported)] >= LAYER_OF[part(module)]:
        wrong.append(f'{module} -> {imported}')
  assert not wrong


def test_no_import_cycle():
  known = modules()
  graph = {m: {i for i in imports_at_load(p, known) if i in known}
           for m, p in known.items()}
  state = {}

  def visit(module, trail):
    if state.get(module) == 'done':
      return
    assert state.get(module) != 'open', ' -> '.join(trail + [module])
    state[module] = 'open'
    for imported in sorted(graph[module]):
      visit(imported, trail + [module])
    state[module] = 'done'

  for module in sorted(graph):
    visit(module, [])


def test_each_flag_is_declared_in_one_place():
  """A flag that several commands take is declared once (`i3d.flags`); a name declared
  in two modules is a flag of two meanings, and each such pair is listed here."""
  declared = collections.defaultdict(set)
  pattern = re.compile(r"DEFINE_\w+\(\s*'(\w+)'")
  for module, path in modules().items():
    for name in pattern.findall(open(path).read()):
      declared[name].add(module)
  twice = {name: sorted(where) for name, where in declared.items() if len(where) > 1}
  # Same name, another meaning in each command: what the command's frames, batch,
  # seed, output, classes and workers are; the rate FVD's clips (as stored, by default)
  # and features' snippets (25 fps or the video's own) are taken at.
  different_meanings = {'batch_size', 'num_frames', 'output_dir', 'seed', 'top_k',
                        'window_frames', 'workers', 'labels', 'video_dir', 'eval_every',
                        'frames', 'video', 'fps'}
  assert set(twice) <= different_meanings, twice
  shared = ('checkpoint_dir', 'eval_type', 'imagenet_pretrained', 'precision',
            'model_dir', 'recipe', 'flow_impl')
  assert all(declared[name] == {'i3d.flags'} for name in shared), {
      name: declared[name] for name in shared}


# Commands whose module loads without TensorFlow: `--help` and a bad flag answer in a
# fraction of a second, not the five that importing TensorFlow takes (its Keras too).
COMMANDS_WITHOUT_TENSORFLOW = (
    'i3d.classify.__main__', 'i3d.features.__main__', 'i3d.evaluate_sample',
    'i3d.train.__main__', 'i3d.train.camera_motion', 'i3d.live.__main__',
    'i3d.preprocess.__main__', 'i3d.provision', 'i3d.fvd.__main__', 'i3d.export',
    'i3d.convert')


@pytest.mark.parametrize('command', COMMANDS_WITHOUT_TENSORFLOW)
def test_commands_load_tensorflow_only_to_run(command):
  code = (f'import sys, {command}\n'
          'assert "tensorflow" not in sys.modules, "TensorFlow loaded"\n')
  result = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True,
                          text=True, check=False)
  assert result.returncode == 0, result.stderr
