"""The command-line flags that several commands share, each declared here once.

A command calls the functions of the flags it takes, at import (absl allows one
definition of a flag per process), and reads the holders they return. Choices and
defaults come from `i3d.catalogue`, the one place that says what exists. TensorFlow-free:
`python -m preprocess` uses it too.
"""

from typing import Sequence

from absl import flags

from i3d import catalogue
from i3d.catalogue import paths

FlagHolder = flags.FlagHolder

# The flags belong to the command that asks for them: its --help lists them.
flags.disclaim_key_flags()


def checkpoint_dir() -> FlagHolder:
  """`--checkpoint_dir`, resolved when the command starts (its default names the
  folder it found)."""
  return flags.DEFINE_string(
      'checkpoint_dir', paths.checkpoint_dir(),
      'Folder of the release checkpoints, one subfolder each: <name>/model.ckpt.* '
      '(default: $I3D_CHECKPOINT_DIR, else data/checkpoints in a clone).')


# What each evaluation type runs, for --eval_type's help.
_EVAL_TYPE_HELP = {
    'auto': 'joint when the flow checkpoint is there, else rgb (and says so)',
    'rgb': 'the RGB stream',
    'flow': 'the flow stream',
    'joint': 'the RGB and flow logits summed with equal weight',
    'rgb600': 'the RGB stream trained on Kinetics-600 from scratch (rgb_scratch_kin600, '
              '600 classes)',
}


def eval_type(default: str, choices: Sequence[str] = catalogue.EVAL_TYPES) -> FlagHolder:
  """`--eval_type`: the networks a command runs. Commands differ in what they offer
  (`auto` where they can fall back to RGB, RGB only for live video) and their default
  (`joint`, the release's, for its evaluation script); the help says only what it offers."""
  return flags.DEFINE_enum(
      'eval_type', default, list(choices),
      '; '.join(f'{choice}: {_EVAL_TYPE_HELP[choice]}' for choice in choices) + '.')


def imagenet_pretrained() -> FlagHolder:
  return flags.DEFINE_bool(
      'imagenet_pretrained', True,
      'The checkpoints inflated from ImageNet (rgb_imagenet, flow_imagenet); '
      '--noimagenet_pretrained: those trained from scratch (rgb_scratch, flow_scratch). '
      'rgb600 has only rgb_scratch_kin600 and ignores it.')


def precision(with_auto: bool = True, with_int8: bool = False) -> FlagHolder:
  """`--precision`; `auto` (bfloat16 only where there are bfloat16 units) for the
  commands that run a fixed network, not for training or the reference-exact FVD;
  `int8` for those with a `--backend` (OpenVINO's)."""
  choices = catalogue.PRECISION_CHOICES if with_auto else catalogue.PRECISIONS
  return flags.DEFINE_enum(
      'precision', 'float32', list(choices) + ['int8'] * with_int8,
      'Precision of the networks: bfloat16 is faster only with bfloat16 units '
      '(AVX512_BF16, AMX, GPUs of compute capability 8.0 and up), several times slower '
      'elsewhere (with a warning)' +
      ('; auto picks bfloat16 where those units are, else float32, and says which'
       if with_auto else '') +
      ('; int8 (--backend openvino) quantizes the convolutions, calibrated on '
       '--calibration' if with_int8 else '') + '.')


def backend() -> FlagHolder:
  """`--backend`, with int8's `--calibration` and `--calibration_clips`."""
  flags.DEFINE_string(
      'calibration', None, '--precision int8: the videos to calibrate on (a folder, a glob, '
      'a list or a CSV, as --videos); default: the sample videos. The quantized network '
      'is kept in the cache folder, so a machine calibrates once.')
  flags.DEFINE_integer('calibration_clips', catalogue.CALIBRATION_CLIPS,
                       f'--precision int8: clips of {catalogue.CALIBRATION_CLIP_FRAMES} '
                       'frames to calibrate on, spread evenly over the videos.',
                       lower_bound=1)
  return flags.DEFINE_enum(
      'backend', catalogue.BACKENDS[0], list(catalogue.BACKENDS),
      'Runs the networks on TensorFlow, or on OpenVINO (pip install \'.[openvino]\'), '
      'compiled once per run: the same outputs to 1e-4 in float32, faster on CPUs.')


def model_dir() -> FlagHolder:
  return flags.DEFINE_string(
      'model_dir', None, 'A model trained by python -m i3d.train (its folder): run it, '
      'with its own classes, instead of the release\'s checkpoints.')


def recipe() -> FlagHolder:
  return flags.DEFINE_enum(
      'recipe', catalogue.RECIPES[0], list(catalogue.RECIPES),
      'Preprocessing: kinetics, the release README (shorter side to 256, bilinear); '
      'mediapipe, Google\'s MediaPipe Kinetics graph (height 256, even width, '
      'area/cubic, 8-bit flow).')


def flow_impl() -> FlagHolder:
  return flags.DEFINE_enum(
      'flow_impl', catalogue.DEFAULT_FLOW_IMPL, list(catalogue.FLOW_IMPLS),
      'TV-L1 implementation: fast (compiled and fused, on threads) or opencv (OpenCV '
      "contrib's, on processes); the same flow, bit for bit, on every video measured.")


def videos() -> FlagHolder:
  return flags.DEFINE_string(
      'videos', None, 'A folder, a glob, a .txt list (one path a line) or a .csv '
      '(Kinetics\' label,youtube_id,time_start,time_end,split with files '
      '<youtube_id>_<start:06d>_<end:06d>.mp4, or path[,label]).')


def retry_failed() -> FlagHolder:
  return flags.DEFINE_bool('retry_failed', False,
                           'Retry videos that failed in an earlier run.')


def refuse_cut_short() -> FlagHolder:
  return flags.DEFINE_bool(
      'refuse_cut_short', False, 'Refuse a video that decodes fewer frames than its '
      'container declares (cut short or damaged): by default it is used as far as it '
      'decodes, named in one line and counted; with this flag it fails.')


def spatial_views(help_text: str) -> FlagHolder:
  """Crops per clip (`i3d.classify.views`); what they are views of is the command's."""
  choices = [str(views) for views in catalogue.SPATIAL_VIEWS]
  return flags.DEFINE_enum('spatial_views', choices[0], choices, help_text)


def shard() -> FlagHolder:
  return flags.DEFINE_string(
      'shard', None, 'INDEX/COUNT: do only this shard of the videos (a fixed share by id), '
      'beside the other shards\' runs in the same folder (array jobs); env: SLURM\'s array '
      'index and count; env/COUNT: SLURM\'s or PBS\'s index.')
