"""PyTorch's checkpoint files without PyTorch: a restricted reader of both of its
formats, a writer of the zip format that `torch.load(weights_only=True)` reads, and
pytorch-i3d's names. NumPy only; no TensorFlow."""
