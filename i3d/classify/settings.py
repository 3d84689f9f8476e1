"""What a run computes, and the flags that say it; shared by the local command and the
Beam pipeline."""

import dataclasses
from typing import Any, Dict, List, Optional, Tuple

from absl import flags

from i3d import catalogue
from i3d import flags as shared
from i3d import runtime
from i3d.catalogue import paths
from i3d.catalogue import Plan
from i3d.classify import views
from i3d.videosets import labelled
from i3d.videosets import multilabel
from i3d.videosets import sources

VIDEO_SCORES = ('max', 'mean')


@dataclasses.dataclass(frozen=True)
class Settings:
  """How every video of a run is processed: a plain value, checked on construction.

  Attributes:
    eval_type: `auto` (joint when the flow checkpoint is there, else rgb), `rgb`,
      `flow`, `joint` (RGB + flow logits, equal weight) or `rgb600` (Kinetics-600).
    imagenet_pretrained: The ImageNet-inflated checkpoints, or those from scratch.
    checkpoint_dir: Folder of the release checkpoints, `<name>/model.ckpt.*`.
    recipe: Preprocessing recipe, `kinetics` or `mediapipe` (see preprocess).
    flow_impl: TV-L1 implementation, `fast` or `opencv` (see i3d.preprocess.flow); recorded
      with the results of runs with a flow stream.
    window_frames: Window length in frames at 25 fps; 0 runs each stream once over the
      whole clip, the release's test protocol.
    window_stride: Frames between window starts.
    temporal_views: 0 for the sliding windows; N > 0 for multi-view testing: N clips of
      `window_frames` frames placed as MMAction2's test sampling places them (see
      `classify.views`), the video scored by the mean of the views' softmax
      probabilities.
    spatial_views: With `temporal_views`, crops per clip: 1 (centre), 3 or 10 (see
      `classify.views`).
    batch_size: Windows per forward pass.
    top_k: Classes kept per video in the results and the summary (at least 5, so that
      top-5 accuracy can be computed).
    precision: `float32`, `bfloat16` or `auto` (bfloat16 where there are bfloat16
      units; resolved at launch, and the results record which it was).
    plots: Write a PNG of the top classes' probabilities over time per video.
    model_dir: A model trained by `python -m i3d.train`, run instead of the release's
      checkpoints (with its own classes); `eval_type` and `checkpoint_dir` are unused.
    multilabel: Score as multi-label video (`classify.multilabel`): set by a
      multi-label `--videos` with `--labels`.
    video_score: Multi-label: a video's logits are the `max` (Charades' convention in
      PySlowFast) or the `mean` of its windows'.
    backend: `tensorflow` or `openvino` (`i3d.runtime`); precision `int8` needs the
      latter.
    calibration_videos, calibration_clips: What int8 is calibrated on (`runtime.int8`).
    refuse_cut_short: Record a video that decodes fewer frames than its container
      declares as failed, instead of using those (named in one line and counted).
  """
  eval_type: str = 'auto'
  imagenet_pretrained: bool = True
  checkpoint_dir: str = dataclasses.field(default_factory=paths.checkpoint_dir)
  recipe: str = 'kinetics'
  flow_impl: str = catalogue.DEFAULT_FLOW_IMPL
  window_frames: int = 64
  window_stride: int = 32
  temporal_views: int = 0
  spatial_views: int = 1
  batch_size: int = 8
  top_k: int = 5
  precision: str = 'float32'
  plots: bool = True
  model_dir: Optional[str] = None
  multilabel: bool = False
  video_score: str = 'max'
  backend: str = 'tensorflow'
  calibration_videos: Tuple[str, ...] = ()
  calibration_clips: int = catalogue.CALIBRATION_CLIPS
  refuse_cut_short: bool = False

  def __post_init__(self):
    runtime.check(self.backend, self.precision)
    choices = (('eval_type', catalogue.EVAL_TYPES_WITH_AUTO), ('recipe', catalogue.RECIPES),
               ('precision', catalogue.BACKEND_PRECISION_CHOICES),
               ('flow_impl', catalogue.FLOW_IMPLS))
    for name, valid in choices:
      if getattr(self, name) not in valid:
        raise ValueError(f'Unknown {name} {getattr(self, name)!r}; valid: '
                         f'{", ".join(valid)}')
    if self.window_frames != 0 and self.window_frames < catalogue.MIN_FRAMES:
      raise ValueError(f'window_frames must be 0 (whole clip) or at least '
                       f'{catalogue.MIN_FRAMES}, got {self.window_frames}')
    if self.window_stride < 1 or self.batch_size < 1:
      raise ValueError(f'window_stride and batch_size must be positive, got '
                       f'{self.window_stride} and {self.batch_size}')
    if self.temporal_views < 0 or self.spatial_views not in views.SPATIAL_VIEWS:
      raise ValueError(f'temporal_views must be at least 0 and spatial_views one of '
                       f'{views.SPATIAL_VIEWS}, got {self.temporal_views} and '
                       f'{self.spatial_views}')
    if self.temporal_views and self.window_frames == 0:
      raise ValueError('temporal_views needs window_frames > 0: the views are clips of '
                       'that many frames')
    if self.spatial_views > 1 and not self.temporal_views:
      raise ValueError('spatial_views above 1 needs temporal_views (multi-view testing)')
    if self.top_k < 5:
      raise ValueError(f'top_k must be at least 5, got {self.top_k}')
    if self.video_score not in VIDEO_SCORES:
      raise ValueError(f'video_score must be one of {", ".join(VIDEO_SCORES)}, got '
                       f'{self.video_score!r}')
    if self.multilabel and self.temporal_views:
      raise ValueError('multi-label scoring runs on the sliding windows, not '
                       'temporal_views')

  @property
  def crop(self) -> str:
    """How preprocessing crops: the centre, or not at all where views cut crops."""
    return 'none' if self.spatial_views > 1 else 'center'

  def make_plan(self) -> Plan:
    """The networks these settings run, `auto` resolved, checkpoints found on disk.

    Raises:
      MissingCheckpointError: If a needed checkpoint is absent.
    """
    if self.model_dir:
      return catalogue.model_plan(self.model_dir)
    return catalogue.make_plan(self.eval_type, self.imagenet_pretrained,
                               self.checkpoint_dir)

  def identity(self, plan: Plan) -> Dict[str, Any]:
    """What decides the results' values: two runs into one folder must agree on it."""
    identity = {
        'eval_type': plan.eval_type,
        'checkpoints': plan.checkpoint_names,
        'recipe': self.recipe,
        'window_frames': self.window_frames,
        'window_stride': self.window_stride,
        'top_k': self.top_k,
        'precision': self.precision,
    }
    if 'flow' in plan.modalities:
      identity['flow_impl'] = self.flow_impl
    if self.temporal_views:  # Only then: folders of sliding windows keep their claim.
      identity.update(temporal_views=self.temporal_views, spatial_views=self.spatial_views)
    if self.multilabel:  # Likewise.
      identity.update(multilabel=True, video_score=self.video_score)
    if self.refuse_cut_short:  # Likewise: it decides which videos have results.
      identity['refuse_cut_short'] = True
    identity.update(runtime.identity(self.backend, self.precision, self.calibration_videos,
                                     self.calibration_clips))
    return identity


def define_flags():
  """The flags of a run, shared with the Beam pipeline (`classify.beam`); its --help
  lists them."""
  flags.disclaim_key_flags()
  shared.videos()
  flags.DEFINE_string('video_dir', None, 'Folder of the files a list or CSV names; by '
                      'default the list\'s own folder.')
  flags.DEFINE_string('output_dir', None, 'Results folder; a rerun skips what is done.')
  shared.eval_type('auto', catalogue.EVAL_TYPES_WITH_AUTO)
  shared.imagenet_pretrained()
  shared.checkpoint_dir()
  shared.recipe()
  shared.flow_impl()
  flags.DEFINE_integer('window_frames', 64, 'Window length in frames at 25 fps; 0: one '
                       'pass over the whole clip per stream (the release\'s protocol).',
                       lower_bound=0)
  flags.DEFINE_integer('window_stride', 32, 'Frames between window starts.', lower_bound=1)
  flags.DEFINE_integer('temporal_views', 0, 'Multi-view testing: this many clips of '
                       '--window_frames frames, one centred in each of as many equal '
                       'segments (MMAction2\'s test sampling), the video scored by the mean '
                       'of the views\' softmax probabilities; 0: the sliding windows.',
                       lower_bound=0)
  shared.spatial_views('With --temporal_views, crops of 224 per clip from frames of '
                       'shorter side 256: 1 the centre, 3 along the longer side '
                       '(ThreeCrop), 10 the corners, the centre and their mirrors '
                       '(TenCrop).')
  flags.DEFINE_integer('batch_size', 8, 'Windows (or views) per forward pass.',
                       lower_bound=1)
  flags.DEFINE_integer('top_k', 5, 'Classes kept per video.', lower_bound=5)
  shared.precision(with_int8=True)
  shared.backend()
  flags.DEFINE_bool('plots', True, 'A PNG of the top classes over time per video.')
  flags.DEFINE_integer('workers', None, 'Preprocessing processes; default: every core.',
                       lower_bound=1)
  shared.retry_failed()
  shared.refuse_cut_short()
  shared.model_dir()
  flags.DEFINE_string('labels', None, 'Class names (a classInd.txt or one name per line): '
                      '--videos is then a labelled set as python -m i3d.train reads it (a '
                      'UCF-101 list, HMDB-51 split files with lines marked 2, class '
                      'folders, a CSV), and accuracy is reported; for a multi-label CSV '
                      '(Charades\' or path,labels; Charades_v1_classes.txt), mAP.')
  flags.DEFINE_enum('video_score', 'max', list(VIDEO_SCORES), 'Multi-label sets: a '
                    'video\'s logits are the max (Charades\' convention, as PySlowFast '
                    'ensembles Charades views) or the mean of its windows\'.')
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
      window_stride=f.window_stride, temporal_views=f.temporal_views,
      spatial_views=int(f.spatial_views), batch_size=f.batch_size, top_k=f.top_k,
      precision=f.precision, plots=f.plots, model_dir=f.model_dir, backend=f.backend,
      calibration_videos=runtime.calibration_from_flags(f),
      calibration_clips=f.calibration_clips, refuse_cut_short=f.refuse_cut_short)
  if f.labels and multilabel.is_multilabel(f.videos):
    names = multilabel.read_class_names(f.labels)
    labels = list(settings.make_plan().labels)
    if names != labels:  # The actions' classes are indices into both.
      raise sources.SourceError(
          f'{f.labels}: its {len(names)} classes are not the network\'s {len(labels)} '
          f'in its order (first difference: {_first_difference(names, labels)})')
    videos, _, _ = multilabel.read_multilabel(f.videos, f.video_dir, names,
                                              require_files=False)
    return videos, dataclasses.replace(settings, multilabel=True,
                                       video_score=f.video_score)
  if f.labels:
    videos, _, _ = labelled.read_labelled(
        f.videos, f.video_dir, 'test', labelled.read_class_names(f.labels),
        require_files=False)
    return videos, settings
  return sources.list_videos(f.videos, f.video_dir), settings


def _first_difference(names: List[str], labels: List[str]) -> str:
  for index, (name, label) in enumerate(zip(names, labels)):
    if name != label:
      return f'class {index} is {name!r}, the network\'s {label!r}'
  return f'{min(len(names), len(labels))} classes in common, then one list ends'
