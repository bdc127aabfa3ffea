"""TFN203/TFN205 report only a failure path of the same class object, and name its line (no TensorFlow).

The runtime facts these cases encode were measured under TF 2.21 (see the rule pages): a layer without
**kwargs fails to reload from `.keras`/`.h5` and to `clone_model` under Keras 3, not under tf_keras unless its
get_config extends super's; a layer with a non-basic constructor argument and no get_config fails at `save`,
`clone_model` and `get_config` itself (tf_keras: only when that argument was given).
"""

from __future__ import annotations

import textwrap

import pytest

from tflint_notes.engine import Linter
from tflint_notes.rule import all_rules

LINTER = Linter(["TFN203", "TFN205"])
BROAD = Linter(["TFN203", "TFN205", "TFN902", "TFN903"])

NO_KWARGS = """
import os
import tensorflow as tf
from tensorflow import keras

class Ring(keras.layers.Layer):
    def __init__(self, turns=2):
        super().__init__()
        self.turns = turns
    def call(self, x):
        return x * self.turns
"""
CALLABLE_ARG = """
import tensorflow as tf
from tensorflow import keras

class Gate(keras.layers.Layer):
    def __init__(self, fn, **kwargs):
        super().__init__(**kwargs)
        self.fn = fn
    def call(self, x):
        return self.fn(x)
"""


def findings(src: str, linter: Linter = LINTER) -> list[tuple[str, int, str]]:
    return [(d.code, d.line, d.message) for d in linter.lint(textwrap.dedent(src)).diagnostics]


def line_of(src: str, needle: str) -> int:
    lines = textwrap.dedent(src).splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


@pytest.mark.parametrize("tail, failing", [
    ("model = keras.Sequential([Ring(3)])\nmodel.save('m.keras')\nback = keras.models.load_model('m.keras')\n",
     "back = "),
    ("model = keras.Sequential([Ring(3)])\npath = os.path.join('/tmp', 'm.keras')\nmodel.save(path)\n"
     "keras.models.load_model(path)\n", "keras.models.load_model(path)"),
    ("model = keras.Sequential([Ring(3)])\nmodel.save('m.h5')\nkeras.models.load_model('m.h5')\n",
     "load_model('m.h5')"),
    ("model = keras.Sequential([Ring(3)])\nkeras.models.save_model(model, 'm.keras')\n"
     "keras.saving.load_model('m.keras')\n", "keras.saving.load_model"),
    ("inp = keras.Input((2,))\nout = keras.layers.Dense(1)(Ring(3)(inp))\nmodel = keras.Model(inp, out)\n"
     "copy = keras.models.clone_model(model)\n", "copy = "),
    ("model = keras.Sequential()\nmodel.add(Ring(3))\nconfig = model.get_config()\n"
     "again = keras.Sequential.from_config(config)\n", "again = "),
    ("def build():\n    return keras.Sequential([Ring(3)])\n\ndef main(tmp):\n    m = build()\n"
     "    m.save(f'{tmp}/ring.keras')\n    keras.models.load_model(f'{tmp}/ring.keras')\n", "load_model(f"),
    ("class Net(keras.Model):\n    def __init__(self, **kwargs):\n        super().__init__(**kwargs)\n"
     "        self.ring = Ring(2)\n    def call(self, x):\n        return self.ring(x)\n\n"
     "net = Net()\nkeras.models.clone_model(net)\n", "clone_model(net)"),
    ("layer = Ring(2, name='r')\n", "layer = Ring"),
    ("class Twice(Ring):\n    pass\n\nTwice(dtype='float64')\n", "Twice(dtype"),
])
def test_tfn203_reports_the_failing_line(tail, failing):
    src = NO_KWARGS + tail
    found = findings(src)
    assert [code for code, _, _ in found] == ["TFN203"], found
    assert f"at line {line_of(src, failing)} raises TypeError" in found[0][2]


@pytest.mark.parametrize("tail", [
    # saved and never reloaded: the save itself works
    "model = keras.Sequential([Ring(3)])\nmodel.save('m.keras')\n",
    # another model is saved and reloaded (a teacher), the layer lives in the student
    "student = keras.Sequential([Ring(3)])\nteacher = keras.Sequential([keras.layers.Dense(2)])\n"
    "teacher.save('t.keras')\nteacher = keras.models.load_model('t.keras')\n",
    # a different file is loaded
    "model = keras.Sequential([Ring(3)])\nmodel.save('a.keras')\nkeras.models.load_model('b.keras')\n",
    # a PIL image's save, a NumPy array's
    "from PIL import Image\nimport numpy as np\nmodel = keras.Sequential([Ring(3)])\n"
    "Image.fromarray(np.zeros((2, 2))).save('x.png')\nnp.save('w.npy', model.predict(np.ones((1, 2))))\n",
    # only the weights
    "model = keras.Sequential([Ring(3)])\nmodel.save_weights('m.weights.h5')\nmodel.load_weights('m.weights.h5')\n",
    # a SavedModel directory (a tf_keras idiom; Keras 3 rejects it at save, TFN606's business)
    "model = keras.Sequential([Ring(3)])\nmodel.save('exported')\nkeras.models.load_model('exported')\n",
    # get_config alone does not rebuild anything
    "model = keras.Sequential([Ring(3)])\nprint(model.get_config())\n",
    # built with its own keywords only
    "layer = Ring(turns=4)\n",
])
def test_tfn203_silent_without_a_failing_path(tail):
    assert findings(NO_KWARGS + tail) == []
    # the broad, opt-in form still reports the class
    assert [code for code, _, _ in findings(NO_KWARGS + tail, BROAD)] == ["TFN902"]


def test_tfn203_get_config_without_super_is_checked_not_assumed():
    accepting = NO_KWARGS.replace("    def call", "    def get_config(self):\n        return {'turns': self.turns}\n"
                                  "    def call")
    tail = "model = keras.Sequential([Ring(3)])\nmodel.save('m.keras')\nkeras.models.load_model('m.keras')\n"
    assert findings(accepting + tail) == []
    rejecting = accepting.replace("{'turns': self.turns}", "{'turns': self.turns, 'scale': 2}")
    assert [code for code, _, _ in findings(rejecting + tail)] == ["TFN203"]
    extending = NO_KWARGS.replace(
        "    def call", "    def get_config(self):\n        c = super().get_config()\n        c['turns'] = self.turns\n"
        "        return c\n    def call")
    assert [code for code, _, _ in findings(extending + tail)] == ["TFN203"]
    computed = accepting.replace("{'turns': self.turns}", "{k: getattr(self, k) for k in ('turns',)}")
    assert findings(computed + tail) == []


def test_tfn203_reload_depends_on_the_keras_flavour():
    tail = "model = keras.Sequential([Ring(3)])\nmodel.save('m.keras')\nkeras.models.load_model('m.keras')\n"
    legacy = "import os\nos.environ['TF_USE_LEGACY_KERAS'] = '1'\n" + textwrap.dedent(NO_KWARGS)
    assert [code for code, _, _ in findings(NO_KWARGS + tail)] == ["TFN203"]
    assert findings(legacy + tail) == []  # tf_keras 2.21 rebuilds the layer without name/trainable/dtype
    extending = legacy.replace(
        "    def call", "    def get_config(self):\n        c = super().get_config()\n        c['turns'] = self.turns\n"
        "        return c\n    def call")
    assert [code for code, _, _ in findings(extending + tail)] == ["TFN203"]


def test_tfn203_dropped_kwargs_report_only_a_dropped_keyword():
    src = NO_KWARGS.replace("def __init__(self, turns=2):", "def __init__(self, turns=2, **kwargs):")
    tail = "model = keras.Sequential([Ring(3)])\nmodel.save('m.keras')\nkeras.models.load_model('m.keras')\n"
    assert findings(src + tail) == []  # the config's keys land in **kwargs: the reload works
    found = findings(src + "frozen = Ring(3, trainable=False)\n")
    assert [code for code, _, _ in found] == ["TFN203"]
    assert "the trainable= given at line" in found[0][2] and "silently dropped" in found[0][2]


@pytest.mark.parametrize("src", [
    # the same name in two functions: only the other class is built with name=
    """
    import tensorflow as tf
    def test_named():
        class Scale(tf.keras.layers.Layer):
            def __init__(self, f, **kwargs):
                super().__init__(**kwargs)
        Scale(2.0, name="s")
    def test_plain():
        class Scale(tf.keras.layers.Layer):
            def __init__(self, f):
                super().__init__()
        Scale(2.0)
    """,
    # redefined in if branches: which class the call builds is not provable
    """
    import tensorflow as tf
    if tf.__version__ > "2":
        class Scale(tf.keras.layers.Layer):
            def __init__(self, f):
                super().__init__()
    else:
        class Scale(tf.keras.layers.Layer):
            def __init__(self, f):
                super().__init__()
    Scale(2.0, name="s")
    """,
    # the name is also assigned
    """
    import tensorflow as tf
    class Scale(tf.keras.layers.Layer):
        def __init__(self, f):
            super().__init__()
    Scale = tf.keras.layers.Rescaling
    Scale(2.0, name="s")
    """,
])
def test_tfn203_identity_must_be_provable(src):
    assert findings(src) == []


def test_tfn203_models_built_in_loops_and_paths_in_variables():
    src = NO_KWARGS + textwrap.dedent("""
    def main(out_dir, names):
        for name in names:
            model = keras.Sequential([Ring(len(name))])
            target = os.path.join(out_dir, name + ".keras")
            model.save(target)
            reloaded = keras.models.load_model(target)
        unknown = keras.models.load_model(names[0])
    """)
    found = findings(src)
    assert [code for code, _, _ in found] == ["TFN203"]
    assert f"at line {line_of(src, 'reloaded = ')}" in found[0][2]


@pytest.mark.parametrize("tail, failing", [
    ("model = keras.Sequential([Gate(tf.nn.relu)])\nmodel.save('m.keras')\n", "model.save"),
    ("model = keras.Sequential([Gate(tf.nn.relu)])\nmodel.save('m.h5')\n", "model.save"),
    ("model = keras.Sequential([Gate(tf.nn.relu)])\nkeras.models.clone_model(model)\n", "clone_model"),
    ("model = keras.Sequential([Gate(tf.nn.relu)])\nconfig = model.get_config()\n", "config = "),
    ("model = keras.Sequential([Gate(tf.nn.relu)])\njson = model.to_json()\n", "json = "),
    ("def make(path):\n    m = keras.Sequential([Gate(fn=tf.nn.relu)])\n    m.save(path)\n", "m.save"),
])
def test_tfn205_reports_the_failing_line(tail, failing):
    src = CALLABLE_ARG + tail
    found = findings(src)
    assert [code for code, _, _ in found] == ["TFN205"], found
    assert f"at line {line_of(src, failing)} raises NotImplementedError" in found[0][2]


@pytest.mark.parametrize("tail", [
    "model = keras.Sequential([Gate(tf.nn.relu)])\nmodel.save_weights('m.weights.h5')\n",
    "model = keras.Sequential([Gate(tf.nn.relu)])\nother = keras.Sequential([keras.layers.Dense(1)])\n"
    "other.save('o.keras')\n",
    "model = keras.Sequential([Gate(tf.nn.relu)])\nkeras.models.load_model('pretrained.keras')\n",
])
def test_tfn205_silent_without_a_failing_path(tail):
    assert findings(CALLABLE_ARG + tail) == []


def test_tfn205_under_tf_keras_needs_the_argument_given():
    legacy = "import os\nos.environ['TF_USE_LEGACY_KERAS'] = '1'\n" + textwrap.dedent(CALLABLE_ARG).replace(
        "def __init__(self, fn, **kwargs)", "def __init__(self, fn=tf.nn.relu, **kwargs)")
    saved_default = "model = keras.Sequential([Gate()])\nmodel.save('m.keras')\n"
    saved_given = "model = keras.Sequential([Gate(tf.nn.tanh)])\nmodel.save('m.keras')\n"
    saved_dir = "model = keras.Sequential([Gate(tf.nn.tanh)])\nmodel.save('exported')\n"
    assert findings(legacy + saved_default) == []
    assert [code for code, _, _ in findings(legacy + saved_given)] == ["TFN205"]
    assert findings(legacy + saved_dir) == []
    keras3 = legacy.replace("os.environ['TF_USE_LEGACY_KERAS'] = '1'\n", "")
    assert [code for code, _, _ in findings(keras3 + saved_default)] == ["TFN205"]  # Keras 3 captures defaults


def test_every_rule_still_runs_with_the_flow():
    """The flow is built lazily: a module with layers but no TFN203/TFN205 candidate never builds it."""
    linter = Linter(all_rules())
    src = textwrap.dedent(NO_KWARGS) + "Ring(2, name='r')\n"
    assert "TFN203" in [d.code for d in linter.lint(src).diagnostics]


def test_notebook_messages_name_the_cell_and_its_line(tmp_path, capsys):
    import json

    from tflint_notes.cli import main

    cells = [
        "import tensorflow as tf\nfrom tensorflow import keras\nclass Ring(keras.layers.Layer):\n"
        "    def __init__(self, turns=2):\n        super().__init__()\n",
        "m = keras.Sequential([Ring(3)])\nm.save('a.keras')\nkeras.models.load_model('a.keras')\n",
    ]
    notebook = {"cells": [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                           "source": text.splitlines(keepends=True)} for text in cells],
                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "ring.ipynb"
    path.write_text(json.dumps(notebook), encoding="utf-8")
    assert main(["check", "--isolated", "--no-cache", "--select", "TFN203", str(path)]) == 1
    out = capsys.readouterr().out
    assert "load_model at cell 2 line 3 raises TypeError: the model saved at cell 2 line 2 holds a Ring" in out


def test_the_model_saved_is_the_one_assigned_last():
    """A notebook reuses `model` for many models: the save names the last one, not every one it ever held."""
    tail = ("model = keras.Sequential([Gate(tf.nn.relu)])\nmodel.fit(1, 1)\n"
            "model = keras.Sequential([keras.layers.Dense(1)])\nmodel.save('plain.keras')\n")
    assert findings(CALLABLE_ARG + tail) == []
    rewrapped = ("model = keras.Sequential([Gate(tf.nn.relu)])\nmodel = keras.Sequential([model, keras.layers.Dense(1)])\n"
                 "model.save('wrapped.keras')\n")
    assert [code for code, _, _ in findings(CALLABLE_ARG + rewrapped)] == ["TFN205"]
    added = ("model = keras.Sequential()\nmodel.add(keras.layers.Dense(2))\nmodel.add(Gate(tf.nn.relu))\n"
             "model.save('added.keras')\n")
    assert [code for code, _, _ in findings(CALLABLE_ARG + added)] == ["TFN205"]
