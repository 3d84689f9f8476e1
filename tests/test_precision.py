"""Precision where it pays: bfloat16 units detected, `auto` resolved, a warning where
bfloat16 is slow; checked for CPUs with and without the units on any CPU (by patching
what the processor reports) and, end to end, under the settings that make this machine
behave as a CPU without them."""

import json
import os
import re

import numpy as np
import pytest

from i3d import classify
from i3d.classify import launch
from i3d import precision
from i3d import provision
from i3d.system import machine
from i3d.preprocess import sample
from tests import commands

AVX2_ONLY = frozenset({'AVX2', 'FMA'})
AVX512_BF16 = frozenset({'AVX2', 'FMA', 'AVX512F', 'AVX512_BF16'})


@pytest.fixture
def cpu(monkeypatch):
  """Sets what the processor reports, with oneDNN at its defaults and no GPU."""
  for variable in ('ONEDNN_MAX_CPU_ISA', 'TF_ENABLE_ONEDNN_OPTS'):
    monkeypatch.delenv(variable, raising=False)
  monkeypatch.setattr(precision, '_gpu_with_bfloat16', lambda: None)

  def set_flags(flags):
    monkeypatch.setattr(machine, 'cpu_flags', lambda: flags)
  return set_flags


def test_a_cpu_without_bfloat16_units(cpu):
  cpu(AVX2_ONLY)
  assert machine.bfloat16_units() == []
  assert precision.choose('float32') == precision.Choice('float32')
  auto = precision.choose('auto')
  assert auto.precision == 'float32'
  assert auto.message == ('precision auto: float32 (no bfloat16 units: this CPU has no '
                          'AVX512_BF16 or AMX_BF16)')
  asked = precision.choose('bfloat16')
  assert asked.precision == 'bfloat16'
  assert re.match(r'warning: no bfloat16 units \(this CPU has no AVX512_BF16 or '
                  r'AMX_BF16\), so bfloat16 is slower than float32 here', asked.message)


def test_a_cpu_with_bfloat16_units(cpu, monkeypatch):
  cpu(AVX512_BF16)
  assert machine.bfloat16_units() == ['AVX512_BF16']
  assert precision.choose('auto') == precision.Choice(
      'bfloat16', 'precision auto: bfloat16 (this CPU has AVX512_BF16)')
  assert precision.choose('bfloat16') == precision.Choice('bfloat16')
  # oneDNN kept below its bfloat16 kernels, or turned off: the units are out of reach.
  monkeypatch.setenv('ONEDNN_MAX_CPU_ISA', 'avx512_core_vnni')
  assert precision.choose('auto').message == (
      'precision auto: float32 (no bfloat16 units: ONEDNN_MAX_CPU_ISA=AVX512_CORE_VNNI '
      "keeps oneDNN from this CPU's AVX512_BF16)")
  assert 'slower than float32' in precision.choose('bfloat16').message
  monkeypatch.setenv('ONEDNN_MAX_CPU_ISA', 'AVX2')
  with pytest.raises(precision.PrecisionError, match='bfloat16 cannot run with '
                     'ONEDNN_MAX_CPU_ISA=AVX2 on this CPU'):
    precision.choose('bfloat16')
  assert precision.choose('auto').precision == 'float32'
  monkeypatch.delenv('ONEDNN_MAX_CPU_ISA')
  monkeypatch.setenv('TF_ENABLE_ONEDNN_OPTS', '0')
  assert precision.choose('auto').precision == 'float32'


def test_gpus_by_compute_capability(cpu, monkeypatch):
  cpu(AVX2_ONLY)
  monkeypatch.setattr(precision, '_gpu_with_bfloat16',
                      lambda: 'NVIDIA H100, compute capability 9.0')
  assert precision.choose('auto') == precision.Choice(
      'bfloat16', 'precision auto: bfloat16 (GPU NVIDIA H100, compute capability 9.0)')
  monkeypatch.setattr(precision, '_gpu_with_bfloat16', lambda: '')
  assert precision.choose('auto').precision == 'float32'


def test_cpu_description_for_benchmarks():
  described = machine.describe()
  assert described['cores'] == os.cpu_count()
  assert set(described['isa']) <= set(machine.ISA_FLAGS.values())
  with open('/proc/cpuinfo') as f:
    flags = next(line for line in f if line.startswith('flags')).split()
  assert ('AVX2' in described['isa']) == ('avx2' in flags)
  assert ('AVX512_BF16' in described['isa']) == ('avx512_bf16' in flags)


def evaluate(env, *args):
  """evaluate_sample.py as a user runs it (TensorFlow's log level left as it comes)."""
  return commands.run(['evaluate_sample.py', '--eval_type', 'rgb', *args],
                      env=commands.user_env(**env))


@pytest.fixture(scope='module')
def short_sample(tmp_path_factory):
  """The real sample's first 9 frames, the fewest the network takes: bfloat16 without
  units is slow. Its top-1 is still 'feeding birds', 5 logits ahead in bfloat16 through
  Eigen (6.7 in float32)."""
  provision.provision()
  path = tmp_path_factory.mktemp('short') / 'rgb9.npy'
  np.save(path, np.load(f'{sample.provision()}_rgb.npy', mmap_mode='r')[:, :9])
  return str(path)


def test_auto_runs_float32_where_onednn_is_kept_to_avx2(short_sample, tmp_path):
  """ONEDNN_MAX_CPU_ISA=AVX2: oneDNN as on an AVX2-only CPU (float32 kernels)."""
  env = {'ONEDNN_MAX_CPU_ISA': 'AVX2'}
  auto = evaluate(env, '--precision', 'auto', '--rgb_sample', short_sample,
                  '--save_logits', str(tmp_path / 'auto.npy'))
  assert auto.returncode == 0, auto.stderr
  assert re.fullmatch(r'evaluate_sample.py: precision auto: float32 \(no bfloat16 units: '
                      r'.*\)\n', auto.stderr), auto.stderr
  full = evaluate(env, '--rgb_sample', short_sample, '--save_logits',
                  str(tmp_path / 'float32.npy'))
  assert full.returncode == 0 and full.stderr == ''
  np.testing.assert_array_equal(np.load(tmp_path / 'auto.npy'),
                                np.load(tmp_path / 'float32.npy'))
  bfloat16 = evaluate(env, '--precision', 'bfloat16', '--rgb_sample', short_sample)
  if 'AVX512F' in machine.cpu_flags():  # oneDNN is asked for bfloat16 and refuses.
    assert bfloat16.returncode == 1
    assert bfloat16.stderr.startswith('evaluate_sample.py: bfloat16 cannot run with '
                                      'ONEDNN_MAX_CPU_ISA=AVX2')
    assert len(bfloat16.stderr.splitlines()) == 1
  else:  # An AVX2-only CPU: it runs, slowly, with the warning.
    assert bfloat16.returncode == 0 and 'warning: no bfloat16 units' in bfloat16.stderr


def test_bfloat16_without_units_warns_and_runs(short_sample, tmp_path):
  """TF_ENABLE_ONEDNN_OPTS=0: bfloat16 through Eigen, as CPUs without AVX512F run it."""
  result = evaluate({'TF_ENABLE_ONEDNN_OPTS': '0'}, '--precision', 'bfloat16',
                    '--rgb_sample', short_sample, '--top_k', '1')
  assert result.returncode == 0, result.stderr
  [line] = result.stderr.splitlines()
  assert re.match(r'evaluate_sample.py: warning: no bfloat16 units \(.*\), so bfloat16 is '
                  r'slower than float32 here; running bfloat16 as asked$', line), line
  assert result.stdout.splitlines()[-1].endswith(' feeding birds')


def test_classify_records_what_auto_chose(tmp_path, capsys):
  provision.provision()
  videos = classify.list_videos(os.path.join(sample.sample_videos(), '*.mp4'))
  with launch.launched(videos, str(tmp_path), classify.Settings(
      eval_type='rgb', precision='auto')) as run:
    chosen = precision.choose('auto')
    assert run.settings.precision == chosen.precision
  assert json.loads((tmp_path / 'run.json').read_text())['precision'] == chosen.precision
  assert f'classify: {chosen.message}' in capsys.readouterr().err
