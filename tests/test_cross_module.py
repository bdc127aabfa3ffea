"""Cross-module linting: the project index makes one module's findings depend on the others.

A Keras base class in one module makes its subclasses in other modules Keras layers; a `@tf.function` in one
module makes the helpers it calls in other modules graph code; a Keras layer of the project is checked against
its own `__init__`/`call` keywords where it is used.  Here the fixture projects fixtures/projects/xmod_* are
linted the ways users lint them (the whole project, one file of it, worker processes, files in another
order, the flake8 plugin on one file) and every way must give the same findings for a file; and projects
the index cannot fully read (import cycles, a module that does not parse, star imports, two classes of one
name, a namespace package, `sys.path` tricks) never crash the linter and report nothing from a base class
that cannot be resolved.  Every run is a subprocess of the real CLI or flake8, so no in-memory state is
shared between the ways being compared.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECTS = ROOT / "fixtures" / "projects"
XMOD = sorted(p for p in PROJECTS.glob("xmod_*") if p.is_dir())
_MARK = re.compile(r"#\s*expect:\s*(TFN\d{3})")
_FLAKE8_LINE = re.compile(r"^(?P<path>.*?):(?P<row>\d+):(?P<col>\d+): (?P<code>TFN\d{3}) (?P<message>.*)$")
REQUIREMENTS = "tensorflow==2.21.*\n"


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, NO_COLOR="1", PYTHONDONTWRITEBYTECODE="1"))
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout, proc.stderr[-4000:]
    return proc


def check(root: Path, *paths: str, extra: tuple[str, ...] = (),
          statuses=(0, 1)) -> tuple[set, subprocess.CompletedProcess]:
    """`tflint-notes check` run from `root`: {(path relative to root, row, column, code, message)}."""
    proc = _run([sys.executable, "-m", "tflint_notes", "check", "--no-cache", "--output-format", "json", *extra,
                 *paths], root)
    assert proc.returncode in statuses, (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
    found = set()
    for item in json.loads(proc.stdout or "[]"):
        absolute = (root / item["filename"]).resolve()
        try:
            path = absolute.relative_to(root.resolve()).as_posix()
        except ValueError:  # a file outside the folder the check runs from
            path = absolute.as_posix()
        found.add((path, item["location"]["row"], item["location"]["column"], item["code"], item["message"]))
    return found, proc


def flake8(root: Path, path: str) -> set:
    """The flake8 plugin on one file, run from the project's root, as an editor or pre-commit runs it."""
    proc = _run([sys.executable, "-m", "flake8", "--select", "TFN", path], root)
    assert proc.returncode in (0, 1), (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
    found = set()
    for line in proc.stdout.splitlines():
        match = _FLAKE8_LINE.match(line)
        assert match, line
        found.add((Path(os.path.normpath(match["path"])).as_posix(), int(match["row"]), int(match["col"]),
                   match["code"], match["message"]))
    return found


def expected_marks(root: Path) -> dict[str, set]:
    """{path relative to root: {(row, code)}} of the `# expect: TFNxxx` marks."""
    marks: dict[str, set] = {}
    for path in sorted(root.rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for code in _MARK.findall(line):
                marks.setdefault(path.relative_to(root).as_posix(), set()).add((number, code))
    return marks


def of_file(found: set, path: str) -> set:
    return {item for item in found if item[0] == path}


def line_of(path: Path, text: str) -> int:
    lines = [n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line]
    assert len(lines) == 1, (path, text, lines)
    return lines[0]


def write_project(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "requirements.txt").write_text(REQUIREMENTS, encoding="utf-8")
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


@pytest.fixture(params=XMOD, ids=lambda p: p.name)
def project(request, tmp_path) -> Path:
    """A copy of the fixture project (no cache or bytecode written into the repository)."""
    copy = tmp_path / request.param.name
    shutil.copytree(request.param, copy, ignore=shutil.ignore_patterns("__pycache__", ".tflint_notes_cache"))
    return copy


def test_every_way_of_linting_gives_the_same_findings(project: Path):
    marks = expected_marks(project)
    assert marks, "the project marks no expected finding"
    whole, _ = check(project, ".")
    jobs, _ = check(project, ".", extra=("-j", "2"))
    files = sorted(p.relative_to(project).as_posix() for p in project.rglob("*.py"))
    backwards, _ = check(project, *reversed(files))
    assert {(path, row, code) for path, row, _, code, _ in whole} == {
        (path, row, code) for path, found in marks.items() for row, code in found}
    assert jobs == whole, "check -j 2 differs from check"
    assert backwards == whole, "check with the files in reverse order differs from check of the folder"
    for path in sorted(marks):
        alone, _ = check(project, path)
        assert alone == of_file(whole, path), f"check {path} alone differs from check of the project"
        assert flake8(project, path) == of_file(whole, path), f"flake8 on {path} differs from check of the project"


@pytest.mark.parametrize("module", ["trainkit/helpers.py", "trainkit/utils.py"])
def test_one_module_alone_sees_its_callers_in_the_other_modules(tmp_path: Path, module: str):
    """Checked by itself (from a folder outside the project, by absolute path) a helper module still knows the
    tf.function of train.py that makes it graph code."""
    copy = tmp_path / "xmod_graph_helper"
    shutil.copytree(PROJECTS / "xmod_graph_helper", copy, ignore=shutil.ignore_patterns("__pycache__"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    found, _ = check(elsewhere, str(copy / module))
    assert {(row, code) for _, row, _, code, _ in found} == expected_marks(copy)[module]


def test_messages_name_the_caller_in_the_other_module():
    root = PROJECTS / "xmod_graph_helper"
    found, _ = check(root, ".")
    train, utils = root / "trainkit" / "train.py", root / "trainkit" / "utils.py"
    by_line = {(path, row): message for path, row, _, code, message in found if code == "TFN101"}

    normalize = by_line[("trainkit/utils.py", line_of(utils, "norm = np.sqrt("))]
    call = line_of(train, "features = normalize(batch)")
    assert re.search(rf"`?train_step`?.*\btrain\.py:{call}\b", normalize), normalize
    assert "@tf.function" in normalize, normalize

    softplus = by_line[("trainkit/helpers.py", line_of(root / "trainkit" / "helpers.py", "np.log(1.0 + np.exp(x))"))]
    call = line_of(utils, "return helpers.softplus(x)")
    assert re.search(rf"`?smooth`?.*\butils\.py:{call}\b", softplus), softplus


def test_cached_result_follows_a_change_in_another_module(tmp_path: Path):
    """A file's cached result is not reused when the module that makes its class a Keras layer changes."""
    copy = tmp_path / "xmod_layer_base"
    shutil.copytree(PROJECTS / "xmod_layer_base", copy, ignore=shutil.ignore_patterns("__pycache__"))
    cache = ("--cache-dir", str(tmp_path / "cache"))
    blocks = "layerkit/blocks.py"
    first, _ = _cached_check(copy, cache, blocks)
    assert {code for *_, code, _ in first} == {"TFN201"}
    again, _ = _cached_check(copy, cache, blocks)
    assert again == first
    base = copy / "layerkit" / "base.py"
    base.write_text(base.read_text(encoding="utf-8").replace("(tf.keras.layers.Layer)", "(object)"), encoding="utf-8")
    after, _ = _cached_check(copy, cache, blocks)
    assert after == set(), "the cached TFN201 survived: BaseBlock is no Keras layer any more"


def _cached_check(root: Path, cache: tuple[str, str], path: str):
    proc = _run([sys.executable, "-m", "tflint_notes", "check", "--output-format", "json", *cache, path], root)
    assert proc.returncode in (0, 1), proc.stderr
    return {(item["location"]["row"], item["location"]["column"], item["code"], item["message"])
            for item in json.loads(proc.stdout or "[]")}, proc


# -- projects the index cannot fully read --

SCALE_IN_CALL = """
    class Scale({base}):
        def call(self, inputs):
            self.gamma = self.add_weight(name="gamma", shape=(inputs.shape[-1],), initializer="ones")
            return inputs * self.gamma
"""


def _scale(header: str, base: str) -> str:
    return textwrap.dedent(header).lstrip("\n") + "\n\n" + textwrap.dedent(SCALE_IN_CALL.format(base=base))


KERAS_BASE = """
    import tensorflow as tf


    class BaseBlock(tf.keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
"""


def test_import_cycles_end_and_report_nothing(tmp_path: Path):
    root = write_project(tmp_path / "cycles", {
        "cyc/__init__.py": "from .reexport import Mid\n",
        # two classes deriving from each other through two modules that import each other
        "cyc/left.py": _scale("import tensorflow as tf\n\nfrom .right import Right", "Right"),
        "cyc/right.py": """
            import tensorflow as tf

            from .left import Scale


            class Right(Scale):
                def call(self, inputs):
                    self.v = tf.Variable(1.0)
                    return inputs * self.v
        """,
        # a re-export that points back at itself: __init__ takes Mid from reexport, which takes it from __init__
        "cyc/reexport.py": _scale("import tensorflow as tf\n\nfrom cyc import Mid", "Mid"),
        # graph code that calls back and forth between two modules that import each other
        "cyc/ping.py": """
            import numpy as np
            import tensorflow as tf

            from . import pong


            @tf.function
            def start(x):
                return ping(x, 3)


            def ping(x, depth):
                return x if depth == 0 else pong.pong(x * 2.0, depth - 1)


            def table():
                return np.arange(3)
        """,
        "cyc/pong.py": """
            import tensorflow as tf

            from . import ping


            def pong(x, depth):
                return ping.ping(tf.add(x, 1.0), depth) + float(ping.table()[0])
        """,
    })
    found, proc = check(root, ".")
    assert found == set(), found
    assert proc.returncode == 0
    for path in ("cyc/left.py", "cyc/right.py", "cyc/reexport.py"):
        assert flake8(root, path) == set()


def test_module_that_does_not_parse(tmp_path: Path):
    root = write_project(tmp_path / "broken", {
        "app/__init__.py": "",
        "app/base.py": "import tensorflow as tf\n\n\nclass BaseBlock(tf.keras.layers.Layer:\n    pass\n",
        "app/blocks.py": _scale("import tensorflow as tf\n\nfrom .base import BaseBlock", "BaseBlock"),
        "app/train.py": """
            import tensorflow as tf

            from .base import normalize


            @tf.function
            def step(x):
                return normalize(x)
        """,
    })
    found, proc = check(root, "app/blocks.py", "app/train.py", statuses=(0,))
    assert found == set()
    assert flake8(root, "app/blocks.py") == set()
    # the whole project: the syntax error is one clear line about base.py (exit 2), the others are still checked
    found, proc = check(root, ".", statuses=(2,))
    assert found == set()
    errors = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len([line for line in errors if "base.py" in line]) == 1, proc.stderr
    assert not [line for line in errors if "blocks.py" in line or "train.py" in line], proc.stderr


def test_star_import_of_a_keras_base_is_unknown(tmp_path: Path):
    root = write_project(tmp_path / "star", {
        "app/__init__.py": "",
        "app/base.py": KERAS_BASE,
        "app/blocks.py": _scale("import tensorflow as tf\n\nfrom .base import *  # noqa: F403", "BaseBlock"),
        "app/helpers.py": """
            import numpy as np


            def norm(x):
                return np.sqrt(np.sum(x * x))
        """,
        "app/train.py": """
            import tensorflow as tf

            from .helpers import *  # noqa: F403


            @tf.function
            def step(x):
                return norm(x)  # noqa: F405
        """,
    })
    found, proc = check(root, ".")
    assert found == set(), found
    assert proc.returncode == 0
    assert flake8(root, "app/blocks.py") == set()


def test_two_classes_of_one_name_are_not_confused(tmp_path: Path):
    """`Block` is a Keras layer in keras_blocks.py and a plain class in plain_blocks.py: each subclass follows its
    own import; a name bound to one or the other depending on an ImportError is unknown."""
    root = write_project(tmp_path / "same_name", {
        "app/__init__.py": "",
        "app/keras_blocks.py": """
            import tensorflow as tf


            class Block(tf.keras.layers.Layer):
                pass
        """,
        "app/plain_blocks.py": """
            import tensorflow as tf


            class Block:
                def add_weight(self, **kwargs):
                    return tf.Variable(1.0)
        """,
        "app/uses_plain.py": _scale("import tensorflow as tf\n\nfrom .plain_blocks import Block", "Block"),
        "app/uses_either.py": _scale("""
            import tensorflow as tf

            try:
                from .keras_blocks import Block
            except ImportError:
                from .plain_blocks import Block
        """, "Block"),
        "app/uses_keras.py": _scale("import tensorflow as tf\n\nfrom .keras_blocks import Block", "Block"),
    })
    found, _ = check(root, ".")
    weight_line = line_of(root / "app" / "uses_keras.py", "self.gamma = self.add_weight(")
    assert {(path, row, code) for path, row, _, code, _ in found} == {("app/uses_keras.py", weight_line, "TFN201")}
    assert flake8(root, "app/uses_plain.py") == set()
    assert flake8(root, "app/uses_either.py") == set()


def test_namespace_package_without_init(tmp_path: Path):
    """Python imports a folder without __init__.py as a namespace package, so `ns.base.BaseBlock` is the Keras
    base there too: the subclasses in its sibling modules are Keras layers, whichever import they use."""
    root = write_project(tmp_path / "namespace", {
        "ns/base.py": KERAS_BASE,
        "ns/absolute.py": _scale("import tensorflow as tf\n\nfrom ns.base import BaseBlock", "BaseBlock"),
        "ns/relative.py": _scale("import tensorflow as tf\n\nfrom .base import BaseBlock", "BaseBlock"),
    })
    found, proc = check(root, ".")
    expected = {(f"ns/{name}.py", line_of(root / "ns" / f"{name}.py", "self.gamma = self.add_weight("), "TFN201")
                for name in ("absolute", "relative")}
    assert {(path, row, code) for path, row, _, code, _ in found} == expected
    assert flake8(root, "ns/relative.py") == of_file(found, "ns/relative.py")


def test_sys_path_tricks_make_imports_unknown(tmp_path: Path):
    """app.py puts vendor/ first on sys.path, so `from base import BaseBlock` is vendor/base.py's plain class at run
    time, not the Keras base.py of the project root: the linter cannot know which, so it says nothing."""
    root = write_project(tmp_path / "syspath", {
        "base.py": KERAS_BASE,
        "vendor/base.py": """
            class BaseBlock:
                def add_weight(self, **kwargs):
                    return 1.0
        """,
        "app.py": _scale("""
            import os
            import sys

            import tensorflow as tf

            sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "vendor"))

            from base import BaseBlock  # noqa: E402
        """, "BaseBlock"),
        "vendored_tools.py": """
            import sys

            import tensorflow as tf

            sys.path.insert(0, "/opt/tools")
            from helpers import normalize  # noqa: E402


            @tf.function
            def step(x):
                return normalize(x)
        """,
        "helpers.py": """
            import numpy as np


            def normalize(x):
                return x / np.sqrt(np.sum(x * x))
        """,
    })
    found, proc = check(root, ".")
    assert found == set(), found
    assert proc.returncode == 0
    assert flake8(root, "app.py") == set()


@pytest.mark.parametrize("project", XMOD, ids=lambda p: p.name)
def test_a_check_over_unchanged_modules_lints_once_with_the_packed_views(tmp_path: Path, project: Path,
                                                                        monkeypatch, capsys):
    """The second `check` of an unchanged project takes the views the first one packed and lints each file
    once with its view (no first pass without views, no second pool): the same findings."""
    from tflint_notes import cli

    copy = tmp_path / project.name
    shutil.copytree(project, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.chdir(copy)
    argv = ["check", "--output-format", "json", "--cache-dir", str(tmp_path / "cache"), "."]
    passes = []
    real = cli._run_pass
    monkeypatch.setattr(cli, "_run_pass", lambda tasks, *rest: passes.append(tasks) or real(tasks, *rest))

    def findings():
        passes.clear()
        cli.main(argv)
        return sorted((i["filename"], i["location"]["row"], i["code"]) for i in json.loads(capsys.readouterr().out))

    first = findings()
    assert len(passes) == 2 and first  # the fixture projects report across modules: a second pass ran
    again = findings()
    assert again == first
    assert len(passes) == 1 and all(view is not None for _, view in passes[0])
