"""The environment the suite runs in is the one constraints.txt pins: a package at
another version than the pinned one fails here, by name, before its numbers (the fast
TV-L1's bit-identity with OpenCV, the README's printed logits) are blamed."""

import importlib.metadata
import os
import re

from tests.conftest import ROOT

PIN = re.compile(r'^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)$')


def pins():
  """{name: version} of constraints.txt; every line that is not a comment is a pin."""
  found = {}
  with open(os.path.join(ROOT, 'constraints.txt')) as f:
    for number, line in enumerate(f, 1):
      line = line.strip()
      if not line or line.startswith('#'):
        continue
      match = PIN.match(line)
      assert match, f'constraints.txt:{number}: not an exact pin: {line}'
      found[match[1]] = match[2]
  return found


def test_every_pinned_package_is_installed_at_its_pinned_version():
  drifted = []
  for name, version in pins().items():
    try:
      installed = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
      drifted.append(f'{name}: pinned {version}, not installed')
      continue
    if installed != version:
      drifted.append(f'{name}: pinned {version}, installed {installed}')
  assert not drifted, ('the environment drifted from constraints.txt (bash scripts/setup.sh '
                       'reinstalls the pins): ' + '; '.join(drifted))


def test_the_pins_cover_the_librarys_own_requirements():
  # A requirement left unpinned would float to whatever the registry serves.
  requirements = importlib.metadata.requires('kinetics-i3d-tf2')
  names = {re.match(r'[A-Za-z0-9._-]+', r)[0].lower().replace('_', '-') for r in requirements}
  pinned = {name.lower().replace('_', '-') for name in pins()}
  assert names <= pinned, sorted(names - pinned)
