"""The names of a run's files in its store (`i3d_assets.store`).

A result appears under its final name only once complete (written to a temporary name,
then renamed), so a killed run leaves either nothing or a whole file, and "the file
exists" means "the video is done".
"""

VIDEOS = 'videos'
RUN_FILE = 'run.json'


def result_name(video_id: str) -> str:
  return f'{VIDEOS}/{video_id}.npz'


def failure_name(video_id: str) -> str:
  return f'{VIDEOS}/{video_id}.failed.json'


def plot_name(video_id: str) -> str:
  return f'{VIDEOS}/{video_id}.png'
