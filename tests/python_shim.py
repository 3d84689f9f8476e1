#!/usr/bin/env python3
"""`python ARGS...` for a shell script under test: the command runs forked from the test
command server named by $I3D_TEST_COMMAND_SERVER (`tests/commands.py`), with this
process's stdin, stdout, stderr, folder, umask and environment; this process ends as it
does. Standard library only, so that it starts at once under any Python 3.9+."""

import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import commands  # noqa: E402  pylint: disable=g-import-not-at-top  (tests/commands.py)


def main():
  umask = os.umask(0)
  os.umask(umask)
  request = dict(args=sys.argv[1:], cwd=os.getcwd(), env=dict(os.environ), umask=umask)
  connection, pid = commands.send_request(os.environ[commands.SERVER_VARIABLE], request,
                                          [0, 1, 2])
  for forwarded in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(forwarded, lambda number, _: os.kill(pid, number))
  returncode = commands.wait_reply(connection)
  if returncode < 0:  # Killed: end the same way.
    signal.signal(-returncode, signal.SIG_DFL)
    os.kill(os.getpid(), -returncode)
  sys.exit(returncode)


if __name__ == '__main__':
  main()
