"""The flags of a run and what they mean, shared by `python -m classify` and
`python -m classify.beam`."""

from typing import List, Tuple

from absl import flags
import i3d_catalogue
from i3d_catalogue import paths

from classify import labelled
from classify import sources
from classify.settings import Settings


def define_flags():
  """The flags of a run, shared with the Beam pipeline (`classify.beam`)."""
  flags.DEFINE_string('videos', None, 'A folder, a glob, a .txt list (one path a line) '
                      'or a .csv (Kinetics\' label,youtube_id,time_start,time_end,split '
                      'with files <youtube_id>_<start:06d>_<end:06d>.mp4, or path[,label]).')
  flags.DEFINE_string('video_dir', None, 'Folder of the files a list or CSV names; by '
                      'default the list\'s own folder.')
  flags.DEFINE_string('output_dir', None, 'Results folder; a rerun skips what is done.')
  flags.DEFINE_enum('eval_type', 'auto', list(i3d_catalogue.EVAL_TYPES_WITH_AUTO),
                    'auto: joint when the flow checkpoint is there, else rgb (and says '
                    'so); rgb, flow, joint (logits summed), rgb600 (Kinetics-600).')
  flags.DEFINE_bool('imagenet_pretrained', True, 'ImageNet-inflated checkpoints; '
                    '--noimagenet_pretrained for those trained from scratch.')
  flags.DEFINE_string('checkpoint_dir', paths.checkpoint_dir(),
                      'Folder of the release checkpoints, <name>/model.ckpt.* (default: '
                      '$I3D_CHECKPOINT_DIR, else data/checkpoints in a clone).')
  flags.DEFINE_enum('recipe', 'kinetics', list(i3d_catalogue.RECIPES),
                    'Preprocessing recipe (see README).')
  flags.DEFINE_enum('flow_impl', 'fast', list(i3d_catalogue.FLOW_IMPLS),
                    'TV-L1 implementation for the flow stream: fast or opencv (the same '
                    'flow; see README).')
  flags.DEFINE_integer('window_frames', 64, 'Window length in frames at 25 fps; 0: one '
                       'pass over the whole clip per stream (the release\'s protocol).',
                       lower_bound=0)
  flags.DEFINE_integer('window_stride', 32, 'Frames between window starts.', lower_bound=1)
  flags.DEFINE_integer('batch_size', 8, 'Windows per forward pass.', lower_bound=1)
  flags.DEFINE_integer('top_k', 5, 'Classes kept per video.', lower_bound=5)
  flags.DEFINE_enum('precision', 'float32', list(i3d_catalogue.PRECISION_CHOICES),
                    'Network precision: bfloat16 is faster only with bfloat16 units '
                    '(AVX512_BF16, AMX, GPUs of compute capability 8.0+), slower '
                    'elsewhere (with a warning); auto picks it only where they are.')
  flags.DEFINE_bool('plots', True, 'A PNG of the top classes over time per video.')
  flags.DEFINE_integer('workers', None, 'Preprocessing processes; default: every core.',
                       lower_bound=1)
  flags.DEFINE_bool('retry_failed', False, 'Retry videos that failed in an earlier run.')
  flags.DEFINE_string('model_dir', None, 'A model trained by python -m train (its folder), '
                      'run instead of the release\'s checkpoints.')
  flags.DEFINE_string('labels', None, 'Class names (a classInd.txt or one name per line): '
                      '--videos is then a labelled set as python -m train reads it (a '
                      'UCF-101 list, HMDB-51 split files with lines marked 2, class '
                      'folders, a CSV), and accuracy is reported.')
  flags.mark_flags_as_required(['videos', 'output_dir'])


def videos_and_settings_from_flags() -> Tuple[List[sources.Video], Settings]:
  """The videos of `--videos` and the settings of the other flags.

  Raises:
    SourceError: If the list of videos cannot be read.
    ValueError: On settings that do not go together.
  """
  f = flags.FLAGS
  settings = Settings(
      eval_type=f.eval_type, imagenet_pretrained=f.imagenet_pretrained,
      checkpoint_dir=f.checkpoint_dir, recipe=f.recipe, flow_impl=f.flow_impl,
      window_frames=f.window_frames,
      window_stride=f.window_stride, batch_size=f.batch_size, top_k=f.top_k,
      precision=f.precision, plots=f.plots, model_dir=f.model_dir)
  if f.labels:
    videos, _, _ = labelled.read_labelled(
        f.videos, f.video_dir, 'test', labelled.read_class_names(f.labels),
        require_files=False)
    return videos, settings
  return sources.list_videos(f.videos, f.video_dir), settings
