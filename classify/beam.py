r"""The per-video work of `python -m classify` as an Apache Beam pipeline.

  python -m classify.beam --videos data/samples/videos --output_dir out/classify_beam

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
from typing import Iterable, Optional, Sequence, Tuple

from absl import app
from absl import flags

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

try:
  import apache_beam as beam  # pylint: disable=g-import-not-at-top
  from apache_beam.io.filesystems import FileSystems  # pylint: disable=g-import-not-at-top
  from apache_beam.options.pipeline_options import PipelineOptions  # pylint: disable=g-import-not-at-top
  from apache_beam.runners.portability.fn_api_runner import fn_runner  # pylint: disable=g-import-not-at-top
  from apache_beam.utils import shared  # pylint: disable=g-import-not-at-top
except ImportError as e:
  raise ImportError('classify.beam needs Apache Beam: pip install -e ".[beam]" '
                    '(or pip install apache-beam)') from e

from classify import cli  # pylint: disable=g-import-not-at-top
from classify import network  # pylint: disable=g-import-not-at-top
from classify import report  # pylint: disable=g-import-not-at-top
from classify import sources  # pylint: disable=g-import-not-at-top
from classify import store as store_lib  # pylint: disable=g-import-not-at-top
from classify import work  # pylint: disable=g-import-not-at-top
from classify.settings import Settings  # pylint: disable=g-import-not-at-top


def is_local(path: str) -> bool:
  return FileSystems.get_scheme(path) in (None, 'file')


class BeamStore(store_lib.LocalStore):
  """A results folder on any Beam filesystem (local, gs://, hdfs://, s3://).

  Local folders are written like the local command's (temporary file, then rename);
  elsewhere through `FileSystems`, whose object stores make a file visible only once it
  is closed.
  """

  def __init__(self, root: str):
    super().__init__(root)
    self._local = is_local(root)

  def path(self, name: str) -> str:
    return super().path(name) if self._local else FileSystems.join(self.root, *name.split('/'))

  def exists(self, name: str) -> bool:
    return super().exists(name) if self._local else FileSystems.exists(self.path(name))

  def read(self, name: str) -> Optional[bytes]:
    if self._local:
      return super().read(name)
    if not FileSystems.exists(self.path(name)):
      return None
    with FileSystems.open(self.path(name)) as f:
      return f.read()

  def write(self, name: str, data: bytes) -> None:
    if self._local:
      super().write(name, data)
      return
    with FileSystems.create(self.path(name)) as f:
      f.write(data)

  def remove(self, name: str) -> None:
    if self._local:
      super().remove(name)
    elif FileSystems.exists(self.path(name)):
      FileSystems.delete([self.path(name)])


class _Loaded:
  """The networks of a worker process, in a form `Shared` can hold (weakly)."""

  def __init__(self, settings: Settings):
    self.networks = network.Networks(settings.eval_type, settings.imagenet_pretrained,
                                     settings.checkpoint_dir, settings.precision)


class ClassifyVideo(beam.DoFn):
  """Preprocesses and classifies a video, writes its result; yields `(status, id)`,
  status `ok`, `failed` or `skipped` (done before)."""

  def __init__(self, output_dir: str, settings: Settings, retry_failed: bool):
    self._output_dir = output_dir
    self._settings = settings
    self._retry_failed = retry_failed
    self._shared = shared.Shared()

  def setup(self):
    # Held here: `Shared` keeps the networks only while a DoFn refers to them.
    self._loaded = self._shared.acquire(lambda: _Loaded(self._settings))
    self._store = BeamStore(self._output_dir)

  def process(self, video: sources.Video) -> Iterable[Tuple[str, str]]:
    if work.is_done(self._store, video, self._retry_failed):
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
      ok = work.process(self._store, video, self._loaded.networks, self._settings,
                        local_path)
    finally:
      if scratch:
        shutil.rmtree(scratch, ignore_errors=True)
    yield ('ok' if ok else 'failed'), video.id


def build(pipeline, videos: Sequence[sources.Video], output_dir: str, settings: Settings,
          retry_failed: bool = False):
  """Adds the classification of `videos` to `pipeline`; returns the PCollection of the
  report (a one-element dict: status counts, accuracy when labelled).

  `settings` must be resolved (`Settings.resolved()`): workers may not see the
  launcher's checkpoint folder the same way.
  """
  labels = network.check_checkpoints(settings.eval_type, settings.imagenet_pretrained,
                                     settings.checkpoint_dir)
  work.check_labels(videos, labels)
  statuses = (pipeline
              | 'Videos' >> beam.Create(videos)
              | 'Spread' >> beam.Reshuffle()
              | 'Classify' >> beam.ParDo(ClassifyVideo(output_dir, settings, retry_failed)))
  return (statuses
          | 'AllDone' >> beam.combiners.ToList()
          | 'Report' >> beam.Map(
              lambda _: report.write_reports(BeamStore(output_dir), videos, labels)))


def run(videos: Sequence[sources.Video], output_dir: str, settings: Settings = Settings(),
        pipeline_args: Sequence[str] = (), retry_failed: bool = False) -> None:
  """Runs the pipeline to the end (DirectRunner unless `pipeline_args` say otherwise).

  Raises:
    SettingsMismatchError: If `output_dir` holds results of other settings.
    ValueError: If a video's label is not a class of the label map.
  """
  settings = settings.resolved()
  store = BeamStore(output_dir)
  options = PipelineOptions(list(pipeline_args))
  runner = None
  if options.get_all_options()['runner'] is None:
    # Beam's own local runner. (Beam's `DirectRunner` name first tries to download the
    # Prism runner from GitHub, which fails offline, then falls back to this one.)
    runner = fn_runner.FnApiRunner()
  with beam.Pipeline(runner=runner, options=options) as pipeline:
    # Checkpoints and labels are checked here, at launch, before anything is written.
    build(pipeline, videos, output_dir, settings, retry_failed)
    work.claim_output(store, settings)
    store.remove_temporaries()  # What a killed run was writing (local folders only).


def main(argv):
  f = flags.FLAGS

  def job():
    videos = sources.list_videos(f.videos, f.video_dir)
    settings = cli.announce(cli.settings_from_flags())
    run(videos, f.output_dir, settings, argv[1:], f.retry_failed)

  cli.run_or_exit('classify.beam', job)
  print(report.describe(BeamStore(f.output_dir)))
  print(f'Results in {f.output_dir}')


if __name__ == '__main__':
  cli.define_flags()
  # Our flags are absl's; everything else is the Beam pipeline's (--runner=...).
  app.run(main, flags_parser=lambda argv: flags.FLAGS(argv, known_only=True))
