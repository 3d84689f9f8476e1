r"""Fine-tunes or trains an I3D stream on a labelled video set (see `train.recipe`).

  python -m i3d.train --train_list D/trainlist01.txt --eval_list D/testlist01.txt \
      --video_dir D --labels D/classInd.txt --init rgb_imagenet --output_dir O

Prints a line per --log_every steps and `eval top-1: <value>` last (`eval mAP: <value>`
for a multi-label set: a Charades CSV or a `path,labels` CSV, see
`videosets.multilabel`, trained with `train.multilabel`'s sigmoid losses); writes
`O/model/` (the release's checkpoint layout), `O/label_map.txt` and `O/train.json`. The
same command continues a run that was stopped. Exit status: 1 on bad input (a list, a
video, settings that differ from the run in O, a loss that is not finite), 3 without
the --init checkpoint, 4 on an error of the machine, 130 on Ctrl-C.
"""

import os
import sys

from absl import app
from absl import flags
from absl import logging

from i3d import flags as shared
from i3d.catalogue import MIN_FRAMES, MODALITIES, RELEASES
from i3d.preprocess import video as video_lib
from i3d.system import faults
from i3d.train import recipe as recipe_lib
from i3d.catalogue.geometry import MAX_FRAMES
from i3d.videosets import labelled
from i3d.videosets import multilabel

PROGRAM = 'python -m i3d.train'

_TRAIN_LIST = flags.DEFINE_string(
    'train_list', None, 'Training videos: a UCF-101 trainlist, HMDB-51 split files (a '
    'glob of *_test_splitN.txt; lines marked 1), a folder of class folders, or a CSV.')
_EVAL_LIST = flags.DEFINE_string('eval_list', None, 'Held-out videos, in the same forms '
                                 '(HMDB-51: lines marked 2).')
_VIDEO_DIR = flags.DEFINE_string('video_dir', None, 'Where the lists\' paths live '
                                 '(default: each list\'s folder).')
_LABELS = flags.DEFINE_string('labels', None, 'Class names in logit order: a classInd.txt '
                              'or one name per line (default: the sorted names found).')
_SKIP_MISSING = flags.DEFINE_bool('skip_missing', False, 'Skip missing or unreadable '
                                  'videos (and say how many) instead of stopping.')
_OUTPUT_DIR = flags.DEFINE_string('output_dir', None, 'The run\'s folder.')
_INIT = flags.DEFINE_string('init', 'rgb_imagenet', 'A release (rgb_imagenet, rgb_scratch, '
                            '...), a checkpoint path, or scratch.')
_CHECKPOINT_DIR = shared.checkpoint_dir()
_MODALITY = flags.DEFINE_enum('modality', None, list(MODALITIES),
                              'The stream to train (default: --init\'s, rgb for '
                              'scratch or a checkpoint path). flow: TV-L1 computed once '
                              'per video into --flow_cache_dir first.')
_FLOW_CACHE_DIR = flags.DEFINE_string('flow_cache_dir', None, 'Where the flow stream\'s '
                                      'per-video flow is kept (default: '
                                      'OUTPUT_DIR/flow_cache); runs may share one.')
_FLOW_IMPL = shared.flow_impl()
_PRECISION = shared.precision(with_auto=False)  # bfloat16: mixed, on float32 variables.
_TRAIN_LAYERS = flags.DEFINE_enum('train_layers', 'all', list(recipe_lib.TRAIN_LAYERS),
                                  'all (full fine-tuning) or logits (the last layer).')
_NUM_FRAMES = flags.DEFINE_integer('num_frames', 64, 'Frames per training clip, 25 fps '
                                   f'(at most {MAX_FRAMES}, {MAX_FRAMES // 25} s).',
                                   lower_bound=MIN_FRAMES, upper_bound=MAX_FRAMES)
_BATCH_SIZE = flags.DEFINE_integer('batch_size', 8, 'Global batch, split over replicas.',
                                   lower_bound=1)
_STEPS = flags.DEFINE_integer('steps', 1000, 'Training steps.', lower_bound=1)
_LEARNING_RATE = flags.DEFINE_float('learning_rate', None, 'Default: 0.1 from scratch, '
                                    '0.01 fine-tuning; more than 0.')
_LR_BOUNDARIES = flags.DEFINE_list('lr_boundaries', [], 'Steps at which the learning rate '
                                   'is divided by 10: positive, increasing.')
_LR_SCHEDULE = flags.DEFINE_enum(
    'lr_schedule', 'step', list(recipe_lib.LR_SCHEDULES), 'step: divided by 10 at '
    '--lr_boundaries (none: a constant rate, the paper\'s recipe); cosine: from the rate '
    'to 0 over --steps (PySlowFast\'s cosine); constant.')
_WARMUP_STEPS = flags.DEFINE_integer(
    'warmup_steps', 0, 'Steps over which the rate rises linearly from a tenth of the '
    'schedule\'s to all of it (MMAction2\'s LinearLR warm-up).', lower_bound=0)
_WEIGHT_DECAY = flags.DEFINE_float('weight_decay', 1e-7, 'L2 on convolution kernels.',
                                   lower_bound=0)
_DROPOUT_KEEP_PROB = flags.DEFINE_float('dropout_keep_prob', 0.5, 'Before the logits.')
_FLIP = flags.DEFINE_bool('flip', True, 'Random left-right flips (--noflip for classes '
                          'a mirror swaps, such as pan left and pan right).')
_FREEZE_BATCH_NORM = flags.DEFINE_bool('freeze_batch_norm', False, 'Keep batch norm in '
                                       'inference mode (for small batches).')
_PRECISE_BN_BATCHES = flags.DEFINE_integer(
    'precise_bn_batches', 0, 'Before each evaluation and the final save, set batch '
    'norm\'s moving statistics to the mean of its statistics over this many training '
    'batches (PySlowFast\'s precise BN); 0: off. Nothing with --freeze_batch_norm.',
    lower_bound=0)
_SEED = flags.DEFINE_integer('seed', 0, 'Seeds the order, clips, crops, flips, dropout.',
                             lower_bound=0)
flags.register_validator('learning_rate', lambda rate: rate is None or rate > 0,
                         'must be more than 0')
flags.register_validator(
    'lr_boundaries', lambda steps: all(s.isdigit() and int(s) > 0 for s in steps) and
    [int(s) for s in steps] == sorted(int(s) for s in steps),
    'must be positive step numbers, increasing (as 300,600)')
_SAVE_EVERY = flags.DEFINE_integer('save_every', 100, 'Steps between checkpoints.',
                                   lower_bound=1)
_LOG_EVERY = flags.DEFINE_integer('log_every', 10, 'Steps between progress lines.',
                                  lower_bound=1)
_EVAL_EVERY = flags.DEFINE_integer('eval_every', 0, 'Steps between evaluations (0: only '
                                   'at the end).', lower_bound=0)
_REFUSE_CUT_SHORT = shared.refuse_cut_short()
_DETERMINISTIC = flags.DEFINE_bool(
    'deterministic', False, 'One thread per operation, so that the run repeats itself '
    'bit for bit (and a resumed run ends with the uninterrupted one\'s weights); slower '
    'by about the number of cores. Without it, runs agree to float rounding: threads '
    'add partial sums in the order they finish.')


def check_video(path: str) -> None:
  """Before step 1: the video opens and decodes; with --refuse_cut_short, every frame
  its container declares decodes (a whole decode of each video, once)."""
  if _REFUSE_CUT_SHORT.value:
    for _ in video_lib.read_frames(path, refuse_cut_short=True):
      pass
  else:
    video_lib.check_decodable(path)


def train_from_flags() -> None:
  # Imported here: flag errors first, then TensorFlow.
  from i3d.train import run as run_lib  # pylint: disable=g-import-not-at-top
  if _DETERMINISTIC.value:
    run_lib.single_threaded_operations()

  is_multilabel = multilabel.is_multilabel(_TRAIN_LIST.value)
  if is_multilabel != multilabel.is_multilabel(_EVAL_LIST.value):
    raise labelled.SourceError(
        f'--eval_list {_EVAL_LIST.value}: {"not " if is_multilabel else ""}a multi-label '
        f'set, unlike --train_list {_TRAIN_LIST.value}')
  if is_multilabel:
    class_names = multilabel.read_class_names(_LABELS.value) if _LABELS.value else None
    train_videos, class_names, skipped = multilabel.read_multilabel(
        _TRAIN_LIST.value, _VIDEO_DIR.value, class_names, _SKIP_MISSING.value,
        check_video)
    eval_videos, _, skipped_eval = multilabel.read_multilabel(
        _EVAL_LIST.value, _VIDEO_DIR.value, class_names, _SKIP_MISSING.value, check_video)
  else:
    class_names = labelled.read_class_names(_LABELS.value) if _LABELS.value else None
    train_videos, class_names, skipped = labelled.read_labelled(
        _TRAIN_LIST.value, _VIDEO_DIR.value, 'train', class_names, _SKIP_MISSING.value,
        check_video)
    eval_videos, _, skipped_eval = labelled.read_labelled(
        _EVAL_LIST.value, _VIDEO_DIR.value, 'test', class_names, _SKIP_MISSING.value,
        check_video)
  if skipped or skipped_eval:
    print(f'{PROGRAM}: skipped {skipped} training and {skipped_eval} held-out videos that '
          'are missing or unreadable (--skip_missing)', file=sys.stderr)
  modality = _MODALITY.value or (RELEASES[_INIT.value].modality
                                 if _INIT.value in RELEASES else 'rgb')
  recipe = recipe_lib.Recipe(
      modality=modality, init=_INIT.value, train_layers=_TRAIN_LAYERS.value,
      classes=tuple(class_names),
      num_frames=_NUM_FRAMES.value, batch_size=_BATCH_SIZE.value, steps=_STEPS.value,
      learning_rate=_LEARNING_RATE.value,
      lr_boundaries=tuple(int(s) for s in _LR_BOUNDARIES.value),
      lr_schedule=_LR_SCHEDULE.value, warmup_steps=_WARMUP_STEPS.value,
      weight_decay=_WEIGHT_DECAY.value, dropout_keep_prob=_DROPOUT_KEEP_PROB.value,
      flip=_FLIP.value, freeze_batch_norm=_FREEZE_BATCH_NORM.value,
      precise_bn_batches=_PRECISE_BN_BATCHES.value, multilabel=is_multilabel,
      precision=_PRECISION.value, flow_impl=_FLOW_IMPL.value, seed=_SEED.value)
  print(f'{len(train_videos)} training and {len(eval_videos)} held-out videos, '
        f'{len(class_names)} classes{" (multi-label)" if is_multilabel else ""}; '
        f'{recipe.steps} steps of {recipe.batch_size} {recipe.modality} clips of '
        f'{recipe.num_frames} frames', flush=True)
  run_lib.train(recipe, train_videos, eval_videos, _OUTPUT_DIR.value,
                run_lib.Schedule(_SAVE_EVERY.value, _LOG_EVERY.value, _EVAL_EVERY.value),
                _CHECKPOINT_DIR.value, write=lambda line: print(line, flush=True),
                flow_cache_dir=_FLOW_CACHE_DIR.value)


def main(argv):
  if len(argv) > 1:
    sys.exit(f'{PROGRAM}: unexpected arguments {argv[1:]}')
  if not os.environ.get('I3D_VERBOSE'):
    logging.set_verbosity(logging.WARNING)  # tf.distribute's INFO lines.
  faults.run_command(PROGRAM, train_from_flags)


def run() -> None:
  flags.mark_flags_as_required(['train_list', 'eval_list', 'output_dir'])
  app.run(main)


if __name__ == '__main__':
  run()
