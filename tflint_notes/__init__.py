"""tflint-notes: catches TensorFlow 2 / Keras pitfalls and fixes them."""

__version__ = "0.1.0"
