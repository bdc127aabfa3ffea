"""Import resolution and graph-context detection, on small programs (no TensorFlow needed)."""

from __future__ import annotations

import textwrap

import pytest

from tflint_notes.engine import Linter

LINTER = Linter(["TFN101"])


def lines(src: str) -> list[int]:
    return [d.line for d in LINTER.lint(textwrap.dedent(src)).diagnostics]


@pytest.mark.parametrize("src", [
    # every import form of numpy and tf.function
    """
    import numpy as onp
    import tensorflow as tf
    @tf.function
    def f(x):
        return onp.exp(x)
    """,
    """
    from numpy import append
    from tensorflow import function as tf_function
    @tf_function
    def f(x):
        return append(x, x, axis=0)
    """,
    """
    import numpy
    import tensorflow.compat.v2 as tf
    @tf.function(jit_compile=True)
    def f(x):
        return numpy.exp(x)
    """,
    """
    import numpy as np
    from tensorflow.keras import layers
    class Block(layers.Layer):
        def call(self, inputs):
            return np.exp(inputs)
    """,
    """
    import numpy as np
    import keras
    class Base(keras.layers.Layer):
        pass
    class Child(Base):
        def call(self, inputs):
            return np.exp(inputs)
    """,
    """
    import numpy as np
    import tf_keras
    class M(tf_keras.Model):
        def train_step(self, data):
            x, y = data
            return np.mean(x)
    """,
    """
    import numpy as np
    import tensorflow as tf
    def helper(t):
        return np.exp(t)
    def outer(x):
        return helper(x)
    g = tf.function(outer)
    """,
    """
    import numpy as np
    import tensorflow as tf
    ds = tf.data.Dataset.range(3).batch(2)
    ds = ds.map(lambda x: np.exp(x))
    """,
    """
    import numpy as np
    import tensorflow as tf
    square = tf.function(lambda t: np.square(t))
    """,
    """
    import numpy as np
    import tensorflow as tf
    def prep(x):
        y = tf.cast(x, tf.float32) * 2
        return np.exp(y)
    tf.data.Dataset.range(3).map(prep)
    """,
    """
    try:
        import numpy as np
    except ImportError:
        np = None
    import tensorflow as tf
    @tf.function
    def f(x):
        return np.exp(x)
    """,
])
def test_flagged(src):
    assert len(lines(src)) == 1, src


@pytest.mark.parametrize("src", [
    # a local class named tf: @tf.function is not TensorFlow's
    """
    import numpy as np
    import tensorflow
    class tf:
        @staticmethod
        def function(f):
            return f
    @tf.function
    def f(x):
        return np.exp(x)
    """,
    # a local variable named np is not NumPy
    """
    import numpy as np
    import tensorflow as tf
    @tf.function
    def f(x):
        np = tf.experimental.numpy
        return np.exp(x)
    """,
    # a parameter named np
    """
    import numpy as np
    import tensorflow as tf
    @tf.function
    def f(x, np):
        return np.exp(x)
    """,
    # eager code
    """
    import numpy as np
    import tensorflow as tf
    def f(x):
        return np.exp(x)
    """,
    # a plain class with a `call` method is not a Keras layer
    """
    import numpy as np
    import tensorflow as tf
    class NotALayer:
        def call(self, inputs):
            return np.exp(inputs)
    """,
    # py_function callbacks run eagerly, even inside graph code
    """
    import numpy as np
    import tensorflow as tf
    def py_sort(t):
        return np.sort(t)
    @tf.function
    def f(x):
        a = tf.py_function(lambda t: np.sort(t), [x], Tout=tf.float32)
        b = tf.numpy_function(py_sort, [x], tf.float32)
        return a + b
    """,
    # literal defaults, self, literals, constants, dtypes, np.random
    """
    import numpy as np
    import tensorflow as tf
    @tf.function
    def f(x, n=3, scale: float = 2.0):
        y = tf.cast(x, np.float32) * np.sqrt(2.0) * np.pi
        z = np.ones(n) * scale
        eps = np.finfo(np.float32).eps
        r = np.random.uniform(size=(2,))
        return y + np.shape(x)[0] + np.ndim(x)
    """,
    # a helper never called from graph code
    """
    import numpy as np
    import tensorflow as tf
    def helper(t):
        return np.exp(t)
    @tf.function
    def f(x):
        return x + 1
    """,
    # a helper called from graph code with a Python number only
    """
    import numpy as np
    import tensorflow as tf
    def table(n):
        return np.arange(n)
    @tf.function
    def f(x):
        return x + table(4)
    """,
    # .map on something that is not a tf.data pipeline
    """
    import numpy as np
    import tensorflow as tf
    items = [1, 2]
    out = list(map(lambda x: np.exp(x), items))
    """,
])
def test_not_flagged(src):
    assert lines(src) == [], src


def test_files_without_tensorflow_are_not_parsed():
    assert LINTER.lint("import numpy as np\ndef f(:\n").diagnostics == []


def test_cyclic_local_bases_do_not_hang_method_lookup():
    """A redefined class name can make the chain of local bases cycle (B -> A -> B)."""
    from tflint_notes.engine import Linter
    from tflint_notes.rule import all_rules

    text = '''\
import tensorflow as tf


class A:
    pass


class B(A):
    @tf.function
    def step(self, x):
        print(x)
        return self.helper(x)


class A(B):
    pass
'''
    assert [d.code for d in Linter(all_rules(), screen=False).lint(text).diagnostics] == ["TFN103"]


ALIAS_LINTER = Linter(["TFN101", "TFN601", "TFN605"])


def alias_findings(src: str) -> list[tuple[str, int]]:
    return [(d.code, d.line) for d in ALIAS_LINTER.lint(textwrap.dedent(src)).diagnostics]


@pytest.mark.parametrize("src, expected", [
    # a module-level alias of an import, and an alias of that alias
    ("""
     import tensorflow as tf
     tfk = tf.keras
     tfkl = tfk.layers
     opt = tfk.optimizers.Adam(lr=0.1)
     emb = tfkl.Embedding(3, 2, input_length=1)
     """, [("TFN605", 5), ("TFN605", 6)]),
    ("""
     import numpy as np
     import tensorflow as tf
     onp = np
     @tf.function
     def f(x):
         return onp.exp(x)
     """, [("TFN101", 7)]),
    # an alias of a removed name: its definition is reported, not every use
    ("""
     import tensorflow as tf
     flags = tf.flags
     flags.DEFINE_string("a", "", "")
     flags.DEFINE_integer("b", 0, "")
     """, [("TFN601", 3)]),
    # bound twice, or imported in another branch: not an alias we can trust
    ("""
     import tensorflow as tf
     if tf.__version__ > "2":
         import tf_keras as keras
     else:
         keras = tf.keras
     opt = keras.optimizers.Adam(lr=0.1)
     """, []),
    ("""
     import tensorflow as tf
     tfk = tf.keras
     tfk = None
     opt = tfk.optimizers.Adam(lr=0.1)
     """, []),
    # a function-local name that shadows the alias
    ("""
     import tensorflow as tf
     tfk = tf.keras
     def build(tfk):
         return tfk.optimizers.Adam(lr=0.1)
     """, []),
])
def test_module_level_aliases(src, expected):
    assert alias_findings(src) == expected
