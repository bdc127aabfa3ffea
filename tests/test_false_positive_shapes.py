"""Shapes that real code showed the default rules reporting without harm (issue 26's audit), each beside a
near twin that still reports.  No TensorFlow: what each shape does at run time is shown by the fixtures named."""

from __future__ import annotations

import textwrap

import pytest

from tflint_notes.engine import Linter
from tflint_notes.rule import all_rules

LINTER = Linter(all_rules())


def codes(src: str) -> list[str]:
    return sorted(d.code for d in LINTER.lint(textwrap.dedent(src)).diagnostics)


@pytest.mark.parametrize("silent, reported, code", [
    # TFN101: a tf.function parameter the docstring types as a Python int is traced as a Python value
    ('''
     import numpy as np
     import tensorflow as tf
     @tf.function
     def rdft(signal, length):
         """Args:
             length (int): DFT length
         """
         return tf.matmul(signal, np.arange(length))
     ''', '''
     import numpy as np
     import tensorflow as tf
     @tf.function
     def rdft(signal, length):
         """Args:
             length: DFT length
         """
         return tf.matmul(signal, np.arange(length))
     ''', "TFN101"),
    # TFN103: a print that says it is about tracing is a trace-time log on purpose
    ('''
     import tensorflow as tf
     @tf.function
     def shrink(images):
         print("Tracing", images)
         return images[:, ::2]
     ''', '''
     import tensorflow as tf
     @tf.function
     def shrink(images):
         print("images", images)
         return images[:, ::2]
     ''', "TFN103"),
    # TFN201: a weight created once behind a flag of the layer's own, on legacy Keras
    ('''
     import tf_keras
     class LinearC(tf_keras.layers.Layer):
         def call(self, inputs):
             if not self._custom_built:
                 self.w = self.add_weight(shape=(2, 2))
                 self._custom_built = True
             return inputs @ self.w
     ''', '''
     import tf_keras
     class LinearC(tf_keras.layers.Layer):
         def call(self, inputs):
             self.w = self.add_weight(shape=(2, 2))
             return inputs @ self.w
     ''', "TFN201"),
    # TFN202: tf_keras's variable-scope shim reuses a TF1-style layer's variables by name
    ('''
     import tf_keras
     from tf_keras.legacy_tf_layers import core, variable_scope_shim
     class Wrapped(tf_keras.layers.Layer):
         @variable_scope_shim.track_tf1_style_variables
         def call(self, inputs):
             return core.Dense(2, name="dense")(inputs)
     ''', '''
     import tf_keras
     class Wrapped(tf_keras.layers.Layer):
         def call(self, inputs):
             return tf_keras.layers.Dense(2, name="dense")(inputs)
     ''', "TFN202"),
    # TFN303: a positional 0.8 in TF 2 code is the rate meant; in code ported from TF1 it was keep_prob
    ('''
     import tensorflow as tf
     def noise(x):
         return tf.nn.dropout(x, 0.8)
     ''', '''
     import tensorflow as tf
     def noise(x, keep_prob=0.8):
         return tf.nn.dropout(x, 0.8)
     ''', "TFN303"),
    # TFN501: VGG16 has no BatchNormalization: training=False protects nothing
    ('''
     import keras
     base = keras.applications.VGG16(include_top=False)
     base.trainable = False
     inputs = keras.Input((180, 180, 3))
     x = base(inputs)
     ''', '''
     import keras
     base = keras.applications.ResNet50(include_top=False)
     base.trainable = False
     inputs = keras.Input((180, 180, 3))
     x = base(inputs)
     ''', "TFN501"),
])
def test_harmless_shape_is_silent_and_its_twin_reports(silent, reported, code):
    assert code not in codes(silent)
    assert code in codes(reported)
