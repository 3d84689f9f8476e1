"""Fine-tuning and training I3D streams: the paper's recipe on `tf.distribute`.

`python -m i3d.train` runs it; `train.run.train(recipe, train_videos, eval_videos, folder)`
is the same in Python; `python -m i3d.train.camera_motion` writes a labelled set of camera
motions over real pictures to try it on.
"""
