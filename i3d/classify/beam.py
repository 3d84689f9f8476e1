r"""The per-video work of `python -m i3d.classify` as an Apache Beam pipeline.

  python -m i3d.classify.beam --videos data/samples/videos --output_dir out/classify_beam

runs on Beam's local runner (the DirectRunner's in-process FnApiRunner; add
`--direct_num_workers=4 --direct_running_mode=multi_processing` for several worker
processes); any other Beam option after ours picks another runner,
for example `--runner=FlinkRunner --flink_master=host:8081 --environment_type=PROCESS`,
`--runner=SparkRunner`, or `--runner=DataflowRunner --project=... --region=...
--temp_location=gs://... --setup_file=./setup.py` (see README). The results are the
same files as the local command's, written by the same code: a folder can be started
with one and finished with the other.

Each worker process loads the networks once (`apache_beam.utils.shared.Shared`) and
reuses them for every video it is given. Videos already done are skipped, so a failed or
cancelled job is resumed by running it again.
"""

import os
import shutil
import tempfile
from typing import Iterable, Sequence, Tuple

from absl import app
from absl import flags

try:
  import apache_beam as beam  # pylint: disable=g-import-not-at-top
  from apache_beam.io.filesystems import \
      FileSystems  # pylint: disable=g-import-not-at-top
  from apache_beam.options.pipeline_options import \
      PipelineOptions  # pylint: disable=g-import-not-at-top
  from apache_beam.runners.portability.fn_api_runner import \
      fn_runner  # pylint: disable=g-import-not-at-top
  from apache_beam.utils import shared  # pylint: disable=g-import-not-at-top
except ImportError as e:
  raise ImportError('classify.beam needs Apache Beam: pip install -e ".[beam]" '
                    '(or pip install apache-beam)') from e

from i3d.catalogue import Plan  # pylint: disable=g-import-not-at-top
from i3d.classify import launch as launch_lib  # pylint: disable=g-import-not-at-top
from i3d.classify import report  # pylint: disable=g-import-not-at-top
from i3d.classify import work  # pylint: disable=g-import-not-at-top
from i3d.classify import settings as settings_lib  # pylint: disable=g-import-not-at-top
from i3d.classify.settings import Settings  # pylint: disable=g-import-not-at-top
from i3d.runtime import backends  # pylint: disable=g-import-not-at-top
from i3d.system import faults  # pylint: disable=g-import-not-at-top
from i3d.system.store import is_local, open_store  # pylint: disable=g-import-not-at-top
from i3d.videosets import sources  # pylint: disable=g-import-not-at-top


class _SharedNetworks:
  """A worker process's networks, in a form `Shared` can hold (weakly)."""

  def __init__(self, plan: Plan, settings: Settings):
    self.networks = backends.load_for(plan, settings, settings.multilabel)


class ClassifyVideo(beam.DoFn):
  """Preprocesses and classifies a video, writes its result; yields `(status, id)`,
  status `ok`, `failed` or `skipped` (done before)."""

  def __init__(self, output_dir: str, settings: Settings, plan: Plan, retry_failed: bool):
    self._output_dir = output_dir
    self._settings = settings
    self._plan = plan
    self._retry_failed = retry_failed
    self._shared = shared.Shared()

  def setup(self):
    # Held here: `Shared` keeps the networks only while a DoFn refers to them.
    self._loaded = self._shared.acquire(
        lambda: _SharedNetworks(self._plan, self._settings))
    self._store = open_store(self._output_dir)

  def process(self, video: sources.Video) -> Iterable[Tuple[str, str]]:
    if launch_lib.is_done(self._store, video, self._retry_failed):
      yield 'skipped', video.id
      return
    scratch = None
    local_path = video.path
    if not is_local(video.path):
      scratch = tempfile.mkdtemp(prefix='i3d-beam-')
      local_path = os.path.join(scratch, os.path.basename(video.path))
      with FileSystems.open(video.path) as source, open(local_path, 'wb') as target:
        shutil.copyfileobj(source, target)
    try:
      ok = work.classify_video(self._store, video, self._loaded.networks, self._settings,
                               local_path)
    finally:
      if scratch:
        shutil.rmtree(scratch, ignore_errors=True)
    yield ('ok' if ok else 'failed'), video.id


def build(pipeline, videos: Sequence[sources.Video], output_dir: str, settings: Settings,
          plan: Plan, retry_failed: bool = False):
  """Adds the classification of `videos` to `pipeline`; returns the PCollection of the
  report (a one-element dict: status counts, accuracy when labelled).

  `plan` is resolved at launch (`classify.launch`): the workers use its checkpoint
  prefixes, so they must see the checkpoints at the same paths.
  """
  statuses = (pipeline
              | 'Videos' >> beam.Create(videos)
              | 'Spread' >> beam.Reshuffle()
              | 'Classify' >> beam.ParDo(ClassifyVideo(output_dir, settings, plan,
                                                       retry_failed)))
  return (statuses
          | 'AllDone' >> beam.combiners.ToList()
          | 'Report' >> beam.Map(
              lambda _: report.write_reports(open_store(output_dir), videos, plan.labels)))


def run(videos: Sequence[sources.Video], output_dir: str, settings: Settings = Settings(),
        pipeline_args: Sequence[str] = (), retry_failed: bool = False) -> None:
  """Runs the pipeline to the end (DirectRunner unless `pipeline_args` say otherwise).

  Raises:
    MissingCheckpointError: If a needed checkpoint is absent; nothing is written.
    CheckpointMismatchError: If a checkpoint is damaged or of another layout.
    FolderBusyError: If another run holds a local `output_dir`.
    SettingsMismatchError: If `output_dir` holds results of other settings.
    ValueError: If a video's label is not a class of the label map.
  """
  options = PipelineOptions(list(pipeline_args))
  runner = None
  if options.get_all_options()['runner'] is None:
    # Beam's own local runner. (Beam's `DirectRunner` name first tries to download the
    # Prism runner from GitHub, which fails offline, then falls back to this one.)
    runner = fn_runner.FnApiRunner()
  # The same launch as the local command's, its lock held while the pipeline runs.
  with launch_lib.launched(videos, output_dir, settings, retry_failed,
                           program='classify.beam') as launched:
    try:
      with beam.Pipeline(runner=runner, options=options) as pipeline:
        build(pipeline, videos, output_dir, launched.settings, launched.plan, retry_failed)
    except RuntimeError as e:
      # A job the engine ended as failed (a worker killed, say): the videos are each
      # recorded by the work itself, so what failed is the engine's, and what was done
      # is kept.
      if 'failed in state' not in str(e):
        raise
      raise faults.MachineError(f'the pipeline failed on its runner ({_first_line(e)})') from e


def _first_line(error: BaseException) -> str:
  lines = str(error).strip().splitlines()
  return lines[0] if lines else type(error).__name__


def main(argv):
  f = flags.FLAGS

  def job():
    videos, settings = settings_lib.videos_and_settings_from_flags()
    run(videos, f.output_dir, settings, argv[1:], f.retry_failed)

  faults.run_command('classify.beam', job)
  print(report.describe(open_store(f.output_dir)))
  print(f'Results in {f.output_dir}')


def run_command() -> None:
  settings_lib.define_flags()
  # Our flags are absl's; everything else is the Beam pipeline's (--runner=...).
  app.run(main, flags_parser=lambda argv: flags.FLAGS(argv, known_only=True))


if __name__ == '__main__':
  run_command()
