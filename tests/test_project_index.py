"""The project index (tflint_notes/project/index.py): what the modules of a project say about each other.

Fast tests (no TensorFlow import): facts, resolution through imports and re-exports, graph code across modules,
the disk cache, and bad input that must end as "unknown", never as a crash, a hang, Keras or graph code.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from tflint_notes.project.index import build_index, module_files
from tflint_notes.project.view import NO_VIEW


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


BASE_PROJECT = {
    "requirements.txt": "tensorflow==2.21.*\n",
    "pkg/__init__.py": "from .blocks import Scale\n",
    "pkg/base.py": """
        import tensorflow as tf

        class BaseBlock(tf.keras.layers.Layer):
            def __init__(self, units=1, **kwargs):
                super().__init__(**kwargs)
                self.units = units

            def helper(self, x):
                return x
        """,
    "pkg/blocks.py": """
        from .base import BaseBlock

        class Scale(BaseBlock):
            def call(self, x, temperature=1.0):
                return self.helper(x)
        """,
    "pkg/deep.py": """
        from pkg import Scale
        import pkg.base

        class Deep(Scale):
            pass

        class Other(pkg.base.BaseBlock):
            pass
        """,
    "pkg/utils.py": """
        import numpy as np
        from . import helpers

        def normalize(x):
            return x / np.sqrt(np.sum(x * x)) + helpers.inner(x)

        def stats(a):
            return np.mean(a)

        def scale(x, factor):
            return x * factor
        """,
    "pkg/helpers.py": """
        import numpy as np

        def inner(y):
            return np.abs(y)
        """,
    "pkg/train.py": """
        import numpy as np
        import tensorflow as tf
        from .utils import normalize, stats
        from . import utils

        @tf.function
        def train_step(x):
            y = tf.square(x)
            utils.scale(3.0, 2)
            return normalize(y)

        def main():
            return stats(np.ones(3))
        """,
}


def test_bases_resolve_through_relative_absolute_and_reexported_imports(tmp_path: Path):
    index = build_index(str(write(tmp_path, BASE_PROJECT)))
    assert index.keras_base("pkg.base.BaseBlock") == "tensorflow.keras.layers.Layer"
    assert index.keras_base("pkg.blocks.Scale") == "tensorflow.keras.layers.Layer"
    assert index.keras_base("pkg.Scale") == "tensorflow.keras.layers.Layer"  # re-export in __init__.py
    assert index.keras_base("pkg.deep.Deep") == "tensorflow.keras.layers.Layer"
    assert index.keras_base("pkg.deep.Other") == "tensorflow.keras.layers.Layer"
    assert index.keras_base("pkg.utils.normalize") is None
    view = index.view(str(tmp_path / "pkg" / "deep.py"))
    assert view.keras_base("pkg.Scale") == "tensorflow.keras.layers.Layer"
    assert view.keywords_of("pkg.Scale", "call") == frozenset({"x", "temperature"})
    assert view.keywords_of("pkg.Scale", "__init__") == frozenset({"units", "**"})
    assert view.project_methods("pkg.Scale") == frozenset({"__init__", "call", "helper"})


def test_graph_code_reaches_helpers_of_other_modules_only_with_tensors(tmp_path: Path):
    index = build_index(str(write(tmp_path, BASE_PROJECT)))
    entries = index.entries()
    normalize = entries["pkg.utils"]["normalize"]
    assert normalize.reason == "called from @tf.function `train_step` in pkg/train.py:11"
    assert normalize.tensor_params == frozenset({"x"})
    assert entries["pkg.helpers"]["inner"].reason == "called from graph code `normalize` in pkg/utils.py:6"
    assert "stats" not in entries["pkg.utils"]  # called eagerly only
    assert "scale" not in entries["pkg.utils"]  # called from graph code with Python numbers only
    assert entries["pkg.base"]["BaseBlock.helper"].reason == "called from Keras `Scale.call` in pkg/blocks.py:6"
    view = index.view(str(tmp_path / "pkg" / "utils.py"))
    assert view.entry("normalize") is normalize and view.entry("stats") is None
    assert index.view(str(tmp_path / "pkg" / "train.py")).entries == ()


def test_dataset_callbacks_and_wrapped_functions_of_other_modules(tmp_path: Path):
    write(tmp_path, {
        "setup.py": "from setuptools import setup\nsetup(name='x', install_requires=['tensorflow'])\n",
        "app/__init__.py": "",
        "app/prep.py": """
            import numpy as np

            def parse(record):
                return np.log(record)

            def step(x):
                return np.exp(x)

            def eager(x):
                return np.exp(x)
            """,
        "app/main.py": """
            import tensorflow as tf
            from app import prep

            ds = tf.data.Dataset.range(3).map(prep.parse)
            fast = tf.function(prep.step)
            slow = tf.py_function(prep.eager, [1.0], tf.float32)
            """,
    })
    entries = build_index(str(tmp_path)).entries()["app.prep"]
    assert entries["parse"].reason == "a tf.data callback in app/main.py:5"
    assert entries["parse"].tensor_params == frozenset({"record"})
    assert entries["step"].reason == "a tf.function-wrapped function in app/main.py:6"
    assert "eager" not in entries


def test_unresolvable_code_is_unknown_never_keras_nor_graph(tmp_path: Path):
    write(tmp_path, {
        "pyproject.toml": "[project]\nname = 'x'\ndependencies = ['tensorflow']\n",
        "pkg/__init__.py": "",
        "pkg/a.py": "from .b import B\nimport tensorflow as tf\nclass A(B):\n    pass\n",
        "pkg/b.py": "from .a import A\nclass B(A):\n    pass\n",  # a base cycle
        "pkg/broken.py": "class Broken(:\n",
        "pkg/uses_broken.py": "from .broken import Broken\nclass C(Broken):\n    pass\n",
        "pkg/star.py": "from .things import *\nclass D(Layer):\n    pass\n",
        "pkg/things.py": "from tensorflow.keras.layers import Layer\n",
        "pkg/plain.py": "class Layer:\n    pass\n",
        "pkg/mine.py": "from .plain import Layer\nclass E(Layer):\n    pass\n",  # same name, not Keras
        "pkg/paths.py": "import sys\nsys.path.insert(0, '/elsewhere')\nfrom magic import Thing\nclass F(Thing):\n    pass\n",
        "pkg/twice.py": "try:\n    from .plain import Layer\nexcept ImportError:\n    from tensorflow.keras.layers import Layer\n"
                        "class G(Layer):\n    pass\n",
        "nspkg/sub/mod.py": "from nspkg.sub.other import H\nclass I(H):\n    pass\n",  # namespace package
        "nspkg/sub/other.py": "import tensorflow as tf\nclass H(tf.keras.Model):\n    pass\n",
        "pkg/loop1.py": "from . import loop2\nimport tensorflow as tf\n@tf.function\ndef f(x):\n    return loop2.g(x)\n",
        "pkg/loop2.py": "from . import loop1\ndef g(x):\n    return loop1.f(x)\n",
    })
    index = build_index(str(tmp_path))
    for name in ("pkg.a.A", "pkg.b.B", "pkg.uses_broken.C", "pkg.star.D", "pkg.mine.E", "pkg.paths.F", "pkg.twice.G"):
        assert index.keras_base(name) is None, name
    assert index.facts("pkg.broken") is None
    assert index.keras_base("nspkg.sub.mod.I") == "tensorflow.keras.Model"  # folders without __init__.py count
    entries = index.entries()
    assert set(entries) == {"pkg.loop2"}  # the call cycle ends; g is reached once
    assert entries["pkg.loop2"]["g"].reason == "called from @tf.function `f` in pkg/loop1.py:5"


def test_only_modules_that_can_hold_graph_roots_are_read_to_find_them(tmp_path: Path):
    files = dict(BASE_PROJECT)
    files["pkg/config.py"] = "SIZE = 3\n"
    index = build_index(str(write(tmp_path, files)))
    index.entries()
    assert "pkg.config" not in index._facts  # no marker in its text: never parsed
    assert index.facts("pkg.config") is not None  # but readable on demand


def test_disk_cache_rereads_only_changed_modules(tmp_path: Path, monkeypatch):
    project = write(tmp_path / "p", BASE_PROJECT)
    cache = str(tmp_path / "cache")
    index = build_index(str(project), None, cache)
    before = index.view(str(project / "pkg" / "utils.py"))
    parsed = []
    import tflint_notes.project.index as index_module

    real = index_module.collect_module_facts

    def counting(data, name, *args):
        parsed.append(name)
        return real(data, name, *args)

    monkeypatch.setattr(index_module, "collect_module_facts", counting)
    again = build_index(str(project), None, cache)
    assert again.view(str(project / "pkg" / "utils.py")) == before
    assert parsed == []
    # the caller stops passing a tensor: the helper's view changes, only train.py is parsed again
    (project / "pkg" / "train.py").write_text(BASE_PROJECT["pkg/train.py"].replace("normalize(y)", "normalize(1.0)")
                                              .replace("\n        ", "\n"), encoding="utf-8")
    third = build_index(str(project), None, cache)
    after = third.view(str(project / "pkg" / "utils.py"))
    assert parsed == ["pkg.train"]
    assert after.entry("normalize") is None and after.fingerprint() != before.fingerprint()


def test_views_are_the_same_whatever_is_asked_first(tmp_path: Path):
    project = write(tmp_path, BASE_PROJECT)
    paths = [str(p) for p in sorted(project.rglob("*.py"))]
    forward = [build_index(str(project)).view(p) for p in paths]
    index = build_index(str(project))
    backward = [index.view(p) for p in reversed(paths)][::-1]
    assert forward == backward
    assert build_index(str(project)).view(str(tmp_path / "elsewhere.py")) is NO_VIEW


def test_module_files_skip_environments_and_subprojects(tmp_path: Path):
    write(tmp_path, {
        "requirements.txt": "tensorflow\n",
        "src/lib/__init__.py": "",
        "src/lib/core.py": "",
        ".venv/lib/site.py": "",
        "build/lib/copy.py": "",
        "service/requirements.txt": "tensorflow==2.15\n",
        "service/serve.py": "",
        "scripts/run-it.py": "",  # not an importable name
    })
    names = [name for _, name in module_files(str(tmp_path))]
    assert names == ["lib", "lib.core"]


def test_module_identity_names_files_as_the_index_does(tmp_path: Path):
    from tflint_notes.project.index import module_identity

    write(tmp_path, {**BASE_PROJECT, "src/other/__init__.py": "", "src/other/mod.py": "", ".hidden/x.py": ""})
    for path, name in module_files(str(tmp_path)):
        identity = module_identity(str(tmp_path), None, path)
        assert identity is not None and identity[0] == name, path
        assert identity[1] == path.endswith("__init__.py")
    assert module_identity(str(tmp_path), None, str(tmp_path / ".hidden" / "x.py")) is None
    assert module_identity(str(tmp_path), None, str(tmp_path.parent / "outside.py")) is None


def test_model_subclasses_of_other_modules_meet_the_model_rules(tmp_path: Path):
    """TFN504 and TFN604 see a Model subclass of another module: input_shape= where its own __init__ does not
    take it, a removed Model method the project does not define (and not one it defines)."""
    import io
    import json
    from contextlib import redirect_stdout

    from tflint_notes.cli import main

    write(tmp_path, {
        "requirements.txt": "tensorflow==2.21.*\n",
        "app/__init__.py": "",
        "app/models.py": """
            import tensorflow as tf

            class Net(tf.keras.Model):
                def __init__(self, units=3, **kwargs):
                    super().__init__(**kwargs)
                    self.dense = tf.keras.layers.Dense(units)

                def call(self, x):
                    return self.dense(x)

            class ShapedNet(Net):
                def __init__(self, input_shape=None, **kwargs):
                    super().__init__(**kwargs)

                def predict_classes(self, x):
                    return self(x)
            """,
        "app/train.py": """
            from .models import Net, ShapedNet

            net = Net(units=4, input_shape=(3,))
            shaped = ShapedNet(input_shape=(3,))
            net.fit_generator(iter([]))
            shaped.predict_classes([[1.0, 2.0, 3.0]])
            """,
    })
    out = io.StringIO()
    with redirect_stdout(out):
        status = main(["check", "--no-cache", "--output-format", "json", str(tmp_path)])
    found = {(Path(item["filename"]).name, item["location"]["row"], item["code"]) for item in json.loads(out.getvalue())}
    assert status == 1
    assert found == {("train.py", 4, "TFN504"), ("train.py", 6, "TFN604")}


def test_views_pack_stands_only_while_no_module_changes(tmp_path: Path):
    project = write(tmp_path / "p", BASE_PROJECT)
    cache = str(tmp_path / "cache")
    index = build_index(str(project), None, cache)
    views = {index.module_name(p): index.view(p) for p in index.files.values()}
    index.save_views(views)
    again = build_index(str(project), None, cache)
    assert again.load_views()
    assert {again.module_name(p): again.view(p) for p in again.files.values()} == views
    assert again._facts == {}  # nothing read beyond the modules' bytes
    (project / "pkg" / "helpers.py").write_text("import numpy as np\n", encoding="utf-8")
    third = build_index(str(project), None, cache)
    assert not third.load_views()
    assert third.view(str(project / "pkg" / "utils.py")).entry("normalize") is not None


# -- which modules are read to find graph roots (project/roots.py) --

_MAY_HOLD = {
    "decorated function": "import tensorflow as tf\n\n@tf.function\ndef step(x):\n    return x\n",
    "decorated method": "import tensorflow as tf\n\nclass T:\n    @tf.function(jit_compile=True)\n    def f(self, x):\n"
                        "        return x\n",
    "decorated function under if": "import tensorflow as tf\nif True:\n    @tf.function\n    def f(x):\n        return x\n",
    "imported function": "from tensorflow import function\n\n@function\ndef f(x):\n    return x\n",
    "alias": "import tensorflow as tf\ntff = tf.function\n\n@tff\ndef f(x):\n    return x\n",
    "import as": "from tensorflow import function as tff\n",
    "wrapped name": "import tensorflow as tf\nfrom . import helpers\nstep = tf.function(helpers.step)\n",
    "dataset callback": "import tensorflow as tf\nds = tf.data.Dataset.range(3).map(parse)\n",
    "dataset keyword": "from tensorflow import data\nds = data.Dataset.range(3).map(map_func=parse)\n",
    "keras call": "from .base import Block\n\nclass Sub(Block):\n    def call(self, x):\n        return x\n",
    "keras call under try": "try:\n    class Sub(Block):\n        def call(self, x):\n            return x\n"
                            "except ImportError:\n    pass\n",
    "def inside a docstring above": 'class Sub(Block):\n    """Example:\ndef f():\n    """\n    def call(self, x):\n'
                                    "        return x\n",
    "async train_step": "class M(Model):\n    async def train_step(self, data):\n        return data\n",
}

_CANNOT_HOLD = {
    "nothing": "SIZE = 3\n",
    "nested decorated function": "import tensorflow as tf\n\ndef test():\n    @tf.function\n    def f(x):\n"
                                 "        return x\n",
    "decorated function in a method": "import tensorflow as tf\n\nclass T:\n    def test(self):\n"
                                      "        @tf.function\n        def f(x):\n            return x\n",
    "wrapped lambda": "import tensorflow as tf\nf = tf.function(lambda x: x)\n",
    "map of a lambda": "import tensorflow as tf\nds = tf.data.Dataset.range(3).map(lambda x: x)\n",
    "TensorFlow's internal datasets": "from tensorflow.python.data.ops import dataset_ops\n"
                                      "ds = dataset_ops.Dataset.range(3).map(parse)\n",
    "map on a list": "out = list(map(str, [1]))\nx = {}.map(f)\n",
    "call in a class inside a test": "def test():\n    class L(Layer):\n        def call(self, x):\n"
                                     "            return x\n",
    "a word in prose": "# tf.function is documented elsewhere; call it later\n",
}


def test_modules_that_may_hold_a_graph_root_are_read():
    from tflint_notes.project.roots import may_hold_root

    assert [name for name, text in _MAY_HOLD.items() if not may_hold_root(text.encode())] == []
    assert [name for name, text in _CANNOT_HOLD.items() if may_hold_root(text.encode())] == []


def test_the_root_screen_never_drops_a_module_whose_facts_hold_a_root():
    """Sound on real code nobody here wrote: every module of the installed keras, tf_keras and TensorFlow
    (a sample) whose facts hold a graph root, a wrap or a graph method of a module-level class passes."""
    import sysconfig

    from tflint_notes.project.facts import collect_module_facts
    from tflint_notes.project.roots import may_hold_root

    site = Path(sysconfig.get_paths()["purelib"])
    files = [p for package in ("keras", "tf_keras", "tensorflow/python") for p in sorted((site / package).rglob("*.py"))]
    assert len(files) > 1000, "the test extra installs keras, tf_keras and tensorflow"
    graph_methods = ("call", "train_step", "test_step", "predict_step")
    checked, missed = 0, []
    for path in files[::4]:
        data = path.read_bytes()
        facts = collect_module_facts(data, "pkg.mod", False, "mod.py")
        if facts is None:
            continue
        if facts["wraps"] or any(f["root"] for f in facts["functions"].values()) or any(
                "." in key and key.split(".", 1)[1] in graph_methods for key in facts["functions"]):
            checked += 1
            if not may_hold_root(data):
                missed.append(str(path))
    assert checked > 50 and missed == []


def test_a_module_claimed_by_another_process_is_still_read(tmp_path: Path):
    """flake8's workers share the root search through claims in the cache; a claim left by a process that
    died never hides the module."""
    import hashlib

    from tflint_notes.project import index as index_module

    project = write(tmp_path / "p", BASE_PROJECT)
    cache = tmp_path / "cache"
    expected = build_index(str(project)).view(str(project / "pkg" / "utils.py"))
    assert expected.entry("normalize") is not None
    claiming = build_index(str(project), None, str(cache))
    for module in claiming.files:  # every module claimed by a process that never finishes
        path = claiming.files[module]
        data = Path(path).read_bytes()
        relative = Path(path).relative_to(project).as_posix()
        key = hashlib.blake2b(b"%d\0%s\0%s\0%s\0" % (index_module._FORMAT, index_module._PYTHON, module.encode(),
                                                       relative.encode()) + data, digest_size=20).hexdigest()
        assert claiming._claim(key)
    index = build_index(str(project), None, str(cache))
    assert index.view(str(project / "pkg" / "utils.py")) == expected


def test_view_fingerprint_is_the_same_in_every_process():
    """The result cache is keyed by the view's fingerprint: it must not follow string hashing, which differs
    between processes (every file with a view was linted again on each warm run)."""
    import subprocess
    import sys

    program = (
        "from tflint_notes.project.view import Entry, ModuleView\n"
        "view = ModuleView('pkg.m', 'pkg', (('f', Entry('why', frozenset({'a', 'b', 'c', 'd'}))),),\n"
        "                  (('pkg.L', 'keras.layers.Layer'),),\n"
        "                  (('pkg.L', 'call', frozenset({'inputs', 'training', 'mask', 'scale'})),),\n"
        "                  (('pkg.L', frozenset({'call', 'build', 'get_config'})),), ())\n"
        "print(view.fingerprint())\n")
    prints = {subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True,
                             env={**__import__("os").environ, "PYTHONHASHSEED": str(seed)}).stdout
              for seed in range(6)}
    assert len(prints) == 1 and len(next(iter(prints)).strip()) == 24, prints


def test_a_worker_derives_the_facts_of_a_module_it_did_not_parse_unless_the_cache_has_them(tmp_path):
    """`check`'s first pass ships the facts of modules without TensorFlow words (never parsed for linting),
    so the main process does not parse them one after another; when the index's cache holds them, it
    ships nothing (the index reads them there)."""
    import marshal

    from tflint_notes import cli
    from tflint_notes.config import Settings

    (tmp_path / "requirements.txt").write_text("tensorflow==2.21.*\n")
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    helper = package / "helpers.py"
    helper.write_text("def scale(x, factor=2):\n    return x * factor\n")
    cache = tmp_path / "cache"
    job = cli.Job(command="check", diff=False, stdin_filename=None, settings=Settings(root=str(tmp_path)),
                  cache_dir=str(cache))
    first = cli.process_file(str(helper), job)
    assert first.facts is not None and first.facts[0] == "pkg.helpers"
    assert "scale" in marshal.loads(first.facts[1])["functions"]
    again = cli.process_file(str(helper), job)
    assert again.facts is None  # the cache has them now
