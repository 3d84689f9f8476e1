"""The card's top-level name for `i3d.preprocess`: `import preprocess` and
`python -m preprocess` as the release's README states them.

The same objects as `i3d.preprocess` (nothing is copied); nothing in `i3d` imports this
name, so a `preprocess.py` of your own, which shadows it when Python runs in its folder,
can break only `python -m preprocess` there: `python -m i3d.preprocess` and
`i3d-preprocess` are the same command and are never shadowed.
"""

from i3d.preprocess import *  # noqa: F401,F403  pylint: disable=wildcard-import
from i3d.preprocess import __all__  # noqa: F401
