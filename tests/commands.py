"""The project's commands run as a user runs them, each in a process of its own, without
paying for TensorFlow's import every time.

`python -m i3d.classify ...` spends about 5 s of a 2-core machine importing TensorFlow
(and the Keras and scikit-learn it pulls in) before it reads a flag; over the suite's
two hundred command runs that was a third of its time. `run` forks each command from a
server that has imported TensorFlow and Sonnet once and run nothing, as multiprocessing's
forkserver does. The command still gets a process of its own: its argv, environment,
working folder, umask, stdin, stdout and stderr (the caller's own file descriptors,
passed over a Unix socket), exit status or killing signal, its atexit handlers and its
threads joined at exit. What it shares with the server is only those imported, unused
modules. `Command` starts one and returns at once, as `subprocess.Popen` does, for a
test that kills it (in a session of its own, with its workers, if asked) or runs several
side by side. `python_shim_env` gives a shell script (`multi_evaluate.sh`) a `$PYTHON` that
does the same.

What a forked command cannot show is what a fresh interpreter does before `i3d` runs:
TensorFlow's start-up lines held back (`i3d.quiet_tf`), and the variables read while
importing it. A server is kept for each set of those variables (`IMPORT_TIME`), so a
command is never run under a TensorFlow imported with other settings; the quiet start-up
itself is tested by real processes (`tests/test_provision.py`, the installed commands of
`tests/test_packaging.py`, and every test that starts a command with `subprocess`).
"""

import atexit
import json
import os
import runpy
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import traceback

# Not from tests.conftest, which sets TF_CPP_MIN_LOG_LEVEL: the server imports this module.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# An executable that runs `python ARGS...` through the server named by SERVER_VARIABLE.
PYTHON_SHIM = os.path.join(ROOT, 'tests', 'python_shim.py')
SERVER_VARIABLE = 'I3D_TEST_COMMAND_SERVER'

# Environment variables read while TensorFlow is imported (or cached then): a command
# under other values gets a server imported under those.
IMPORT_TIME = ('TF_CPP_MIN_LOG_LEVEL', 'TF_CPP_MAX_VLOG_LEVEL', 'TF_CPP_VMODULE',
               'TF_ENABLE_ONEDNN_OPTS', 'I3D_VERBOSE', 'CUDA_VISIBLE_DEVICES')
IMPORT_TIME_PREFIXES = ('ONEDNN_', 'DNNL_', 'OMP_', 'KMP_', 'MKL_', 'OPENBLAS_', 'TF_XLA',
                        'XLA_', 'TF_NUM_', 'PYTHON')

# What the server imports before it forks: everything slow to import, nothing that runs.
PRELOAD = ('i3d.quiet_tf', 'sonnet')

# A request is one datagram: JSON and the three file descriptors.
MAX_REQUEST = 1 << 20


def user_env(**extra):
  """The environment a user runs the commands in: this one, with TensorFlow's log level
  and `I3D_VERBOSE` left as they come (the tests set the first), plus `extra`."""
  env = {k: v for k, v in os.environ.items() if k not in ('TF_CPP_MIN_LOG_LEVEL',
                                                         'I3D_VERBOSE')}
  return dict(env, **extra)


def import_time_settings(env):
  """`env`'s import-time variables. `i3d.quiet_tf` sets an unset TF_CPP_MIN_LOG_LEVEL
  to 3 before it imports TensorFlow (unless I3D_VERBOSE), so unset is 3 here: the
  user's environment and the tests' share a server."""
  if not env.get('I3D_VERBOSE'):
    env = {'TF_CPP_MIN_LOG_LEVEL': '3', **env}
  return tuple(sorted((k, v) for k, v in env.items()
                      if k in IMPORT_TIME or k.startswith(IMPORT_TIME_PREFIXES)))


def send_request(address, request, fds):
  """Starts `request`'s command on the server at `address` with `fds` as its stdin, stdout
  and stderr; returns the connection and the command's process id."""
  connection = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
  connection.connect(address)
  socket.send_fds(connection, [json.dumps(request).encode()], fds)
  return connection, json.loads(connection.recv(MAX_REQUEST))['pid']


def wait_reply(connection):
  """The command's exit status: negative for the signal that killed it."""
  reply = connection.recv(MAX_REQUEST)
  connection.close()
  if not reply:
    raise RuntimeError('the command server died')
  return json.loads(reply)['returncode']


class _Server:
  """One forking server, started with the environment whose import-time settings it has."""

  def __init__(self, env):
    self.folder = tempfile.mkdtemp(prefix='command-server-')
    self.address = os.path.join(self.folder, 'socket')
    self.process = subprocess.Popen(
        [sys.executable, '-m', 'tests.commands', self.address], cwd=ROOT, env=env,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    ready = self.process.stdout.readline()
    if ready != 'ready\n':
      raise RuntimeError(f'the command server did not start (said {ready!r})')

  def close(self):
    self.process.terminate()
    self.process.wait(timeout=60)
    os.remove(self.address)
    os.rmdir(self.folder)


_servers = {}
_lock = threading.Lock()


@atexit.register
def _close_servers():
  for server in _servers.values():
    server.close()


def server_for(env):
  """The address of the server whose TensorFlow was imported under `env`'s settings."""
  key = import_time_settings(env)
  with _lock:
    if key not in _servers:
      _servers[key] = _Server(env)
    return _servers[key].address


def python_shim_env(env):
  """`env` with `PYTHON` set to an executable that runs as `python` does, through a server."""
  return dict(env, PYTHON=PYTHON_SHIM, **{SERVER_VARIABLE: server_for(env)})


class Command:
  """A command forked from the server as `subprocess.Popen([sys.executable, *args], cwd=cwd,
  env=env, stdin=DEVNULL, stdout=PIPE, stderr=PIPE, text=True,
  start_new_session=new_session)` starts one, with what the tests use of it: `pid`,
  `poll`, `wait`, `communicate` and `returncode`. Its output goes to files, read once it
  has ended."""

  def __init__(self, args, cwd=ROOT, env=None, umask=None, new_session=False):
    args = [str(a) for a in args]
    if args and args[0] == sys.executable:
      args = args[1:]
    self.args = [sys.executable, *args]
    self.returncode = None
    env = dict(os.environ if env is None else env)
    request = dict(args=args, cwd=str(cwd), env=env, umask=umask, new_session=new_session)
    self._outputs = [tempfile.TemporaryFile(), tempfile.TemporaryFile()]
    with open(os.devnull, 'rb') as stdin:
      self._connection, self.pid = send_request(
          server_for(env), request, [stdin.fileno(), *(f.fileno() for f in self._outputs)])

  def poll(self):
    if self.returncode is None and select.select([self._connection], [], [], 0)[0]:
      self.returncode = wait_reply(self._connection)
    return self.returncode

  def wait(self, timeout=None):
    if self.returncode is None:
      self._connection.settimeout(timeout)
      try:
        self.returncode = wait_reply(self._connection)
      except socket.timeout:
        raise subprocess.TimeoutExpired(self.args, timeout) from None
    return self.returncode

  def communicate(self, timeout=None):
    """Its stdout and stderr, once it has ended."""
    self.wait(timeout)
    texts = [_text(f) for f in self._outputs]
    for f in self._outputs:
      f.close()
    return tuple(texts)


def run(args, cwd=ROOT, env=None, timeout=600, umask=None):
  """`subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True,
  text=True, timeout=timeout, umask=umask)` for `args` of `-m module ...`, `-c code ...`
  or `script.py ...` (a leading `sys.executable` is taken as the `python` it is)."""
  command = Command(args, cwd, env, umask)
  try:
    command.wait(timeout)
  except subprocess.TimeoutExpired:
    os.kill(command.pid, signal.SIGKILL)
    out, err = command.communicate()
    raise subprocess.TimeoutExpired(command.args, timeout, out, err) from None
  out, err = command.communicate()
  return subprocess.CompletedProcess(command.args, command.returncode, out, err)


def _text(captured):
  """What `text=True` makes of a captured stream: decoded, universal newlines."""
  captured.seek(0)
  return captured.read().decode().replace('\r\n', '\n').replace('\r', '\n')


# The server's side.


def _exit_code(exit_request):
  """The status `sys.exit(code)` gives a process, printing what it prints."""
  code = exit_request.code
  if code is None:
    return 0
  if isinstance(code, int):
    return code & 0xff
  print(code, file=sys.stderr)
  return 1


def _run_as_main(args):
  """Runs `python *args`'s program in this process; returns its exit status."""
  if args[0] == '-m':
    sys.argv = [args[1], *args[2:]]  # runpy puts the module's file first, as -m does.
    sys.path[0] = os.getcwd()
    runpy.run_module(args[1], run_name='__main__', alter_sys=True)
  elif args[0] == '-c':
    sys.argv = ['-c', *args[2:]]
    sys.path[0] = ''
    main = sys.modules['__main__'] = type(sys)('__main__')
    exec(compile(args[1], '<string>', 'exec'), vars(main))  # pylint: disable=exec-used
  else:
    sys.argv = list(args)
    sys.path[0] = os.path.dirname(os.path.abspath(args[0]))
    runpy.run_path(args[0], run_name='__main__')
  return 0


def _print_uncaught(error):
  """The traceback Python prints, from the program's first frame (not this runner's)."""
  frames = error.__traceback__
  while frames and frames.tb_frame.f_code.co_filename in (__file__, runpy.__file__):
    frames = frames.tb_next
  traceback.print_exception(type(error), error, frames)


def _child(request, fds, added_by_preload):
  """The forked command: never returns."""
  code = 1
  try:
    if request.get('new_session'):
      os.setsid()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    for target, fd in enumerate(fds):
      os.dup2(fd, target)
      os.close(fd)
    os.chdir(request['cwd'])
    if request['umask'] is not None:
      os.umask(request['umask'])
    os.environ.clear()
    os.environ.update(request['env'])
    os.environ.pop(SERVER_VARIABLE, None)
    for name, value in added_by_preload.items():  # As the preloaded modules set them.
      os.environ.setdefault(name, value)
    tempfile.tempdir = None  # Found again from this environment's TMPDIR.
    import numpy as np  # pylint: disable=g-import-not-at-top
    np.random.seed()  # Not the server's state: a fresh process's.
    try:
      code = _run_as_main(request['args'])
    except SystemExit as e:
      code = _exit_code(e)
    except KeyboardInterrupt as e:
      _print_uncaught(e)
      code = -signal.SIGINT
    except BaseException as e:  # pylint: disable=broad-except
      _print_uncaught(e)
      code = 1
    threading._shutdown()  # pylint: disable=protected-access  (Python's own exit order.)
    atexit._run_exitfuncs()  # pylint: disable=protected-access
  finally:
    for stream in (sys.stdout, sys.stderr):
      try:
        stream.flush()
      except Exception:  # pylint: disable=broad-except
        pass
    if code == -signal.SIGINT:  # As Python ends on an uncaught Ctrl-C.
      signal.signal(signal.SIGINT, signal.SIG_DFL)
      os.kill(os.getpid(), signal.SIGINT)
    os._exit(code)


def serve(address):
  """Forks a command for each request on `address`'s socket, until SIGTERM or until the
  test process that started it is gone (killed, it could not say so)."""
  parent = os.getppid()
  before = dict(os.environ)
  for module in PRELOAD:
    __import__(module)
  added = {k: v for k, v in os.environ.items() if before.get(k) != v}
  listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
  listener.bind(address)
  listener.listen(64)
  print('ready', flush=True)
  waiting = {}  # pid: the connection to tell its exit status.
  while os.getppid() == parent:
    readable, _, _ = select.select([listener], [], [], 0.01)
    if readable:
      connection, _ = listener.accept()
      message, fds, _, _ = socket.recv_fds(connection, MAX_REQUEST, 3)
      sys.stdout.flush()
      sys.stderr.flush()
      pid = os.fork()
      if pid == 0:
        listener.close()
        connection.close()
        for other in waiting.values():
          other.close()
        _child(json.loads(message), fds, added)
      for fd in fds:
        os.close(fd)
      connection.sendall(json.dumps(dict(pid=pid)).encode())
      waiting[pid] = connection
    while waiting:
      pid, status = os.waitpid(-1, os.WNOHANG)
      if not pid:
        break
      connection = waiting.pop(pid)
      try:
        connection.sendall(json.dumps(dict(returncode=os.waitstatus_to_exitcode(status)))
                           .encode())
      except OSError:  # The caller is gone.
        pass
      connection.close()
  for leftover in (os.remove, os.rmdir):  # The socket and its folder, as close() would.
    try:
      leftover(address if leftover is os.remove else os.path.dirname(address))
    except OSError:
      pass


if __name__ == '__main__':
  serve(sys.argv[1])
