"""Names of a package loaded on first use (PEP 562), so that importing the package stays
cheap: `i3d` and `i3d.classify` export TensorFlow-backed names without importing
TensorFlow until one is used (the preprocessing workers never do)."""

import importlib
from typing import Callable, Dict, List, Tuple


def exports(package_globals: Dict, table: Dict[str, str]) -> Tuple[Callable, Callable]:
  """The package's `__getattr__` and `__dir__` for `table`: `{name: module}`."""
  package = package_globals['__name__']

  def __getattr__(name: str):  # pylint: disable=invalid-name
    if name not in table:
      raise AttributeError(f'module {package!r} has no attribute {name!r}')
    value = getattr(importlib.import_module(table[name]), name)
    package_globals[name] = value  # Found directly from now on.
    return value

  def __dir__() -> List[str]:  # pylint: disable=invalid-name
    return sorted(set(package_globals) | set(table))

  return __getattr__, __dir__
