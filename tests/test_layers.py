"""Layer/Model subclass detection and the composition of the layer fixes (no TensorFlow needed)."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from tflint_notes.engine import Linter, fix_text
from tflint_notes.rule import all_rules

LINTER = Linter(all_rules())

BODY = """
    def __init__(self, units=4, **kwargs):
        super().__init__(**kwargs)
        self.units = units
    def call(self, inputs):
        self.w = self.add_weight(shape=(inputs.shape[-1], self.units))
        return inputs @ self.w
"""


def codes(src: str) -> list[str]:
    return [d.code for d in LINTER.lint(textwrap.dedent(src)).diagnostics]


@pytest.mark.parametrize("header", [
    "import tensorflow as tf\nclass L(tf.keras.layers.Layer):",
    "import keras\nclass L(keras.layers.Layer):",
    "from tensorflow.keras.layers import Layer\nclass L(Layer):",
    "from tensorflow import keras\nclass L(keras.Model):",
    "import tf_keras\nclass L(tf_keras.layers.Layer):",
    "from tensorflow.keras import layers\nclass L(layers.Dense):",
    "import tensorflow as tf\nclass Base(tf.keras.layers.Layer):\n    pass\nclass Mid(Base):\n    pass\nclass L(Mid):",
])
def test_layer_subclass_detected_through_every_form(header):
    assert codes(header + textwrap.indent(textwrap.dedent(BODY), "    ")) == ["TFN201"]


@pytest.mark.parametrize("header", [
    "import tensorflow as tf\nclass L:",
    "import tensorflow as tf\nclass L(tf.Module):",
    "import tensorflow as tf\nclass Layer:\n    pass\nclass L(Layer):",
])
def test_non_keras_classes_stay_silent(header):
    assert codes(header + textwrap.indent(textwrap.dedent(BODY), "    ")) == []


def test_fixes_compose_in_one_run():
    src = textwrap.dedent('''\
        import tensorflow as tf


        class Linear(tf.keras.layers.Layer):
            def __init__(self, units=32):
                self.units = units

            def call(self, inputs):
                self.w = self.add_weight(shape=(inputs.shape[-1], self.units), initializer="random_normal")
                return tf.matmul(inputs, self.w)
        ''')
    # no evidence that Linear meets name=/dtype=: the broad TFN902 reports it, not TFN203
    assert sorted(codes(src)) == ["TFN201", "TFN204", "TFN902"]
    assert sorted(codes(src + "\nlayer = Linear(4, name='linear')\n")) == ["TFN201", "TFN203", "TFN204"]
    fixed = fix_text(LINTER, src).text
    assert fixed == textwrap.dedent('''\
        import tensorflow as tf


        class Linear(tf.keras.layers.Layer):
            def __init__(self, units=32, **kwargs):
                super().__init__(**kwargs)
                self.units = units

            def build(self, input_shape):
                self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal")

            def call(self, inputs):
                return tf.matmul(inputs, self.w)
        ''')
    assert codes(fixed) == []
    assert fix_text(LINTER, fixed).text == fixed


def test_trailing_comma_signatures_stay_valid():
    src = textwrap.dedent('''\
        import tensorflow as tf


        class Scale(tf.keras.layers.Layer):
            def __init__(
                self,
                factor,
            ):
                super().__init__(
                    dtype="float32",
                )
                self.factor = factor
        ''')
    fixed = fix_text(LINTER, src).text
    cst.parse_module(fixed)
    assert "        factor,\n        **kwargs,\n    ):\n" in fixed
    assert '            dtype="float32",\n            **kwargs,\n        )\n' in fixed


LAYOUTS = [
    # (signature as written, super call as written, signature after, super call after)
    ("(self, units)", "()", "(self, units, **kwargs)", "(**kwargs)"),
    ("(self,\n             units,\n             act=None)", "(name='n')",
     "(self,\n             units,\n             act=None,\n             **kwargs)", "(name='n', **kwargs)"),
    ("(\n        self,\n        units,\n    )", "(\n            name='n',\n        )",
     "(\n        self,\n        units,\n        **kwargs,\n    )", "(\n            name='n',\n            **kwargs,\n        )"),
    ("(self, units,\n             act=None\n             )", "()",
     "(self, units,\n             act=None, **kwargs\n             )", "(**kwargs)"),
    ("(self,\n             units,  # how many\n             act=None  # the activation\n             )", "()",
     "(self,\n             units,  # how many\n             act=None,  # the activation\n             **kwargs\n             )",
     "(**kwargs)"),
    ("(self, units=(1), *, act=None)", "()", "(self, units=(1), *, act=None, **kwargs)", "(**kwargs)"),
    ("(self, units, /)", "()", "(self, units, /, **kwargs)", "(**kwargs)"),
    ("(self, *args)", "()", "(self, *args, **kwargs)", "(**kwargs)"),
]


@pytest.mark.parametrize("signature, call, signature_after, call_after", LAYOUTS)
def test_kwargs_fix_follows_the_layout(signature, call, signature_after, call_after):
    template = ("import tensorflow as tf\n\n\nclass Scale(tf.keras.layers.Layer):\n"
                "    def __init__{sig}:\n        super().__init__{call}\n        self.units = 2\n")
    fixed = fix_text(LINTER, template.format(sig=signature, call=call)).text
    assert fixed == template.format(sig=signature_after, call=call_after)
    assert not any(line != line.rstrip() for line in fixed.splitlines())  # no trailing whitespace
