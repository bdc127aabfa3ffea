"""A tf.data pipeline and a custom layer that hand symbolic tensors to NumPy."""
import numpy as np
import tensorflow as tf


def to_patches(image):
    image = tf.image.convert_image_dtype(image, tf.float32)
    return np.reshape(image, (4, -1))


dataset = tf.data.Dataset.from_tensor_slices(tf.zeros((8, 4, 4))).map(to_patches).batch(2)


class Softplus(tf.keras.layers.Layer):
    def call(self, inputs):
        return np.log(1.0 + np.exp(inputs))
