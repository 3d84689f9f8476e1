"""Kinetics I3D on TensorFlow 2 and Sonnet 2."""

import setuptools

setuptools.setup(
    name='kinetics-i3d-tf2',
    version='0.1.0',
    description=('I3D of "Quo Vadis, Action Recognition?" (Carreira & Zisserman, '
                 'CVPR 2017) on TensorFlow 2 and Sonnet 2, with its checkpoints, '
                 'preprocessing and evaluation.'),
    # One namespace, `i3d`, and the release's card's `preprocess` beside it: nothing
    # that a user's own train.py or classify.py would shadow.
    packages=setuptools.find_packages(include=['i3d', 'i3d.*', 'preprocess']),
    package_data={'i3d.catalogue': ['label_maps/*.txt']},
    entry_points={'console_scripts': [
        'i3d-evaluate-sample = i3d.evaluate_sample:run',
        'i3d-classify = i3d.classify.__main__:run',
        'i3d-classify-beam = i3d.classify.beam:run_command',
        'i3d-features = i3d.features.__main__:run',
        'i3d-live = i3d.live.__main__:run',
        'i3d-train = i3d.train.__main__:run',
        'i3d-camera-motion = i3d.train.camera_motion:run',
        'i3d-fvd = i3d.fvd.__main__:run',
        'i3d-export = i3d.export:run',
        'i3d-convert = i3d.convert:run',
        'i3d-provision = i3d.provision:run',
        'i3d-preprocess = i3d.preprocess.__main__:run',
    ]},
    python_requires='>=3.9',
    # Ranges for users; constraints.txt pins the exact versions the suite passed on
    # (scripts/setup.sh installs those). Upper bounds where results depend on one line
    # of releases: TensorFlow's kernels (the printed logits, the loader's checks),
    # OpenCV's TV-L1 arithmetic and Numba's code generation (the fast TV-L1 is
    # bit-identical to OpenCV's, tested against the OpenCV installed).
    install_requires=[
        'tensorflow>=2.13,<2.22',
        'dm-sonnet>=2.0.2',
        'numpy',
        'absl-py',
        'opencv-contrib-python-headless<5.2',
        'numba<0.69',  # i3d.preprocess.tvl1_fast.
        'tqdm',
        'pillow',
        'matplotlib',
        'tensorboard',  # python -m i3d.train's summaries.
        'safetensors',  # python -m i3d.convert's .safetensors files (NumPy, no PyTorch).
    ],
    extras_require={
        # pytest-xdist: the suite's files spread over the cores (scripts/test.sh); Ruff:
        # the linter it runs first (ruff.toml).
        'test': ['pytest', 'pytest-xdist', 'scipy', 'ruff'],
        # classify.beam: the per-video work on Apache Beam runners.
        'beam': ['apache-beam>=2.50'],
        # classify.beam on a dask.distributed cluster (Beam's Dask runner).
        'dask': ['apache-beam[dask]>=2.50'],
        # i3d.runtime: the OpenVINO back-end and int8 (NNCF); OpenVINO IR exports.
        'openvino': ['openvino>=2026.4,<2027', 'nncf>=3.4,<3.5'],
        # python -m i3d.export --format onnx (tf2onnx), checked with ONNX Runtime.
        'onnx': ['tf2onnx>=1.17', 'onnx>=1.17', 'onnxruntime>=1.20'],
    },
    license='Apache-2.0',
)
