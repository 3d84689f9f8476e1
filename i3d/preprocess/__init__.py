"""Real videos to the RGB and TV-L1 flow arrays that the I3D networks take."""

from i3d.catalogue import FPS, MIN_FRAMES
from i3d.preprocess.pipeline import (MODALITIES, NATIVE, Options, iter_inputs,
                                     preprocess_video, video_to_arrays)
from i3d.preprocess.transforms import RECIPES
from i3d.preprocess.video import ShortVideoWarning, VideoError, read_frames

__all__ = [
    'FPS', 'MIN_FRAMES', 'MODALITIES', 'NATIVE', 'Options', 'RECIPES', 'ShortVideoWarning',
    'VideoError', 'iter_inputs',
    'preprocess_video', 'read_frames', 'video_to_arrays',
]
