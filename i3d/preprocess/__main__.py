"""Preprocesses a video into the arrays the I3D networks take.

  python -m preprocess --video PATH --out_prefix PREFIX [--modalities rgb,flow]

writes PREFIX_rgb.npy (float32 [1, T, 224, 224, 3]) and PREFIX_flow.npy (float32
[1, T - 1, 224, 224, 2]), both in [-1, 1], and GIF previews PREFIX_rgb.gif and
PREFIX_flow.gif. On bad input it prints one line naming the file and exits with 1
(4 on an error of the machine: no space, a read-only folder; 130 on Ctrl-C), leaving no
output behind.
"""

from absl import app
from absl import flags

from i3d import flags as shared
from i3d.preprocess import pipeline
from i3d.system import faults

_VIDEO = flags.DEFINE_string('video', None, 'The video file to preprocess.')
_OUT_PREFIX = flags.DEFINE_string(
    'out_prefix', None, 'Output path prefix: writes PREFIX_rgb.npy, PREFIX_flow.npy and '
    'their .gif previews.')
_MODALITIES = flags.DEFINE_list('modalities', 'rgb,flow',
                                'Which arrays to write: rgb, flow or both.')
_RECIPE = shared.recipe()
_CROP = flags.DEFINE_enum('crop', 'center', pipeline.CROPS,
                          '224x224 crop: center (test time) or random (training).')
_SEED = flags.DEFINE_integer('seed', 0, 'Seed of the random crop.')
_START = flags.DEFINE_float('start_sec', 0.0, 'Clip start in seconds.', lower_bound=0)
_END = flags.DEFINE_float('end_sec', None, 'Clip end in seconds; default: the end.')
_WORKERS = flags.DEFINE_integer(
    'workers', None, 'Workers computing TV-L1 flow (default: every core); the output '
    'is the same whatever the number.', lower_bound=1)
_FLOW_IMPL = shared.flow_impl()
_GIF = flags.DEFINE_bool('gif', True, 'Also write the GIF previews.')


def main(argv):
  del argv

  def job():
    options = pipeline.Options(recipe=_RECIPE.value, crop=_CROP.value, seed=_SEED.value,
                               start=_START.value, end=_END.value,
                               workers=_WORKERS.value, flow_impl=_FLOW_IMPL.value)
    return pipeline.preprocess_video(_VIDEO.value, _OUT_PREFIX.value, _MODALITIES.value,
                                     options, gifs=_GIF.value)

  written = faults.run_command('preprocess', job)
  for modality, path in written.items():
    print(f'{path} {modality}')


def run() -> None:
  flags.mark_flags_as_required(['video', 'out_prefix'])
  app.run(main)


if __name__ == '__main__':
  run()
