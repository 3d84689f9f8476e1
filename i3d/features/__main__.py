r"""Extracts I3D features per video: for each video `<id>.npy`, float32 `[N, D]`, the
Mixed_5c output averaged over time and space for N snippets, and an index.

  python -m i3d.features --videos data/samples/videos --output_dir out/features
  python -m i3d.features --preset actionformer_thumos --videos V --output_dir out/thumos

Snippets of --snippet_frames frames start every --snippet_stride frames at --fps (a
number, or `native`: the video's own frames); the last incomplete one is dropped, a
video shorter than one snippet is one snippet (i3d/features/snippets.py). D is 1024 per
stream; `two_stream` concatenates RGB then flow (2048). With --spatial_views 3 or 10:
`[N, crops, D]`. Writes `features.csv` (id, path, file, frames, fps, snippets,
snippet_frames, start_times) and `meta/`; a rerun skips the videos done. Array jobs:
`--shard INDEX/COUNT` (or `env`), as in classification.

Exit status: 0 when done (failed videos are recorded in meta/, not fatal), 1 on bad
arguments or list of videos, or when another run holds the folder, 3 when a needed
checkpoint is absent (flow's, for flow and two_stream), 4 on an error of the machine
(nothing is written off; the same command goes on from there), 130 on Ctrl-C.
"""

import sys

from absl import app
from absl import flags

from i3d import flags as shared
from i3d.features import settings as settings_lib
from i3d.system import faults
from i3d.system import shards

_SHARD = shared.shard()


def main(argv):
  if len(argv) > 1:
    sys.exit(f'features: unexpected arguments {argv[1:]}')
  f = flags.FLAGS

  def job():
    # Here, not at the top: TensorFlow loads only once the flags are good (`--help` and
    # a bad flag answer at once), and a Ctrl-C while it loads is answered as any other.
    from i3d.features import run as run_lib  # pylint: disable=g-import-not-at-top
    videos, settings = settings_lib.videos_and_settings_from_flags()
    return run_lib.extract_videos(videos, f.output_dir, settings, workers=f.workers,
                                  retry_failed=f.retry_failed,
                                  shard=shards.parse(_SHARD.value))

  summary = faults.run_command('features', job)
  cut_short = f', {summary.cut_short} cut short' if summary.cut_short else ''
  print(f'{summary.processed} processed, {summary.skipped} already done, '
        f'{summary.failed} failed now ({summary.failed_in_all} failed in all{cut_short}, '
        f'see {f.output_dir}/meta)')
  print(f'Features in {f.output_dir}')


def run() -> None:
  settings_lib.define_flags()
  app.run(main)


if __name__ == '__main__':
  run()
