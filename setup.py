"""Kinetics I3D on TensorFlow 2 and Sonnet 2."""

import setuptools

setuptools.setup(
    name='kinetics-i3d-tf2',
    version='0.1.0',
    description=('I3D of "Quo Vadis, Action Recognition?" (Carreira & Zisserman, '
                 'CVPR 2017) on TensorFlow 2 and Sonnet 2, with its checkpoints, '
                 'preprocessing and evaluation.'),
    # The flat layout of the release: import i3d, python -m preprocess, python -m
    # classify; below them the TensorFlow-free catalogue (with the class lists) and
    # assets that every one of them uses.
    packages=['i3d', 'i3d.fvd', 'i3d_catalogue', 'i3d_assets', 'preprocess', 'classify',
              'train'],
    package_data={'i3d_catalogue': ['label_maps/*.txt']},
    python_requires='>=3.9',
    install_requires=[
        'tensorflow>=2.13',
        'dm-sonnet>=2.0.2',
        'numpy',
        'absl-py',
        'opencv-contrib-python-headless',
        'numba',  # preprocess.tvl1_fast.
        'tqdm',
        'pillow',
        'matplotlib',
        'tensorboard',  # python -m train's summaries.
    ],
    extras_require={
        'test': ['pytest', 'scipy'],
        # classify.beam: the per-video work on Apache Beam runners.
        'beam': ['apache-beam>=2.50'],
    },
    license='Apache-2.0',
)
