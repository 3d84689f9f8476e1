"""An output folder claimed for one set of settings: the first run records them (a JSON
object), and a later run into the folder must bring the same, so that one folder never
mixes results of different settings. `i3d.classify` and `i3d.train` claim theirs here.
"""

import json
from typing import Any, Callable, Collection, List

from i3d.system.store import Store


class SettingsMismatchError(ValueError):
  """The output folder holds results made with other settings."""


def _describe_change(key: str, theirs: Any, mine: Any) -> str:
  return f'{key}={theirs!r} there, {mine!r} now'


def claim_settings(store: Store, name: str, record: bytes, refusal: str,
                   describe_change: Callable[[str, Any, Any], str] = _describe_change,
                   ignore: Collection[str] = (), holds_results: bool = True) -> None:
  """Writes `record` (the settings as a JSON object) to `name`, or checks it against the
  settings recorded there.

  Args:
    store: The output folder.
    name: The settings file's name in it.
    record: The settings' JSON, as it is written.
    refusal: The message when they differ, with `{path}` and `{changes}` in it.
    describe_change: Says one setting that differs, from its key and both values.
    ignore: Keys that may differ (a run's length, which a later run may extend).
    holds_results: Whether the folder holds results of the recorded settings. If not
      (a run that stopped before its first result, say on a bad calibration video),
      its claim is replaced: there is nothing to keep apart.

  Raises:
    SettingsMismatchError: If the recorded settings differ (naming each difference), or
      the file is damaged (naming it).
  """
  existing = store.read(name)
  if existing is None or not holds_results:
    store.write(name, record)
    return
  path = store.path(name)
  try:
    theirs = json.loads(existing)
    if not isinstance(theirs, dict):
      raise ValueError(f'a JSON {type(theirs).__name__}, not an object')
  except ValueError as e:
    raise SettingsMismatchError(
        f'{path}: damaged ({e}); it records the settings of the results in that folder: '
        'remove it if they were made with these settings, or use another output '
        'folder') from e
  mine = json.loads(record)
  keys = list(mine) + [key for key in theirs if key not in mine]  # Unknown ones too.
  changes: List[str] = [describe_change(key, theirs.get(key), mine.get(key))
                        for key in keys
                        if key not in ignore and theirs.get(key) != mine.get(key)]
  if changes:
    raise SettingsMismatchError(refusal.format(path=path, changes='; '.join(changes)))
