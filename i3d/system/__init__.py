"""What is neither model nor preprocessing: pinned PyPI downloads, atomic file and folder
writes, an ordered process pool and the stores results are written to.

Imports neither TensorFlow nor OpenCV: every package and worker process can use it.
"""
