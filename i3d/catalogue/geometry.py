"""The input geometry of the released networks, stated once."""

# The release's frame rate: Kinetics clips were sampled at 25 frames per second.
FPS = 25
# The highest rate a video may be resampled to: a high-speed camera's 240 fps. Beyond a
# video's own rate resampling only repeats frames, and an unbounded rate makes a video
# of seconds into millions of frames.
MAX_FPS = 240
# The frame rate that keeps a video's own frames, every one.
NATIVE = 'native'


def check_fps(fps, name: str = 'fps') -> None:
  """Raises ValueError, naming `name`, unless `fps` is NATIVE or a rate in
  (0, MAX_FPS]."""
  if fps == NATIVE:
    return
  if not (isinstance(fps, (int, float)) and 0 < fps <= MAX_FPS):
    raise ValueError(f'{name} must be frames per second in (0, {MAX_FPS}] or {NATIVE!r}, '
                     f'got {fps!r}')
# Frames are centre-cropped (at test time) to IMAGE_SIZE x IMAGE_SIZE pixels.
IMAGE_SIZE = 224
# The fewest frames the network accepts: its temporal stride is 8 and its logits pool is
# 2 frames deep, so 9 RGB frames, or 9 flow frames (10 video frames).
MIN_FRAMES = 9
# The longest clip a command takes at once (a training clip, a live window): 41 s at
# 25 fps. Training's activations and gradients take about 35 MB a frame at batch 1, so
# this is already 35 GB; beyond it a flag is a typo, not a request for memory.
MAX_FRAMES = 1024
# Channels of Mixed_5c, the last feature map: the size of the pooled features.
FEATURE_SIZE = 1024
# Input channels of each modality; the modalities are its keys.
CHANNELS = {'rgb': 3, 'flow': 2}
MODALITIES = tuple(CHANNELS)
