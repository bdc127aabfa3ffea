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


# --- values followed the way real code passes them (issue 18) ---------------------------------

def findings(codes, src: str) -> list[tuple[int, str]]:
    result = Linter(codes).lint(textwrap.dedent(src))
    return [(d.line, d.code) for d in result.diagnostics]


KERAS_PARAM_HEADER = """
import numpy as np
import tensorflow as tf
from tensorflow import keras
"""


@pytest.mark.parametrize("body, expected", [
    # the call site passes a model built in the module
    ("""
     def train(model, ds):
         model.fit(ds, batch_szie=32)
     train(keras.Sequential([keras.layers.Dense(1)]), None)
     """, [(7, "TFN301")]),
    # through a second helper: train(model) -> _fit(model)
    ("""
     def _fit(m, ds):
         m.fit(ds, epoch=2)
     def train(model, ds):
         _fit(model, ds)
     net = keras.Sequential([keras.layers.Dense(1)])
     train(net, None)
     """, [(7, "TFN301")]),
    # an annotation says so (no call site needed); Optional[...] and `| None` too
    ("""
     from typing import Optional
     def predict(m: keras.Model, x):
         return m.predict(x, batch_szie=2)
     def predict2(m: Optional[keras.Model], x):
         return m.predict(x, batch_szie=2)
     def predict3(m: "keras.Model | None", x):
         return m.predict(x, batch_szie=2)
     """, [(8, "TFN301"), (10, "TFN301")]),
    # a Keras-only method used on it
    ("""
     def evaluate(m, x):
         m.compile(optimizer="adam", loss="mse")
         return m.evaluate(x, verbos=0)
     """, [(8, "TFN301")]),
    # model(x, trainig=True) in a helper that receives the model
    ("""
     def mc(model, x):
         return [model(x, trainig=True) for _ in range(3)]
     mc(keras.models.load_model("m.keras"), None)
     """, [(7, "TFN301")]),
    # no evidence: an estimator of another library, a parameter called with anything else
    ("""
     from sklearn.ensemble import RandomForestClassifier
     def train(est, x, y):
         est.fit(x, y, epoch=3)
     train(RandomForestClassifier(), None, None)
     def score(m, x):
         return m(x, trainig=True)
     score(lambda x, trainig: x, 1)
     """, []),
    # an annotation that is not Keras wins over the name
    ("""
     class Estimator:
         def fit(self, x, epoch=1):
             return self
     def train(model: Estimator, x):
         model.fit(x, epoch=3)
         model.compile()
     """, []),
    # rebound before use: the local value decides
    ("""
     def train(model, x):
         model = make_other()
         model.fit(x, epoch=3)
     train(keras.Sequential(), None)
     """, []),
    # a local model class that overrides the method with its own signature
    ("""
     class GAN(keras.Model):
         def compile(self, d_optimizer, g_optimizer):
             super().compile()
     def setup(gan):
         gan.compile(d_optimizer=1, g_optimizer=2)
     setup(GAN())
     """, []),
])
def test_models_arriving_as_parameters(body, expected):
    assert findings(["TFN301"], KERAS_PARAM_HEADER + textwrap.dedent(body)) == expected


@pytest.mark.parametrize("body, expected", [
    # self.pool is an instance of a layer of this module whose call takes `masks`
    ("""
     class Pool(keras.layers.Layer):
         def call(self, x, masks=None):
             return x
     class Net(keras.Model):
         def __init__(self):
             super().__init__()
             self.pool = Pool()
         def call(self, x, m=None):
             return self.pool(x, masks=m)
     """, []),
    # ... and is checked against that signature
    ("""
     class Pool(keras.layers.Layer):
         def call(self, x, masks=None):
             return x
     class Net(keras.Model):
         def __init__(self):
             super().__init__()
             self.pool = Pool()
         def call(self, x, m=None):
             return self.pool(x, maskz=m)
     """, [(14, "TFN301")]),
    # a built-in layer keeps the layer-call check
    ("""
     class Net(keras.Model):
         def __init__(self):
             super().__init__()
             self.drop = keras.layers.Dropout(0.5)
         def call(self, x):
             return self.drop(x, trainig=True)
     """, [(11, "TFN301")]),
    # an attribute holding a plain function or a non-Keras object is not a layer
    ("""
     def gelu(x, approximate=False):
         return x
     class Helper:
         def __call__(self, x, masks=None):
             return x
     class Net(keras.Model):
         def __init__(self):
             super().__init__()
             self.act = gelu
             self.helper = Helper()
         def call(self, x):
             return self.helper(x, masks=None)
     """, []),
])
def test_layer_attributes_of_module_classes(body, expected):
    assert findings(["TFN301"], KERAS_PARAM_HEADER + textwrap.dedent(body)) == expected


@pytest.mark.parametrize("body, expected", [
    ("""
     @tf.function
     def f(x):
         return np.count_nonzero(x > 0)
     """, [(8, "TFN101")]),
    ("""
     @tf.function
     def f(x):
         return np.sum(0 < x <= 3)
     """, [(8, "TFN101")]),
    # `is`/`in` comparisons are Python bools; a NumPy array of a Python list is no tensor
    ("""
     @tf.function
     def f(x, sizes=(1, 2)):
         a = np.asarray(x is None)
         b = np.count_nonzero(np.array([3, 0, 2]) > 0)
         return x * b
     """, []),
])
def test_comparisons_of_tensors_are_tensors(body, expected):
    assert findings(["TFN101"], KERAS_PARAM_HEADER + textwrap.dedent(body)) == expected


@pytest.mark.parametrize("body, expected", [
    ("""
     C = tf.constant(2.0)
     def g():
         with tf.GradientTape() as tape:
             y = C * C
         return tape.gradient(y, C)
     """, [(10, "TFN402")]),
    # a closure's constant
    ("""
     def outer():
         c = tf.constant(2.0)
         def g():
             with tf.GradientTape() as tape:
                 y = c * c
             return tape.gradient(y, c)
         return g
     """, [(11, "TFN402")]),
    # watched, shadowed by a parameter, or a Variable
    ("""
     C = tf.constant(2.0)
     V = tf.Variable(2.0)
     def g(C=None):
         with tf.GradientTape() as tape:
             y = C * C
         return tape.gradient(y, C)
     def h():
         with tf.GradientTape() as tape:
             tape.watch(C)
             y = C * V
         return tape.gradient(y, [C, V])
     """, []),
])
def test_module_level_constants_reach_functions(body, expected):
    assert findings(["TFN402"], KERAS_PARAM_HEADER + textwrap.dedent(body)) == expected


@pytest.mark.parametrize("body, expected", [
    ("""
     w = tf.Variable(1.0)
     with tf.GradientTape() as tape:
         loss = w * w
     while True:
         g = tape.gradient(loss, w)
     """, [(10, "TFN403")]),
    ("""
     w = tf.Variable(1.0)
     with tf.GradientTape() as tape:
         loss = w * w
     gs = {k: tape.jacobian(loss, w) for k in "ab"}
     """, [(9, "TFN403")]),
    # two call sites inside the loop: one finding, one fix
    ("""
     w = tf.Variable(1.0)
     with tf.GradientTape() as tape:
         loss = w * w
     for _ in range(2):
         g = tape.gradient(loss, w)
         h = tape.gradient(loss, w)
     """, [(10, "TFN403")]),
    # the tape is made in the loop (its with block or an assignment), or the loop ends at once
    ("""
     w = tf.Variable(1.0)
     for _ in range(2):
         tape = tf.GradientTape()
         with tape:
             loss = w * w
         g = tape.gradient(loss, w)
     with tf.GradientTape() as t2:
         loss = w * w
     for _ in range(2):
         if w > 0:
             pass
         return t2.gradient(loss, w)
     """, []),
])
def test_gradients_executed_by_loops(body, expected):
    assert findings(["TFN403"], KERAS_PARAM_HEADER + textwrap.dedent(body)) == expected


@pytest.mark.parametrize("body, expected", [
    ("""
     @tf.function
     def step(x, lr):
         return x * lr
     RATES = [0.1, 0.01]
     for lr in RATES:
         step(1.0, lr)
     for i in range(3):
         factor = 0.5 ** i
         step(1.0, factor)
     for i in range(3):
         step(1.0, -i)
     """, [(11, "TFN108"), (14, "TFN108"), (16, "TFN108")]),
    ("""
     @tf.function
     def step(x, lr):
         return x * lr
     RATES = [0.1, 0.01]
     RATES = RATES + [0.5]
     for lr in RATES:
         step(1.0, lr)
     for lr in [0.1, some_value()]:
         step(1.0, lr)
     for i in range(3):
         factor = tf.constant(0.5 ** i)
         step(1.0, factor)
     for i in range(3):
         step(1.0, x * i)
     """, []),
])
def test_retracing_loops(body, expected):
    assert findings(["TFN108"], KERAS_PARAM_HEADER + textwrap.dedent(body)) == expected


@pytest.mark.parametrize("body, expected", [
    ("""
     def build():
         model = keras.Sequential([keras.layers.Dense(3, activation="softmax")])
         return model
     def main():
         m = build()
         m.compile(loss=keras.losses.CategoricalCrossentropy(from_logits=True))
     """, [(11, "TFN503")]),
    # compiled in a function that receives it; the builder defined after its use
    ("""
     def train(model):
         model.compile(loss=keras.losses.CategoricalCrossentropy(from_logits=True))
     def main():
         train(build())
     def build():
         return keras.Sequential([keras.layers.Dense(3, activation="softmax")])
     """, [(7, "TFN503")]),
    # one call site passes logits, another softmax: not every model is a softmax model
    ("""
     def train(model):
         model.compile(loss=keras.losses.CategoricalCrossentropy(from_logits=True))
     train(keras.Sequential([keras.layers.Dense(3)]))
     train(keras.Sequential([keras.layers.Dense(3, activation="softmax")]))
     """, []),
])
def test_softmax_models_across_functions(body, expected):
    assert findings(["TFN503"], KERAS_PARAM_HEADER + textwrap.dedent(body)) == expected


@pytest.mark.parametrize("body, expected", [
    ("""
     def train(model, gen):
         model.fit_generator(gen, nb_epoch=3)
     train(keras.Sequential([keras.layers.Dense(1)]), None)
     """, [(7, "TFN604"), (7, "TFN605")]),
    # no evidence: the removed method's own name proves nothing; a non-Keras instance of the module
    ("""
     class RunningMean:
         def compile(self, metric="mean"):
             self.metric = metric
         def fit_generator(self, gen, nb_epoch=1):
             return self
     def train(est, gen):
         est.fit_generator(gen, nb_epoch=3)
     def setup(tracker):
         tracker.compile(metric="mean")
         tracker.fit_generator(None, nb_epoch=2)
     setup(RunningMean())
     """, []),
])
def test_keras2_methods_on_parameters(body, expected):
    assert findings(["TFN301", "TFN604", "TFN605"], KERAS_PARAM_HEADER + textwrap.dedent(body)) == expected


# shapes found by a review of the first version (each was a false positive or a lost finding)
@pytest.mark.parametrize("codes, body, expected", [
    # the iterable of a comprehension / for statement runs once
    (["TFN403"], """
     w = tf.Variable(1.0)
     with tf.GradientTape() as tape:
         loss = w * w
     grads = [tf.clip_by_norm(g, 1.0) for g in tape.gradient(loss, [w])]
     """, []),
    (["TFN403"], """
     w = tf.Variable(1.0)
     with tf.GradientTape() as tape:
         loss = w * w
     for g in tape.gradient(loss, [w]):
         print(g)
     """, []),
    # a one-line loop body that breaks; a tape re-entered in the loop
    (["TFN403"], """
     w = tf.Variable(1.0)
     with tf.GradientTape() as tape:
         loss = w * w
     for v in [w]: g = tape.gradient(loss, v); break
     tape2 = tf.GradientTape()
     for x in range(3):
         with tape2:
             loss2 = w * x
         g2 = tape2.gradient(loss2, w)
     """, []),
    # TFN301 on self.<attr> of a module layer class: the screen must let the file through
    (["TFN301"], """
     class MaskedPool(keras.layers.Layer):
         def call(self, inputs, masks=None):
             return inputs
     class Enc(keras.Model):
         def __init__(self):
             super().__init__()
             self.pool: MaskedPool = MaskedPool()
             self.a, self.b = MaskedPool(), MaskedPool()
         def call(self, x, masks=None):
             return self.pool(x, mask=masks) + self.a(x, masks=masks)
     """, [(15, "TFN301")]),
    # TFN503: a builder with two returns, a returned model whose layers change, a parameter changed
    (["TFN503"], """
     def build(probabilities=True):
         if probabilities:
             return keras.Sequential([keras.layers.Dense(3, activation="softmax")])
         return keras.Sequential([keras.layers.Dense(3)])
     def train(model):
         model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
     train(build(probabilities=False))
     def main():
         model = build_base()
         model.pop()
         model.add(keras.layers.Dense(3))
         model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
     def finetune(model):
         model.add(keras.layers.Dense(3))
         model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
     def build_base():
         return keras.Sequential([keras.layers.Dense(10, activation="softmax")])
     finetune(build_base())
     """, []),
    # TFN402: a comprehension variable is not the module constant of the same name
    (["TFN402"], """
     x = tf.constant([1.0, 2.0])
     def per_var(model, data):
         with tf.GradientTape(persistent=True) as tape:
             loss = model(data)
         return [tape.gradient(loss, x) for x in model.trainable_variables]
     """, []),
    # TFN108: a few values only; a module constant rebound under `if __name__` or through `global`
    (["TFN108"], """
     @tf.function
     def step(x, k):
         return x * k
     RATES = (0.1, 0.2)
     OTHER = (0.1, 0.2)
     def tensors():
         global OTHER
         OTHER = [tf.constant(r) for r in OTHER]
     if __name__ == "__main__":
         RATES = [tf.constant(r) for r in RATES]
     for i in range(100):
         step(1.0, i % 2)
         step(1.0, i & 1)
     for r in RATES:
         step(1.0, r)
     for r in OTHER:
         step(1.0, r)
     """, []),
    # torch modules have compile() and layers too: no Keras evidence in a torch module
    (["TFN301"], """
     import torch
     def run(net, x, m):
         net.compile()
         return net(x, masks=m)
     """, []),
])
def test_review_shapes(codes, body, expected):
    assert findings(codes, KERAS_PARAM_HEADER + textwrap.dedent(body)) == expected
