"""`python -m preprocess`: the command of `i3d.preprocess` (see there)."""

from absl import flags

from i3d.preprocess import __main__ as command

if __name__ == '__main__':
  __doc__ = command.__doc__  # What --help shows: the command's own usage.
  flags.adopt_module_key_flags(command)  # Its --help lists them.
  command.run()
