"""CPU inference by back-end and precision, side by side in one run: TensorFlow float32
and bfloat16, OpenVINO float32, bfloat16 and int8, ONNX Runtime float32.

For 64-frame clips at batch 1 and 4: milliseconds per clip, GFLOP/s from the network's
own FLOP count, and their share of the machine's float32 and int8 peaks measured in the
same run (a large matmul: TensorFlow's in float32, as `bench/flops.py`; OpenVINO's
quantized one in int8). Then what each precision keeps of float32's answers on the
sample videos, whole and in 64-frame windows (top-1 and top-5 agreement, largest logit
difference), and the classification command end to end on the sample videos with each.

  .venv/bin/python bench/backends.py --json bench/results/backends.json
"""

import json
import os
import subprocess
import sys
import tempfile
import time

from absl import app
from absl import flags
import numpy as np

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from bench import flops  # pylint: disable=g-import-not-at-top,wrong-import-position
from bench import record  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d import catalogue  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d import releases  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d import runtime  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d.runtime import networks as network  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d.preprocess import pipeline  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d.runtime import convert  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d.runtime import int8  # pylint: disable=g-import-not-at-top,wrong-import-position
from i3d.runtime import openvino_networks  # pylint: disable=g-import-not-at-top,wrong-import-position

_JSON = flags.DEFINE_string('json', None, 'Write the figures here.')
_REPEATS = flags.DEFINE_integer('repeats', 3, 'Timed calls per configuration (the best).')
_FRAMES = flags.DEFINE_integer('frames', 64, 'Clip length.')
_BATCHES = flags.DEFINE_list('batches', ['1', '4'], 'Batch sizes.')
_CALIBRATION_CLIPS = flags.DEFINE_integer('calibration_clips', int8.DEFAULT_CLIPS,
                                          'int8 calibration clips (the default\'s).')
_END_TO_END = flags.DEFINE_bool('end_to_end', True, 'Also time the classification '
                                'command on the sample videos with each.')


def best_seconds(fn, *args):
  fn(*args)
  times = []
  for _ in range(_REPEATS.value):
    start = time.perf_counter()
    fn(*args)
    times.append(time.perf_counter() - start)
  return min(times)


def int8_matmul_peak(n: int = 2048) -> float:
  """GOP/s of OpenVINO's int8 matmul of two n x n matrices (NNCF-quantized, as the
  network's convolutions are): the best of `repeats` calls after one."""
  import nncf  # pylint: disable=g-import-not-at-top
  import openvino as ov  # pylint: disable=g-import-not-at-top
  from openvino import opset13 as ops  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(0)
  x = ops.parameter([n, n], np.float32, name='x')
  weights = ops.constant(rng.standard_normal((n, n)).astype(np.float32))
  model = ov.Model([ops.matmul(x, weights, False, False)], [x])
  data = rng.standard_normal((n, n)).astype(np.float32)
  quantized = nncf.quantize(model, nncf.Dataset([data]), subset_size=1,
                            preset=nncf.QuantizationPreset.PERFORMANCE)
  compiled = ov.Core().compile_model(quantized, 'CPU', {'INFERENCE_PRECISION_HINT': 'f32'})
  return 2 * n ** 3 / best_seconds(compiled, data) / 1e9


def sample_inputs(frames: int):
  """The sample videos whole and their `frames`-frame windows (stride half of it)."""
  videos = runtime.calibration_videos(None)
  whole = [pipeline.video_to_arrays(v, ['rgb'], pipeline.Options(progress=False))['rgb']
           for v in videos]
  windows = [a[:, s:s + frames] for a in whole
             for s in range(0, max(a.shape[1] - frames, 0) + 1, frames // 2)]
  return [os.path.basename(v) for v in videos], whole, windows


def agreement(run, reference, inputs):
  """Top-1 and top-5 agreement with the reference logits, and the largest difference."""
  logits = np.concatenate([run(x)[0] for x in inputs])
  def top5(v):
    return [set(np.argsort(-row)[:5]) for row in v]

  return {'clips': len(inputs),
          'top1_agreement': float(np.mean(logits.argmax(1) == reference.argmax(1))),
          'top5_agreement': float(np.mean([a == b for a, b in zip(top5(logits),
                                                                  top5(reference))])),
          'max_abs_logit_diff': float(np.abs(logits - reference).max()),
          'logit_scale': float(np.abs(reference).max())}


def onnx_runner(model):
  import onnxruntime  # pylint: disable=g-import-not-at-top
  function = network.compile_forward(model, 3)
  proto = convert.to_onnx(function, function.input_signature)
  session = onnxruntime.InferenceSession(proto.SerializeToString(),
                                         providers=['CPUExecutionProvider'])
  return lambda clips: session.run(['logits', 'features'], {'clips': clips})


def end_to_end(configs):
  """`python -m i3d.classify` on the sample videos per configuration: wall seconds
  (start-up, conversion and a cached int8 model included) and the top-1s."""
  rows = []
  for backend, precision in configs:
    with tempfile.TemporaryDirectory() as out:
      start = time.perf_counter()
      subprocess.run([sys.executable, '-m', 'i3d.classify', '--videos',
                      os.path.join(ROOT, 'data', 'samples', 'videos'), '--eval_type', 'rgb',
                      '--output_dir', out, '--noplots', '--backend', backend,
                      '--precision', precision], cwd=ROOT, check=True, capture_output=True)
      seconds = time.perf_counter() - start
      lines = open(os.path.join(out, 'summary.csv')).read().splitlines()
      column = lines[0].split(',').index('top1')
      rows.append(dict(backend=backend, precision=precision, wall_s=seconds,
                       top1=[line.split(',')[column] for line in lines[1:]]))
    print(rows[-1], flush=True)
  return rows


def main(argv):
  del argv
  f32_peak = flops.matmul_roofline(_REPEATS.value)
  i8_peak = int8_matmul_peak()
  print(f'peaks: float32 matmul {f32_peak:.0f} GFLOP/s, int8 matmul {i8_peak:.0f} GOP/s',
        flush=True)
  plan = catalogue.make_plan('rgb', True, catalogue.paths.checkpoint_dir())
  model = releases.load_stream(plan.streams[0])
  per_clip = flops.conv_flops(model, (1, _FRAMES.value, 224, 224, 3))
  bf16 = openvino_networks.has_bfloat16()
  calibration = int8.Calibration(runtime.calibration_videos(None), _CALIBRATION_CLIPS.value)
  start = time.perf_counter()
  runners = {
      ('tensorflow', 'float32'): network.Networks(plan, 'float32'),
      ('tensorflow', 'bfloat16'): network.Networks(plan, 'bfloat16'),
      ('openvino', 'float32'): openvino_networks.OpenVinoNetworks(plan, 'float32'),
      ('openvino', 'int8'): openvino_networks.OpenVinoNetworks(plan, 'int8',
                                                               calibration=calibration),
  }
  print(f'loaded (int8 calibrated on {calibration.describe()}) in '
        f'{time.perf_counter() - start:.0f} s', flush=True)
  if bf16:
    runners['openvino', 'bfloat16'] = openvino_networks.OpenVinoNetworks(plan, 'bfloat16')
  def rgb_only(networks):
    return lambda x: networks('rgb', x)

  runs = {key: rgb_only(n) for key, n in runners.items()}
  runs['onnxruntime', 'float32'] = onnx_runner(model)

  speed = []
  for batch in map(int, _BATCHES.value):
    clips = np.random.default_rng(0).uniform(
        -1, 1, (batch, _FRAMES.value, 224, 224, 3)).astype(np.float32)
    for (backend, precision), run in runs.items():
      seconds = best_seconds(run, clips) / batch
      gflops = per_clip / seconds / 1e9
      speed.append(dict(backend=backend, precision=precision, batch=batch,
                        ms_per_clip=1e3 * seconds, gflop_per_s=gflops,
                        float32_peak_pct=100 * gflops / f32_peak,
                        int8_peak_pct=100 * gflops / i8_peak))
      print(speed[-1], flush=True)

  names, whole, windows = sample_inputs(_FRAMES.value)
  reference = {kind: np.concatenate([runs['tensorflow', 'float32'](x)[0] for x in inputs])
               for kind, inputs in (('videos', whole), ('windows', windows))}
  kept = {}
  for key, run in runs.items():
    if key != ('tensorflow', 'float32'):
      kept['/'.join(key)] = {kind: agreement(run, reference[kind], inputs) for kind, inputs
                             in (('videos', whole), ('windows', windows))}
      print(key, kept['/'.join(key)], flush=True)
  figures = dict(frames=_FRAMES.value, gflop_per_clip=per_clip / 1e9,
                 float32_matmul_peak_gflop_per_s=f32_peak, int8_matmul_peak_gop_per_s=i8_peak,
                 openvino_bfloat16=bf16, calibration=calibration.describe(),
                 int8_settings=int8.SETTINGS, sample_videos=names, speed=speed,
                 agreement_with_tensorflow_float32=kept)
  if _END_TO_END.value:
    configs = [('tensorflow', 'float32'), ('tensorflow', 'bfloat16'),
               ('openvino', 'float32'), ('openvino', 'int8')] + (
                   [('openvino', 'bfloat16')] if bf16 else [])
    figures['classify_sample_videos'] = end_to_end(configs)
  print(json.dumps({k: v for k, v in figures.items() if k not in ('speed',)}, indent=1))
  if _JSON.value:
    record.write(_JSON.value, figures)


if __name__ == '__main__':
  app.run(main)
