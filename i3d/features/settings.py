"""What a feature extraction computes, its presets, and the flags that say it.
Imports no TensorFlow."""

import dataclasses
from typing import Any, Dict, List, Tuple, Union

from absl import flags

from i3d import catalogue
from i3d import flags as shared
from i3d import runtime
from i3d.catalogue import geometry
from i3d.catalogue import paths
from i3d.catalogue import Plan
from i3d.classify import views
from i3d.preprocess import NATIVE
from i3d.videosets import sources

STREAMS = ('rgb', 'flow', 'two_stream')
# The release's evaluation type that runs each choice of streams.
_EVAL_TYPE = {'rgb': 'rgb', 'flow': 'flow', 'two_stream': 'joint'}

# Setups published exactly, each with the source it follows.
PRESETS: Dict[str, Dict[str, Any]] = {
    # ActionFormer (Zhang et al., ECCV 2022), THUMOS14: "two-stream I3D pretrained on
    # Kinetics, clips of 16 frames at the video frame rate (~30 fps), stride of 4
    # frames"; its config's `feat_stride: 4`, `num_frames: 16`, `input_dim: 2048`.
    'actionformer_thumos': dict(streams='two_stream', snippet_frames=16, snippet_stride=4,
                                fps=NATIVE, spatial_views=1),
}


@dataclasses.dataclass(frozen=True)
class FeatureSettings:
  """How every video's features are computed: a plain value, checked on construction.

  Attributes:
    streams: `rgb`, `flow` or `two_stream` (RGB then flow features, concatenated).
    snippet_frames: Frames per snippet.
    snippet_stride: Frames between snippet starts.
    fps: Frames per second the video is resampled to, or `native`: its own frames.
    spatial_views: Crops per snippet: 1 (the centre), 3 or 10 (see `classify.views`).
    batch_size: Snippets (times crops) per forward pass.
    imagenet_pretrained, checkpoint_dir, recipe, flow_impl, precision, backend,
      calibration_videos, calibration_clips, refuse_cut_short: As in classification
      (`classify.Settings`).
  """
  streams: str = 'rgb'
  snippet_frames: int = 16
  snippet_stride: int = 16
  fps: Union[float, str] = catalogue.FPS
  spatial_views: int = 1
  batch_size: int = 16
  imagenet_pretrained: bool = True
  checkpoint_dir: str = dataclasses.field(default_factory=paths.checkpoint_dir)
  recipe: str = 'kinetics'
  flow_impl: str = catalogue.DEFAULT_FLOW_IMPL
  precision: str = 'float32'
  backend: str = 'tensorflow'
  calibration_videos: Tuple[str, ...] = ()
  calibration_clips: int = catalogue.CALIBRATION_CLIPS
  refuse_cut_short: bool = False

  def __post_init__(self):
    runtime.check(self.backend, self.precision)
    choices = (('streams', STREAMS), ('recipe', catalogue.RECIPES),
               ('precision', catalogue.BACKEND_PRECISION_CHOICES),
               ('flow_impl', catalogue.FLOW_IMPLS), ('spatial_views', views.SPATIAL_VIEWS))
    for name, valid in choices:
      if getattr(self, name) not in valid:
        raise ValueError(f'Unknown {name} {getattr(self, name)!r}; valid: '
                         f'{", ".join(map(str, valid))}')
    if self.snippet_frames < catalogue.MIN_FRAMES:
      raise ValueError(f'snippet_frames must be at least {catalogue.MIN_FRAMES}, got '
                       f'{self.snippet_frames}')
    if self.snippet_stride < 1 or self.batch_size < 1:
      raise ValueError(f'snippet_stride and batch_size must be positive, got '
                       f'{self.snippet_stride} and {self.batch_size}')
    geometry.check_fps(self.fps)

  @property
  def crop(self) -> str:
    """How preprocessing crops: the centre, or not at all where views cut crops."""
    return 'none' if self.spatial_views > 1 else 'center'

  def make_plan(self) -> Plan:
    """The networks of the streams, their checkpoints found on disk.

    Raises:
      MissingCheckpointError: If a needed checkpoint (flow's, say) is absent.
    """
    return catalogue.make_plan(_EVAL_TYPE[self.streams], self.imagenet_pretrained,
                               self.checkpoint_dir)

  def identity(self, plan: Plan) -> Dict[str, Any]:
    """What decides the features' values: two runs into one folder must agree on it."""
    identity = {
        'streams': self.streams, 'checkpoints': plan.checkpoint_names,
        'snippet_frames': self.snippet_frames, 'snippet_stride': self.snippet_stride,
        'fps': self.fps, 'spatial_views': self.spatial_views, 'recipe': self.recipe,
        'precision': self.precision,
    }
    if 'flow' in plan.modalities:
      identity['flow_impl'] = self.flow_impl
    if self.refuse_cut_short:  # Only then: it decides which videos have features.
      identity['refuse_cut_short'] = True
    identity.update(runtime.identity(self.backend, self.precision, self.calibration_videos,
                                     self.calibration_clips))
    return identity


def parse_fps(text: str) -> Union[float, str]:
  """`--fps`: a positive number, or `native`."""
  if text == NATIVE:
    return NATIVE
  try:
    value = float(text)
  except ValueError:
    raise ValueError(f'--fps: expected frames per second or {NATIVE!r}, got {text!r}') from None
  geometry.check_fps(value, '--fps')
  return value


def define_flags():
  flags.disclaim_key_flags()
  shared.videos()
  flags.DEFINE_string('video_dir', None, 'Folder of the files a list or CSV names; by '
                      'default the list\'s own folder.')
  flags.DEFINE_string('output_dir', None, 'Features folder: <video id>.npy per video and '
                      'features.csv; a rerun skips what is done.')
  flags.DEFINE_enum('preset', None, sorted(PRESETS), 'A published setup (sets --streams, '
                    '--snippet_frames, --snippet_stride, --fps, --spatial_views; giving '
                    'one of those too is refused). actionformer_thumos: two-stream, 16 '
                    'frames at the video\'s own rate, stride 4 (ActionFormer\'s THUMOS14).')
  flags.DEFINE_enum('streams', 'rgb', STREAMS, 'rgb or flow: 1024 features per crop; '
                    'two_stream: RGB then flow, 2048.')
  flags.DEFINE_integer('snippet_frames', 16, 'Frames per snippet.',
                       lower_bound=catalogue.MIN_FRAMES)
  flags.DEFINE_integer('snippet_stride', 16, 'Frames between snippet starts.',
                       lower_bound=1)
  flags.DEFINE_string('fps', str(catalogue.FPS), 'Frame rate the video is resampled to, '
                      'or native: the video\'s own frames, every one.')
  shared.spatial_views('Crops per snippet: 1 the centre ([N, D] per video); 3 or 10 as '
                       'in multi-view testing ([N, crops, D]).')
  flags.DEFINE_integer('batch_size', 16, 'Snippets (times crops) per forward pass.',
                       lower_bound=1)
  shared.imagenet_pretrained()
  shared.checkpoint_dir()
  shared.recipe()
  shared.flow_impl()
  shared.precision(with_int8=True)
  shared.backend()
  flags.DEFINE_integer('workers', None, 'Preprocessing processes; default: every core.',
                       lower_bound=1)
  shared.retry_failed()
  shared.refuse_cut_short()
  flags.mark_flags_as_required(['videos', 'output_dir'])


_PRESET_FLAGS = ('streams', 'snippet_frames', 'snippet_stride', 'fps', 'spatial_views')


def videos_and_settings_from_flags() -> Tuple[List[sources.Video], FeatureSettings]:
  """The videos of `--videos` and the settings of the other flags.

  Raises:
    SourceError: If the list of videos cannot be read.
    ValueError: On settings that do not go together.
  """
  f = flags.FLAGS
  chosen = dict(streams=f.streams, snippet_frames=f.snippet_frames,
                snippet_stride=f.snippet_stride, fps=parse_fps(f.fps),
                spatial_views=int(f.spatial_views))
  if f.preset:
    given = [name for name in _PRESET_FLAGS if f[name].present]
    if given:
      raise ValueError(f'--preset {f.preset} sets --{given[0]}; leave it out')
    chosen = PRESETS[f.preset]
  settings = FeatureSettings(
      **chosen, batch_size=f.batch_size, imagenet_pretrained=f.imagenet_pretrained,
      checkpoint_dir=f.checkpoint_dir, recipe=f.recipe, flow_impl=f.flow_impl,
      precision=f.precision, backend=f.backend,
      calibration_videos=runtime.calibration_from_flags(f),
      calibration_clips=f.calibration_clips, refuse_cut_short=f.refuse_cut_short)
  return sources.list_videos(f.videos, f.video_dir), settings
