"""Training's input as a function of the run's position: each epoch's order is a pure
function of (seed, epoch), the same from any thread at any time."""

import sys
import threading
import time

import numpy as np
import pytest

from i3d.train import data
from i3d.train.recipe import Recipe
from i3d.videosets.sources import Video

VIDEOS = [Video(f'v{i}', f'v{i}.mp4', 'PanLeft') for i in range(5)]


def loader():
  recipe = Recipe(modality='rgb', init='scratch', classes=('PanLeft',), seed=7)
  return data.ClipLoader(VIDEOS, ('PanLeft',), recipe)


def test_each_epoch_is_a_seeded_permutation():
  videos = loader()
  for epoch in (0, 1, 2):
    expected = np.random.default_rng([7, epoch]).permutation(len(VIDEOS))
    got = [videos.video_at(epoch * len(VIDEOS) + k) for k in range(len(VIDEOS))]
    assert got == list(expected), epoch
  assert sorted(got) == list(range(len(VIDEOS)))


def test_threads_at_an_epoch_boundary_read_their_own_epochs_order():
  # tf.data's parallel calls: a thread still in epoch e reads after another has started
  # epoch e + 1 (or e + 2). Each must see its own epoch's order. Under CPython's GIL a
  # thread is rarely switched inside `video_at`, so each thread here yields at every line
  # of the loader's module, as a free-threaded Python or an unlucky switch would.
  expected = {p: loader().video_at(p) for p in range(3 * len(VIDEOS))}
  videos, failures = loader(), []

  def yield_at_every_line(frame, unused_event, unused_arg):
    if frame.f_code.co_filename != data.__file__:
      return None
    time.sleep(0)  # Lets another thread run.
    return yield_at_every_line

  def read(positions):
    sys.settrace(yield_at_every_line)
    try:
      for p in positions:
        assert videos.video_at(p) == expected[p], p
    except Exception as e:  # pylint: disable=broad-except
      failures.append(repr(e))

  around = [3, 5, 12] * 100  # Epochs 0, 1 and 2.
  threads = [threading.Thread(target=read, args=(around[i:],)) for i in range(3)]
  for t in threads:
    t.start()
  for t in threads:
    t.join()
  assert not failures, failures[:3]


def test_a_tf_config_that_is_not_json_is_named(monkeypatch):
  from i3d.train import steps  # pylint: disable=g-import-not-at-top
  monkeypatch.setenv('TF_CONFIG', "{'cluster': {'worker': ['a:1', 'b:2']}}")
  with pytest.raises(ValueError, match=r'^TF_CONFIG: '):
    steps.strategy_for()
