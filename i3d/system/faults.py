"""Whose fault an error is, and how every command reports it: one line, one exit status.

An error of the input (a bad video, sample, flag or list) is the user's to mend: exit 1.
A missing checkpoint: exit 3. An error of the machine (no space left, a read-only or
vanished filesystem, out of memory, a worker process killed) is nobody's input: exit 4,
and nothing is written off because of it, so the same command goes on once it is mended.
Ctrl-C: exit 130, as shells report SIGINT.
"""

import concurrent.futures.process
import contextlib
import errno
import os
import re
import signal
import sys
import threading
from typing import Callable, TypeVar
import warnings

from i3d.catalogue import MissingCheckpointError
from i3d.system.lock import FolderBusyError

EXIT_BAD_INPUT = 1
EXIT_MISSING_CHECKPOINT = 3
EXIT_MACHINE = 4
EXIT_INTERRUPTED = 130

# OSError numbers that say something of the machine, not of a path the user gave.
MACHINE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO,
                            errno.ENOMEM, errno.EACCES, errno.EPERM})

# The words the C++ of TensorFlow's file and memory errors carries (it has no errno):
# strerror of those numbers, and its own out-of-memory message.
_MACHINE_WORDS = tuple(os.strerror(n) for n in sorted(MACHINE_ERRNOS)) + (
    'OOM when allocating',)

T = TypeVar('T')


class MachineError(RuntimeError):
  """An error of the machine, not of the input; the message names the path."""


def _is_tensorflow_error(error: BaseException) -> bool:
  return type(error).__module__.startswith('tensorflow')


def is_machine_error(error: BaseException) -> bool:
  if isinstance(error, (MachineError, MemoryError,
                        concurrent.futures.process.BrokenProcessPool)):
    return True
  if _is_tensorflow_error(error):  # A file TensorFlow writes or memory it allocates.
    return any(words in str(error) for words in _MACHINE_WORDS)
  return isinstance(error, OSError) and error.errno in MACHINE_ERRNOS


def describe(error: BaseException) -> str:
  """One line: the path and what went wrong."""
  if isinstance(error, concurrent.futures.process.BrokenProcessPool):
    return 'a worker process died (killed, or out of memory)'
  if isinstance(error, MemoryError):
    return 'out of memory'
  if isinstance(error, OSError) and error.strerror:
    where = error.filename if error.filename is not None else 'a file'
    return f'{where}: {error.strerror}'
  if _is_tensorflow_error(error):  # Its first line is what went wrong, and where.
    text = getattr(error, 'message', None) or str(error)
    text = re.sub(r'\{\{[^}]*\}\}\s*', '', text)  # `{{function_node ...}}`: its graph.
    lines = text.strip().splitlines()
    return lines[0] if lines else type(error).__name__
  return str(error) or type(error).__name__


def as_machine_error(error: BaseException) -> MachineError:
  """`error`, from a step where only the machine can fail, as a `MachineError`."""
  return MachineError(describe(error))


class _CtrlC:
  """Notes a Ctrl-C (SIGINT) while a command runs, which still raises KeyboardInterrupt.

  The KeyboardInterrupt does not always come out as itself: raised inside an import or
  a library's clean-up it can surface as another error (a SystemError from `__import__`,
  an IndexError from TensorFlow's name scopes), and workers that Ctrl-C ended break the
  pool. The note tells those apart from faults.
  """

  def __init__(self):
    self.pressed = False

  def _on_sigint(self, signum, frame):
    self.pressed = True
    signal.default_int_handler(signum, frame)

  @contextlib.contextmanager
  def noted(self):
    if (threading.current_thread() is not threading.main_thread() or
        signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
      yield  # Not this thread's to answer, or answered otherwise already.
      return
    signal.signal(signal.SIGINT, self._on_sigint)
    try:
      yield
    finally:
      signal.signal(signal.SIGINT, signal.default_int_handler)


def run_command(program: str, job: Callable[[], T]) -> T:
  """`job()`'s value; on an error, one line on stderr starting `program: ` and the exit
  status of its kind (see the module's docstring). Warnings, one line each:
  `program: warning: ...`."""
  def one_line(message, *unused_args, **unused_kwargs):
    print(f'{program}: warning: {message}', file=sys.stderr)

  previous, warnings.showwarning = warnings.showwarning, one_line
  ctrl_c = _CtrlC()
  try:
    with ctrl_c.noted():
      return job()
  except KeyboardInterrupt:
    status, message = EXIT_INTERRUPTED, 'interrupted'
  except MissingCheckpointError as e:
    status, message = EXIT_MISSING_CHECKPOINT, str(e)
  except Exception as e:  # pylint: disable=broad-except
    if ctrl_c.pressed:  # What failed after Ctrl-C failed because of it (an import cut
      status, message = EXIT_INTERRUPTED, 'interrupted'  # short, workers gone).
    elif not (is_machine_error(e) or isinstance(e, (OSError, ValueError, FolderBusyError))):
      raise  # A fault of the program: its traceback is what mends it.
    else:
      machine = is_machine_error(e)
      status = EXIT_MACHINE if machine else EXIT_BAD_INPUT
      message = describe(e)
      if machine:
        message += (' (an error of the machine; nothing was written off: run again once '
                    'mended)')
  finally:
    warnings.showwarning = previous
  print(f'{program}: {message}', file=sys.stderr)
  sys.exit(status)
