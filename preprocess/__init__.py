"""Real videos to the RGB and TV-L1 flow arrays that the I3D networks take."""

from i3d_catalogue import FPS, MIN_FRAMES
from preprocess.pipeline import (MODALITIES, Options, iter_inputs, preprocess_video,
                                 video_to_arrays)
from preprocess.transforms import RECIPES
from preprocess.video import ShortVideoWarning, VideoError, read_frames

__all__ = [
    'FPS', 'MIN_FRAMES', 'MODALITIES', 'Options', 'RECIPES', 'ShortVideoWarning', 'VideoError', 'iter_inputs',
    'preprocess_video', 'read_frames', 'video_to_arrays',
]
