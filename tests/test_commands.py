"""The suite's command runner (`tests/commands.py`) against `subprocess`: a forked command
must end, print and see its world as the same command in a fresh interpreter does."""

import os
import signal
import subprocess
import sys
import time

import pytest

from tests import commands
from tests.conftest import ROOT

PROGRAMS = {
    'exit status': 'import sys; print("out"); print("err", file=sys.stderr); sys.exit(3)',
    'exit message': 'import sys; sys.exit("a message")',
    'exception': 'raise ValueError("bad")',
    'killed': 'import os, signal; os.kill(os.getpid(), signal.SIGKILL)',
    'ctrl-c': 'raise KeyboardInterrupt',
    'world': ('import os, sys, tempfile; print(os.getcwd(), sys.argv[1:], '
              'os.environ.get("WHO"), tempfile.gettempdir(), oct(os.umask(0)), '
              'sys.stdin.read() == "", "tensorflow" in sys.modules)'),
    'exit order': ('import atexit, threading, time\n'
                   'atexit.register(lambda: print("atexit"))\n'
                   'threading.Thread(target=lambda: (time.sleep(0.2), print("thread"))).start()\n'
                   'print("main")'),
    'newlines': 'import sys; sys.stdout.write("a\\r\\nb\\rc")',
}


@pytest.mark.parametrize('name', sorted(PROGRAMS))
def test_a_forked_command_ends_and_prints_as_a_fresh_one(name, tmp_path):
  args = ['-c', PROGRAMS[name], 'x', 'y']
  (tmp_path / 'temporary').mkdir()
  env = dict(os.environ, WHO='me', TMPDIR=str(tmp_path / 'temporary'))
  fresh = subprocess.run([sys.executable, *args], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=60, umask=0o027, stdin=subprocess.DEVNULL)
  forked = commands.run(args, cwd=tmp_path, env=env, timeout=60, umask=0o027)
  # A fresh interpreter imports TensorFlow only when asked; the server had.
  assert forked.stdout.replace('True\n', 'False\n') == fresh.stdout
  assert (forked.returncode, forked.stderr) == (fresh.returncode, fresh.stderr)


def test_a_command_past_its_timeout_is_killed(tmp_path):
  with pytest.raises(subprocess.TimeoutExpired):
    commands.run(['-c', 'import time; time.sleep(60)'], timeout=1)


@pytest.mark.parametrize('new_session', [False, True])
def test_a_started_command_is_killed_with_its_group_as_popens_is(new_session):
  """`Command` as `subprocess.Popen`: running until killed; with `new_session`, a session
  and group of its own, which killpg ends with the child it started."""
  program = ('import os, subprocess, sys, time\n'
             'child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],\n'
             '                         stdout=subprocess.DEVNULL)\n'
             'print(os.getsid(0) == os.getpid(), child.pid, flush=True)\n'
             'time.sleep(60)\n')
  started = [commands.Command(['-c', program], new_session=new_session),
             subprocess.Popen([sys.executable, '-c', program], stdout=subprocess.PIPE,
                              text=True, start_new_session=new_session)]
  for process in started:
    time.sleep(0.5)
    assert process.poll() is None
    (os.killpg if new_session else os.kill)(process.pid, signal.SIGKILL)
    out, _ = process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL
    leader, child = out.split()
    assert leader == str(new_session)
    deadline = time.monotonic() + 5
    while running(int(child)) and new_session and time.monotonic() < deadline:
      time.sleep(0.05)
    assert running(int(child)) != new_session
    if running(int(child)):
      os.kill(int(child), signal.SIGKILL)


def running(pid):
  """Whether `pid` is a process that has not ended (nor ended unreaped)."""
  try:
    with open(f'/proc/{pid}/stat') as f:
      return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
  except FileNotFoundError:
    return False


def test_the_shim_runs_a_script_as_python_does(tmp_path):
  """multi_evaluate.sh's $PYTHON: the shell sees the exit status and the signal."""
  script = ('"$PYTHON" -c "import sys; print(sys.argv[1:]); sys.exit(5)" a b; echo $?; '
            '"$PYTHON" -c "import os; os.kill(os.getpid(), 15)"; echo $?')
  env = commands.python_shim_env(dict(os.environ))
  shimmed = subprocess.run(['bash', '-c', script], cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=60)
  fresh = subprocess.run(['bash', '-c', script], cwd=ROOT, capture_output=True, text=True,
                         env=dict(os.environ, PYTHON=sys.executable), timeout=60)
  assert shimmed.stdout == fresh.stdout == "['a', 'b']\n5\n143\n"
  assert signal.SIGTERM == 15


def test_a_server_ends_with_the_test_process_that_started_it():
  """A killed pytest worker cannot close its servers: they must not live on."""
  code = ('import os, time\n'
          'from tests import commands\n'
          'print(commands.server_for(dict(os.environ)), flush=True)\n'
          'time.sleep(600)\n')
  starter = subprocess.Popen([sys.executable, '-c', code], cwd=ROOT, stdout=subprocess.PIPE,
                             text=True)
  address = starter.stdout.readline().strip()
  with open(f'/proc/{starter.pid}/task/{starter.pid}/children') as f:
    [server] = [int(pid) for pid in f.read().split()]
  starter.kill()
  starter.wait()
  deadline = time.monotonic() + 30
  while time.monotonic() < deadline and alive(server):
    time.sleep(0.1)
  assert not alive(server)
  assert not os.path.exists(os.path.dirname(address))


def alive(pid):
  try:
    with open(f'/proc/{pid}/stat') as f:
      return f.read().rsplit(')', 1)[1].split()[0] not in ('Z', 'X')
  except FileNotFoundError:
    return False
