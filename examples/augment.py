"""Image augmentation from the original notes: works eagerly, breaks under @tf.function."""
import numpy as np
import tensorflow as tf


@tf.function
def augment_data(image_batch):
    image_batch = np.append(image_batch, tf.image.flip_left_right(image_batch), axis=0)
    return image_batch


def normalise(batch):
    # eager code: NumPy is fine here
    return np.clip(batch, 0.0, 1.0)
