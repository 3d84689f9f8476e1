"""One place for the commands to choose a back-end's precision and load its networks."""

from typing import Sequence

from i3d import precision as precision_lib
from i3d.catalogue import Plan
from i3d.runtime import networks as network
from i3d.runtime import int8


def choose_precision(backend: str, requested: str) -> precision_lib.Choice:
  """`--precision` resolved for the back-end (see `precision.choose` and
  `openvino_networks.choose`: neither picks int8 for `auto`)."""
  if backend == 'openvino':
    from i3d.runtime import openvino_networks  # pylint: disable=g-import-not-at-top
    return precision_lib.Choice(*openvino_networks.choose(requested))
  return precision_lib.choose(requested)


def load_networks(plan: Plan, backend: str = 'tensorflow', precision: str = 'float32',
                  per_time: bool = False, calibration_videos: Sequence[str] = (),
                  calibration_clips: int = int8.DEFAULT_CLIPS, recipe: str = 'kinetics',
                  flow_impl: str = 'fast'):
  """The plan's networks on the back-end (`runtime.networks.Networks`' interface)."""
  if backend == 'tensorflow':
    return network.Networks(plan, precision, per_time)
  from i3d.runtime import openvino_networks  # pylint: disable=g-import-not-at-top
  calibration = None
  if precision == 'int8':
    calibration = int8.Calibration(tuple(calibration_videos), calibration_clips,
                                   recipe=recipe, flow_impl=flow_impl)
  return openvino_networks.OpenVinoNetworks(plan, precision, per_time, calibration)


def load_for(plan: Plan, settings, per_time: bool = False):
  """`load_networks` with a command's settings (classification's or features'): their
  `backend`, `precision`, `calibration_videos`, `calibration_clips`, `recipe` and
  `flow_impl`."""
  return load_networks(plan, settings.backend, settings.precision, per_time,
                       settings.calibration_videos, settings.calibration_clips,
                       settings.recipe, settings.flow_impl)
