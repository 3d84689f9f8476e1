"""The flags of a run and what they mean, shared by `python -m classify` and
`python -m classify.beam`."""

import os
import sys

from absl import flags

from classify import network
from classify import sources
from classify import work
from classify.settings import PRECISIONS, Settings
from i3d import releases
import preprocess

EXIT_BAD_INPUT = 1
EXIT_MISSING_CHECKPOINT = 3


def define_flags():
  """The flags of a run, shared with the Beam pipeline (`classify.beam`)."""
  flags.DEFINE_string('videos', None, 'A folder, a glob, a .txt list (one path a line) '
                      'or a .csv (Kinetics\' label,youtube_id,time_start,time_end,split '
                      'with files <youtube_id>_<start:06d>_<end:06d>.mp4, or path[,label]).')
  flags.DEFINE_string('video_dir', None, 'Folder of the files a list or CSV names; by '
                      'default the list\'s own folder.')
  flags.DEFINE_string('output_dir', None, 'Results folder; a rerun skips what is done.')
  flags.DEFINE_enum('eval_type', 'auto', list(network.EVAL_TYPES),
                    'auto: joint when the flow checkpoint is there, else rgb (and says '
                    'so); rgb, flow, joint (logits summed), rgb600 (Kinetics-600).')
  flags.DEFINE_bool('imagenet_pretrained', True, 'ImageNet-inflated checkpoints; '
                    '--noimagenet_pretrained for those trained from scratch.')
  flags.DEFINE_string('checkpoint_dir', releases.DEFAULT_CHECKPOINT_DIR,
                      'Folder of the release checkpoints, <name>/model.ckpt.*')
  flags.DEFINE_enum('recipe', 'kinetics', list(preprocess.RECIPES),
                    'Preprocessing recipe (see README).')
  flags.DEFINE_integer('window_frames', 64, 'Window length in frames at 25 fps; 0: one '
                       'pass over the whole clip per stream (the release\'s protocol).',
                       lower_bound=0)
  flags.DEFINE_integer('window_stride', 32, 'Frames between window starts.', lower_bound=1)
  flags.DEFINE_integer('batch_size', 8, 'Windows per forward pass.', lower_bound=1)
  flags.DEFINE_integer('top_k', 5, 'Classes kept per video.', lower_bound=5)
  flags.DEFINE_enum('precision', 'float32', list(PRECISIONS), 'Network precision.')
  flags.DEFINE_bool('plots', True, 'A PNG of the top classes over time per video.')
  flags.DEFINE_integer('workers', None, 'Preprocessing processes; default: every core.',
                       lower_bound=1)
  flags.DEFINE_bool('retry_failed', False, 'Retry videos that failed in an earlier run.')
  flags.mark_flags_as_required(['videos', 'output_dir'])


def settings_from_flags() -> Settings:
  f = flags.FLAGS
  return Settings(eval_type=f.eval_type, imagenet_pretrained=f.imagenet_pretrained,
                  checkpoint_dir=f.checkpoint_dir, recipe=f.recipe,
                  window_frames=f.window_frames, window_stride=f.window_stride,
                  batch_size=f.batch_size, top_k=f.top_k, precision=f.precision,
                  plots=f.plots)


def announce(settings: Settings) -> Settings:
  """Resolves `auto` and says on stderr what it chose and why."""
  resolved = settings.resolved()
  if settings.eval_type == 'auto' and resolved.eval_type == 'rgb':
    flow = releases.release_for('flow', settings.imagenet_pretrained)
    print(f'classify: RGB only: no {flow.name} checkpoint in '
          f'{os.path.join(settings.checkpoint_dir, flow.name)} (it is in no package '
          'registry; see README), so no flow or joint results', file=sys.stderr)
  return resolved


def run_or_exit(program: str, job):
  """`job()`'s value; on a missing checkpoint or bad input, one line on stderr naming
  what is wrong, and exit status 3 or 1."""
  try:
    return job()
  except releases.MissingCheckpointError as e:
    print(f'{program}: {e}', file=sys.stderr)
    sys.exit(EXIT_MISSING_CHECKPOINT)
  except (sources.SourceError, work.SettingsMismatchError, ValueError, OSError) as e:
    print(f'{program}: {e}', file=sys.stderr)
    sys.exit(EXIT_BAD_INPUT)
