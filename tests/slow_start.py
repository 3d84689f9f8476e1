"""Workers for the Ctrl-C tests of `tests/test_assets.py`: an initializer whose module
takes 2 s to import in a worker process, as OpenCV and NumPy take a moment on a slow
disk, so that a Ctrl-C can arrive in the middle of it; and work that shows a progress
bar and is slow to stop."""

import multiprocessing
import time

# A spawned worker has its own name from the start (its parent is known only later).
if multiprocessing.current_process().name != 'MainProcess':
  time.sleep(2)


def ready():
  pass


def with_a_bar(started: str) -> None:
  """With `started` (a path), shows a progress bar, says so by making that file, and
  works until stopped; stopping takes two seconds, as writing out what was done may.
  Without, returns at once."""
  if not started:
    return
  import tqdm  # pylint: disable=g-import-not-at-top
  with tqdm.tqdm(total=1, disable=None):  # As the pipeline: shown on a terminal only.
    open(started, 'w').close()
    try:
      time.sleep(60)
    except SystemExit:
      time.sleep(2)
      raise
