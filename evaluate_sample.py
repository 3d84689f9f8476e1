r"""The release's evaluation script, kept at the root of a clone: see i3d/evaluate_sample.py.

  python evaluate_sample.py --eval_type rgb

is `python -m i3d.evaluate_sample --eval_type rgb`, which also works where the package
is installed.
"""

from absl import flags

from i3d import evaluate_sample

if __name__ == '__main__':
  flags.adopt_module_key_flags(evaluate_sample)  # Its --help lists them.
  evaluate_sample.run()
