"""`camera_motion.plan` says what `generate` wrote: each clip's path, split, class and
picture, checked against the written lists and the decoded videos."""

import cv2
import numpy as np

from i3d import provision
from i3d.train import camera_motion


def test_plan_names_the_picture_each_written_clip_films(tmp_path):
  provision.provision()
  classes = ('PanLeft', 'TiltUp')
  camera_motion.generate(str(tmp_path), 3, 2, 8, (112, 84), seed=4, classes=classes)
  clips = camera_motion.plan(3, 2, (112, 84), seed=4, classes=classes)

  for split in ('train', 'test'):
    planned = [c.relative + (f' {c.label}' if split == 'train' else '')
               for c in clips if c.split == split]
    assert (tmp_path / f'{split}list01.txt').read_text().splitlines() == planned
  assert {c.source for c in clips if c.split == 'train'} <= set(camera_motion.TRAIN_VIDEOS)
  assert {c.source for c in clips if c.split == 'test'} <= set(camera_motion.TEST_VIDEOS)

  pictures = {id(c.picture): c.picture for c in clips}
  for clip in clips:
    _, first = cv2.VideoCapture(str(tmp_path / clip.relative)).read()
    first = cv2.cvtColor(first, cv2.COLOR_BGR2RGB).astype(float)
    # The planned view of the planned picture is within MJPEG's loss (4.3 grey levels
    # measured), every other picture seen from it at least twice as far (11.3 nearest).
    distance = {key: np.abs(first - clip.view.frame(picture, 1., 0., np.zeros(2))).mean()
                for key, picture in pictures.items()}
    planned = distance.pop(id(clip.picture))
    assert planned < 6 and min(distance.values()) > 2 * planned, clip.relative
