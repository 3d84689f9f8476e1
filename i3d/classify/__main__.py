r"""Classifies many videos: logits, top classes and Mixed_5c features per video and
per window, a summary of all videos, and accuracy when they are labelled.

  python -m i3d.classify --videos data/samples/videos --output_dir out/classify

`--videos` is a folder, a glob, a `.txt` list or a `.csv` (Kinetics'
`label,youtube_id,time_start,time_end,split`, or `path[,label]`). Writes into
`--output_dir`: `videos/<id>.npz` (see i3d/classify/result.py), `videos/<id>.png`,
`videos/<id>.failed.json` for a video that could not be read, `summary.csv`,
`summary.jsonl`, and with labels `metrics.json`, `per_class.csv`, `confusion.csv`.
A rerun skips the videos already done. Prints one line of counts (and accuracy).

Array jobs: `--shard INDEX/COUNT` (or `env`, `env/COUNT`: SLURM's or PBS's array index)
does one shard of the list; shards run together in one folder, and the shard that finds
every video done writes the summary (or a later `--summarize` run does).

Exit status: 0 when done (failed videos are recorded, not fatal), 1 on bad arguments,
list of videos or checkpoint files, or when another run holds the output folder, 3 when a
needed checkpoint is absent, 4 on an error of the machine (no space, a read-only or
vanished folder, out of memory, a killed worker: nothing is written off, and the same
command goes on from there), 130 on Ctrl-C.
"""

import sys

from absl import app
from absl import flags

from i3d.classify import report  # pylint: disable=g-import-not-at-top
from i3d.classify import settings as settings_lib  # pylint: disable=g-import-not-at-top
from i3d import flags as shared  # pylint: disable=g-import-not-at-top
from i3d.system import faults  # pylint: disable=g-import-not-at-top
from i3d.system import shards  # pylint: disable=g-import-not-at-top
from i3d.system.store import open_store  # pylint: disable=g-import-not-at-top

_SHARD = shared.shard()
_SUMMARIZE = flags.DEFINE_bool(
    'summarize', False, 'Only write the summary (and accuracy) files from the results '
    'there, computing nothing (after shards that did not all finish).')


def main(argv):
  if len(argv) > 1:
    sys.exit(f'classify: unexpected arguments {argv[1:]}')
  f = flags.FLAGS

  def job():
    # Here, not at the top: TensorFlow loads only once the flags are good (`--help` and
    # a bad flag answer at once), and a Ctrl-C while it loads is answered as any other.
    from i3d.classify import run as run_lib  # pylint: disable=g-import-not-at-top
    videos, settings = settings_lib.videos_and_settings_from_flags()
    if _SUMMARIZE.value:
      return run_lib.summarize(videos, f.output_dir, settings)
    return run_lib.classify_videos(videos, f.output_dir, settings, workers=f.workers,
                                   retry_failed=f.retry_failed,
                                   shard=shards.parse(_SHARD.value))

  summary = faults.run_command('classify', job)
  store = open_store(f.output_dir)
  if _SUMMARIZE.value:
    print(report.describe(store))
  elif summary.report is None:
    print(f'{summary.processed} processed, {summary.skipped} already done, '
          f'{summary.failed} failed now in shard {_SHARD.value}; other shards\' videos '
          'are pending: the last shard to finish writes the summary')
  else:
    print(f'{summary.processed} processed, {summary.skipped} already done, '
          f'{summary.failed} failed now; {report.describe(store)}')
  print(f'Results in {f.output_dir}')


def run() -> None:
  settings_lib.define_flags()
  app.run(main)


if __name__ == '__main__':
  run()
