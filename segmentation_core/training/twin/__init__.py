"""The PyTorch twin of the interactive network, for training on a GPU machine without Paddle.

The only package of the project that imports `torch`; nothing in the product imports it
(`tests/test_architecture.py`). Its weights go to the product through
`segmentation_core.training.twin_weights` (numpy + safetensors) and `python main.py import-twin`.
See docs/gpu_training.md.
"""
