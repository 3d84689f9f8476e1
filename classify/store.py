"""The names of a run's files in its store (`i3d_assets.store`), and damaged ones set aside.

A result appears under its final name only once complete (written to a temporary name,
then renamed), so a killed run leaves either nothing or a whole file, and "the file
exists" means "the video is done".
"""

import sys

VIDEOS = 'videos'
RUN_FILE = 'run.json'
# A run's temporary arrays, under its output folder while it runs.
SCRATCH = '.scratch'
# A damaged result or record is kept under its name with this added.
DAMAGED_SUFFIX = '.damaged'


def result_name(video_id: str) -> str:
  return f'{VIDEOS}/{video_id}.npz'


def failure_name(video_id: str) -> str:
  return f'{VIDEOS}/{video_id}.failed.json'


def plot_name(video_id: str) -> str:
  return f'{VIDEOS}/{video_id}.png'


def set_aside(store, name: str, problem: str, program: str = 'classify',
              then: str = 'the video is done again') -> None:
  """Moves a damaged file to `<name>.damaged` and says so in one line on stderr."""
  store.write(name + DAMAGED_SUFFIX, store.read(name) or b'')
  store.remove(name)
  print(f'{program}: {store.path(name)}: damaged ({problem}); moved to '
        f'{store.path(name)}{DAMAGED_SUFFIX}, {then}', file=sys.stderr)
