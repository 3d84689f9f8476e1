"""The input geometry of the released networks, stated once."""

# The release's frame rate: Kinetics clips were sampled at 25 frames per second.
FPS = 25
# Frames are centre-cropped (at test time) to IMAGE_SIZE x IMAGE_SIZE pixels.
IMAGE_SIZE = 224
# The fewest frames the network accepts: its temporal stride is 8 and its logits pool is
# 2 frames deep, so 9 RGB frames, or 9 flow frames (10 video frames).
MIN_FRAMES = 9
# Channels of Mixed_5c, the last feature map: the size of the pooled features.
FEATURE_SIZE = 1024
# Input channels of each modality; the modalities are its keys.
CHANNELS = {'rgb': 3, 'flow': 2}
MODALITIES = tuple(CHANNELS)
