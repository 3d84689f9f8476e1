"""Shared paths and fixtures for the tests."""

import os
import signal

# As `i3d.quiet_tf` sets it for users: no C++ log lines, errors included (CUDA's
# cuInit on a machine without a GPU).
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

import pytest  # pylint: disable=g-import-not-at-top

TESTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TESTS)
LAYOUTS = os.path.join(TESTS, 'fixtures', 'layouts')
# The original release's reference data, beside the checkout when it is there.
SHARED_REFERENCE = os.path.join(os.path.dirname(ROOT), 'shared', 'reference')

# The release's five checkpoints: (layout name, input channels, classes).
RELEASES = {
    'rgb_imagenet': ('rgb', 3, 400),
    'rgb_scratch': ('rgb', 3, 400),
    'flow_imagenet': ('flow', 2, 400),
    'flow_scratch': ('flow', 2, 400),
    'rgb_scratch_kin600': ('kinetics600', 3, 600),
}


def as_in_a_terminal():
  """`preexec_fn` of a command the tests stop with SIGINT: Ctrl-C's default action,
  as in a terminal, where the tests themselves run with SIGINT ignored (a shell's
  background job), which the command would otherwise inherit."""
  signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture
def rng():
  import numpy as np  # pylint: disable=g-import-not-at-top
  return np.random.default_rng(0)


# The slowest files, run first, so that the last ones handed out are short and neither
# of two xdist workers waits long for the other. `--dist loadfile` hands out files in
# collection order only with `--no-loadscope-reorder` (scripts/test.sh passes it):
# otherwise pytest-xdist sorts them by their number of tests, and a file of a few long
# tests (test_train.py) came last.
# The order: each file's total on an AMD EPYC (2026-12-06), longest first, down to 10 s.
SLOWEST_FIRST = (
    'test_train.py', 'test_faults_commands.py', 'test_faults.py', 'test_classify.py',
    'test_export.py', 'test_backends.py', 'test_fvd.py', 'test_beam_runners.py',
    'test_packaging.py', 'test_train_flow.py', 'test_evaluate_sample.py',
    'test_fvd_protocols.py', 'test_views.py', 'test_model.py', 'test_pytorch.py',
    'test_features.py', 'test_stream.py', 'test_export_runtimes.py', 'test_precision.py',
    'test_two_hosts.py', 'test_multilabel_train.py', 'test_checkpoint.py',
    'test_preprocess.py', 'i3d_test.py', 'test_tvl1_fast.py', 'test_commands.py',
    'test_precise_bn.py')


def pytest_collection_modifyitems(items):
  def rank(item):
    name = os.path.basename(str(item.path))
    return SLOWEST_FIRST.index(name) if name in SLOWEST_FIRST else len(SLOWEST_FIRST)
  items.sort(key=rank)  # Stable: each file's tests keep their order.
