r"""The release's evaluation script, kept at the root of a clone: see i3d/evaluate_sample.py.

  python evaluate_sample.py --eval_type rgb

is `python -m i3d.evaluate_sample --eval_type rgb`, which also works where the package
is installed.
"""

from i3d import evaluate_sample

if __name__ == '__main__':
  evaluate_sample.run()
