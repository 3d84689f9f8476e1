"""A worker initializer whose module takes 2 s to import in a worker process, as OpenCV
and NumPy take a moment on a slow disk: a Ctrl-C can arrive in the middle of it
(`tests/test_assets.py`)."""

import multiprocessing
import time

# A spawned worker has its own name from the start (its parent is known only later).
if multiprocessing.current_process().name != 'MainProcess':
  time.sleep(2)


def ready():
  pass
