"""The `tflint-notes` command: exit codes, output, config, noqa, fix safety on disk."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap

import pytest

from tflint_notes.cli import main

SEED = textwrap.dedent("""\
    import numpy as np
    import tensorflow as tf


    @tf.function
    def augment_data(image_batch):
        image_batch = np.append(image_batch, tf.image.flip_left_right(image_batch), axis=0)
        return image_batch
    """)
SEED_FIXED = SEED.replace("np.append(image_batch, tf.image.flip_left_right(image_batch), axis=0)",
                          "tf.concat([image_batch, tf.image.flip_left_right(image_batch)], axis=0)")
UNSAFE_ONLY = textwrap.dedent("""\
    import numpy as np
    import tensorflow as tf


    @tf.function
    def f(x):
        return np.argmax(x)
    """)


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_check_exit_codes_and_format(project, capsys):
    (project / "seed.py").write_text(SEED)
    (project / "clean.py").write_text("import tensorflow as tf\nx = tf.constant(1)\n")
    code, out, _ = run(capsys, "check", "clean.py")
    assert code == 0 and "All checks passed" in out
    code, out, _ = run(capsys, "check", "seed.py")
    assert code == 1
    assert out.splitlines()[0] == ("seed.py:7:19: TFN101 np.append() on a tensor inside @tf.function fails at "
                                   "trace time; use tf.concat([...], axis=0)")
    assert "1 fixable" in out
    code, _, _ = run(capsys, "check", "seed.py", "--exit-zero")
    assert code == 0


def test_check_directory_recurses_and_excludes(project, capsys):
    (project / "pkg" / "sub").mkdir(parents=True)
    (project / "pkg" / "sub" / "a.py").write_text(SEED)
    (project / "pkg" / "notes.txt").write_text(SEED)
    (project / ".venv").mkdir()
    (project / ".venv" / "b.py").write_text(SEED)
    code, out, _ = run(capsys, "check", ".", "-q")
    assert code == 1
    assert [line.split(":")[0] for line in out.splitlines()] == ["pkg/sub/a.py"]


def test_missing_path_syntax_error_and_bad_encoding_are_errors_not_tracebacks(project, capsys):
    (project / "broken.py").write_text("import tensorflow as tf\nimport numpy\ndef f(:\n")
    (project / "latin.py").write_bytes(b"import tensorflow, numpy\nx = '\xff'\n")
    (project / "seed.py").write_text(SEED)
    code, out, err = run(capsys, "check", "missing.py", "broken.py", "latin.py", "seed.py")
    assert code == 2
    assert "missing.py: error: no such file or directory" in err
    assert "broken.py:3:" in err and "syntax error" in err
    assert "latin.py: error: not valid utf-8" in err
    assert "Traceback" not in err
    assert "seed.py:7:19: TFN101" in out  # the other files are still checked


def test_select_ignore_prefixes(project, capsys):
    (project / "seed.py").write_text(SEED)
    assert run(capsys, "check", "seed.py", "--ignore", "TFN1")[0] == 0
    assert run(capsys, "check", "seed.py", "--select", "TFN1")[0] == 1
    assert run(capsys, "check", "seed.py", "--select", "TFN101", "--ignore", "TFN10")[0] == 0
    code, _, err = run(capsys, "check", "seed.py", "--select", "E501")
    assert code == 2 and "unknown rule selector" in err


def test_noqa_in_check_and_fix(project, capsys):
    text = SEED.replace("axis=0)\n", "axis=0)  # noqa: TFN101\n")
    (project / "seed.py").write_text(text)
    assert run(capsys, "check", "seed.py")[0] == 0
    assert run(capsys, "fix", "seed.py")[0] == 0
    assert (project / "seed.py").read_text() == text
    (project / "seed.py").write_text(SEED.replace("axis=0)\n", "axis=0)  # NOQA\n"))
    assert run(capsys, "check", "seed.py")[0] == 0
    (project / "seed.py").write_text(SEED.replace("axis=0)\n", "axis=0)  # noqa: E501\n"))
    assert run(capsys, "check", "seed.py")[0] == 1
    (project / "seed.py").write_text("# flake8: noqa\n" + SEED)
    assert run(capsys, "check", "seed.py")[0] == 0


def test_pyproject_config(project, capsys):
    (project / "src").mkdir()
    (project / "src" / "seed.py").write_text(SEED)
    (project / "src" / "gen.py").write_text(SEED)
    (project / "pyproject.toml").write_text(textwrap.dedent("""\
        [tool.tflint-notes]
        exclude = ["gen.py"]
        per-file-ignores = { "src/seed.py" = ["TFN101"] }
        """))
    assert run(capsys, "check", "src")[0] == 0
    (project / "pyproject.toml").write_text('[tool.tflint-notes]\nignore = ["TFN1"]\n')
    assert run(capsys, "check", "src")[0] == 0
    assert run(capsys, "check", "src", "--isolated")[0] == 1


@pytest.mark.parametrize("bad, message", [
    ('[tool.tflint-notes]\nselect = "TFN101"\n', "must be a list of strings"),
    ('[tool.tflint-notes]\nselect = ["XYZ1"]\n', "unknown rule selector"),
    ('[tool.tflint-notes]\nslect = ["TFN1"]\n', "unknown option(s)"),
    ('[tool.tflint-notes]\nper-file-ignores = ["x"]\n', "per-file-ignores must be a table"),
    ('[tool.tflint-notes\n', "invalid TOML"),
])
def test_bad_config_is_a_clear_error(project, capsys, bad, message):
    (project / "seed.py").write_text(SEED)
    (project / "cfg.toml").write_text(bad)
    code, _, err = run(capsys, "check", "seed.py", "--config", "cfg.toml")
    assert code == 2 and message in err and "Traceback" not in err


def test_fix_writes_and_reports(project, capsys):
    path = project / "seed.py"
    path.write_text(SEED)
    os.chmod(path, 0o640)
    code, out, _ = run(capsys, "fix", "seed.py")
    assert code == 0 and "Fixed 1 finding(s) in 1 file(s)" in out
    assert path.read_text() == SEED_FIXED
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert not [p for p in project.iterdir() if p.name.startswith(".tflint-notes-")]
    mtime = os.stat(path).st_mtime_ns
    assert run(capsys, "fix", "seed.py")[0] == 0
    assert os.stat(path).st_mtime_ns == mtime  # unchanged files are not rewritten


def test_fix_diff_writes_nothing(project, capsys):
    (project / "seed.py").write_text(SEED)
    code, out, _ = run(capsys, "fix", "--diff", "seed.py")
    assert code == 1
    assert (project / "seed.py").read_text() == SEED
    assert "-    image_batch = np.append(" in out and "+    image_batch = tf.concat([" in out


def test_unsafe_fixes_are_withheld_and_counted(project, capsys):
    (project / "u.py").write_text(UNSAFE_ONLY)
    code, out, _ = run(capsys, "fix", "u.py")
    assert code == 1 and "1 unsafe fix(es) withheld" in out
    assert (project / "u.py").read_text() == UNSAFE_ONLY
    code, out, _ = run(capsys, "fix", "u.py", "--unsafe-fixes")
    assert code == 0
    assert "return tf.experimental.numpy.argmax(x)" in (project / "u.py").read_text()


def test_fix_keeps_crlf_bom_and_latin1(project, capsys):
    crlf = project / "crlf.py"
    crlf.write_bytes(b"\xef\xbb\xbf" + SEED.replace("\n", "\r\n").encode())
    latin = project / "latin.py"
    latin.write_bytes(b"# -*- coding: latin-1 -*-\n# caf\xe9\n" + SEED.encode())
    assert run(capsys, "fix", "crlf.py", "latin.py")[0] == 0
    assert crlf.read_bytes() == b"\xef\xbb\xbf" + SEED_FIXED.replace("\n", "\r\n").encode()
    assert latin.read_bytes() == b"# -*- coding: latin-1 -*-\n# caf\xe9\n" + SEED_FIXED.encode()


def test_fix_adds_tensorflow_import_only_when_missing(project, capsys):
    src = textwrap.dedent('''\
        """Doc."""
        from numpy import stack
        from tensorflow import function as tf_function


        @tf_function
        def f(a, b):
            return stack([a, b])
        ''')
    (project / "m.py").write_text(src)
    assert run(capsys, "fix", "m.py")[0] == 0
    assert (project / "m.py").read_text() == src.replace(
        "from tensorflow import function as tf_function\n",
        "from tensorflow import function as tf_function\nimport tensorflow as tf\n").replace(
        "return stack(", "return tf.stack(")


def test_overlapping_fixes_all_land(project, capsys):
    src = SEED.replace("image_batch = np.append(image_batch, tf.image.flip_left_right(image_batch), axis=0)",
                       "image_batch = np.exp(np.square(np.abs(image_batch)))")
    (project / "n.py").write_text(src)
    assert run(capsys, "fix", "n.py")[0] == 0
    assert "image_batch = tf.exp(tf.square(tf.abs(image_batch)))" in (project / "n.py").read_text()


def test_rule_docs_command(capsys):
    code, out, _ = run(capsys, "rule", "TFN101")
    assert code == 0 and out.startswith("# TFN101 numpy-on-tensor-in-graph")
    code, out, _ = run(capsys, "rule", "--all")
    assert code == 0 and "TFN101" in out
    assert run(capsys, "rule", "TFN999")[0] == 2


def test_console_script_runs(tmp_path):
    (tmp_path / "seed.py").write_text(SEED)
    proc = subprocess.run([sys.executable, "-m", "tflint_notes", "check", str(tmp_path)],
                          capture_output=True, text=True)
    assert proc.returncode == 1 and "TFN101" in proc.stdout, proc.stderr


def test_compiled_exclude_patterns_match_as_fnmatch_one_at_a_time(tmp_path):
    """`Settings.is_excluded` compiles the patterns once; it must answer as matching each pattern with fnmatch
    against every path component and against the path relative to the configuration (`tests/`-style prefixes
    and `*/`-anchored forms included)."""
    import fnmatch
    import itertools

    from tflint_notes.config import Settings

    def reference(settings, path, walk_root):
        below = os.path.relpath(path, walk_root).replace(os.sep, "/")
        parts = [] if below == "." else below.split("/")
        rel = os.path.relpath(path, settings.root).replace(os.sep, "/")
        for pattern in settings.exclude:
            if any(fnmatch.fnmatchcase(part, pattern) for part in parts):
                return True
            stripped = pattern.rstrip("/")
            if not rel.startswith("../") and (fnmatch.fnmatchcase(rel, stripped) or rel.startswith(stripped + "/")
                                              or fnmatch.fnmatchcase(rel, "*/" + stripped)):
                return True
        return False

    patterns = ["tests/", "*_test.py", "build", "src/gen/*.py", "[ab]*.py", "**/x.py", "a?c", "docs"]
    paths = ["tests/t.py", "src/a_test.py", "build/x.py", "src/gen/g.py", "src/gen/deep/g.py", "bc.py", "abc",
             "pkg/x.py", "docs/conf.py", "pkgdocs/x.py", "ok.py", "../outside/tests/t.py"]
    checked = 0
    for size in (0, 1, 2, 3):
        for chosen in itertools.combinations(patterns, size):
            settings = Settings(root=tmp_path, exclude=list(chosen))
            for rel in paths:
                path = str(tmp_path / rel)
                for walk_root in (str(tmp_path), str(tmp_path / "src")):
                    assert settings.is_excluded(path, walk_root) == reference(settings, path, walk_root), (chosen, rel)
                    checked += 1
    assert checked > 1000
