"""Never crash, never corrupt: hostile inputs, rule isolation, static-only reading, file safety."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from tflint_notes import cli
from tflint_notes.cli import main
from tflint_notes.engine import Linter, fix_text
from tflint_notes.rule import REGISTRY, Rule

SEED = textwrap.dedent("""\
    import numpy as np
    import tensorflow as tf


    @tf.function
    def augment_data(image_batch):
        image_batch = np.append(image_batch, tf.image.flip_left_right(image_batch), axis=0)
        return image_batch
    """)
FIXED_LINE = "image_batch = tf.concat([image_batch, tf.image.flip_left_right(image_batch)], axis=0)"


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def tmp_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --- hostile and unusual input: a clear per-file message, the run continues, exit 2 ------------

HOSTILE = {
    "syntax.py": (b"import tensorflow, numpy\ndef f(:\n", "syntax error"),
    "nul.py": (b"import tensorflow\x00\n", "NUL byte"),
    "badutf8.py": (b"import tensorflow, numpy\nx = '\xff\xfe'\n", "not valid utf-8"),
    "binary.py": (bytes(range(256)) * 4, "error"),
    "deep.py": (b"import tensorflow, numpy\nx = " + b"(" * 5000 + b"1" + b")" * 5000 + b"\n", "error"),
    "chain.py": (b"import tensorflow, numpy\nx = " + b" + ".join([b"a"] * 50000) + b"\n", "nesting too deep"),
    "cookie.py": (b"# -*- coding: klingon -*-\nimport tensorflow\n", "encoding"),
}


def test_hostile_inputs_are_reported_and_the_run_continues(tmp_cwd, capsys):
    for name, (data, _) in HOSTILE.items():
        (tmp_cwd / name).write_bytes(data)
    (tmp_cwd / "seed.py").write_text(SEED)
    code, out, err = run(capsys, "check", ".")
    assert code == 2
    assert "Traceback" not in err
    for name, (_, expected) in HOSTILE.items():
        line = next((l for l in err.splitlines() if l.startswith(name)), "")
        assert expected in line, (name, err)
    assert "seed.py:7:19: TFN101" in out


def test_unusual_but_valid_files_are_linted(tmp_cwd, capsys):
    files = {
        "empty.py": b"",
        "latin.py": b"# -*- coding: latin-1 -*-\n# caf\xe9\n" + SEED.encode(),
        "bom.py": b"\xef\xbb\xbf" + SEED.encode(),
        "crlf.py": SEED.replace("\n", "\r\n").encode(),
        "cr.py": SEED.replace("\n", "\r").encode(),
        "tabs.py": SEED.replace("    ", "\t").encode(),
        "big.py": (SEED + "".join(f"def f{i}(x):\n    return x + {i}\n" for i in range(10000))).encode(),
    }
    for name, data in files.items():
        (tmp_cwd / name).write_bytes(data)
    code, out, err = run(capsys, "check", *files)
    assert err == "" and code == 1
    flagged = sorted(line.split(":")[0] for line in out.splitlines() if "TFN101" in line)
    assert flagged == sorted(n for n in files if n != "empty.py")
    assert run(capsys, "fix", *files)[0] == 0
    assert (tmp_cwd / "crlf.py").read_bytes() == SEED.replace("np.append(image_batch, tf.image.flip_left_right("
                                                             "image_batch), axis=0)", FIXED_LINE.split(" = ")[1]
                                                             ).replace("\n", "\r\n").encode()
    assert (tmp_cwd / "cr.py").read_bytes().count(b"\r") == SEED.count("\n") and b"\n" not in (
        tmp_cwd / "cr.py").read_bytes()
    assert (tmp_cwd / "bom.py").read_bytes().startswith(b"\xef\xbb\xbf")
    assert (tmp_cwd / "latin.py").read_bytes().startswith(b"# -*- coding: latin-1 -*-\n# caf\xe9\n")
    assert b"\ttf.concat" not in (tmp_cwd / "tabs.py").read_bytes() and b"\timage_batch = tf.concat" in (
        tmp_cwd / "tabs.py").read_bytes()


def test_unreadable_and_vanished_files(tmp_cwd, capsys, monkeypatch):
    (tmp_cwd / "seed.py").write_text(SEED)
    (tmp_cwd / "secret.py").write_text(SEED)
    real_open = open

    def guarded_open(path, *args, **kwargs):
        if str(path).endswith("secret.py"):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", guarded_open)
    real_discover = cli.discover

    def discover_then_delete(*args, **kwargs):
        found = real_discover(*args, **kwargs)
        (tmp_cwd / "gone.py").unlink()  # deleted between discovery and reading
        return found

    (tmp_cwd / "gone.py").write_text(SEED)
    monkeypatch.setattr(cli, "discover", discover_then_delete)
    code, out, err = run(capsys, "check", ".")
    assert code == 2
    assert "secret.py: error: cannot read: Permission denied" in err
    assert "gone.py: error: no such file" in err
    assert "seed.py:7:19: TFN101" in out


def test_directory_symlink_loop_and_dangling_link(tmp_cwd, capsys):
    (tmp_cwd / "pkg").mkdir()
    (tmp_cwd / "pkg" / "seed.py").write_text(SEED)
    os.symlink(tmp_cwd / "pkg", tmp_cwd / "pkg" / "loop")
    os.symlink(tmp_cwd / "nowhere.py", tmp_cwd / "dangling.py")
    code, out, err = run(capsys, "check", ".")
    assert code == 2 and "dangling.py: error: no such file" in err
    assert out.count("TFN101") == 1


# --- file safety on fix ----------------------------------------------------------------------


def test_read_only_file_is_not_written(tmp_cwd, capsys):
    path = tmp_cwd / "ro.py"
    path.write_text(SEED)
    os.chmod(path, 0o444)
    code, _, err = run(capsys, "fix", "ro.py")
    assert code == 2 and "ro.py: error: file is read-only; not written" in err
    assert path.read_text() == SEED


def test_symlinked_file_is_fixed_through_the_link(tmp_cwd, capsys):
    (tmp_cwd / "real.py").write_text(SEED)
    os.symlink("real.py", tmp_cwd / "link.py")
    assert run(capsys, "fix", "link.py")[0] == 0
    assert os.path.islink(tmp_cwd / "link.py")
    assert FIXED_LINE in (tmp_cwd / "real.py").read_text()


def test_file_changed_after_reading_is_not_overwritten(tmp_cwd, capsys, monkeypatch):
    path = tmp_cwd / "seed.py"
    path.write_text(SEED)
    real_fix = cli.fix_text

    def fix_then_edit(*args, **kwargs):
        outcome = real_fix(*args, **kwargs)
        path.write_text(SEED + "# edited meanwhile\n")
        return outcome

    monkeypatch.setattr(cli, "fix_text", fix_then_edit)
    code, _, err = run(capsys, "fix", "seed.py")
    assert code == 2 and "changed on disk" in err
    assert path.read_text().endswith("# edited meanwhile\n")


def test_check_never_writes(tmp_cwd, capsys):
    (tmp_cwd / "seed.py").write_text(SEED)

    def snapshot():
        return {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in tmp_cwd.iterdir() if p.is_file()}

    before = snapshot()
    run(capsys, "check", ".", "--output-format", "full")
    run(capsys, "check", ".", "--no-cache")
    assert snapshot() == before  # only the result cache directory may appear


def test_concurrent_fix_runs_never_lose_or_interleave_content(tmp_path):
    for i in range(40):
        (tmp_path / f"m{i}.py").write_text(SEED + f"# file {i}\n" + "x = 1\n" * 200)
    command = [sys.executable, "-m", "tflint_notes", "fix", "--isolated", "-q", str(tmp_path)]
    procs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(3)]
    for proc in procs:
        proc.communicate(timeout=300)
        assert proc.returncode in (0, 2)  # 2: a file the other run had just fixed was skipped, as it should be
    for i in range(40):
        text = (tmp_path / f"m{i}.py").read_text()
        expected = SEED.replace("np.append(image_batch, tf.image.flip_left_right(image_batch), axis=0)",
                                FIXED_LINE.split(" = ")[1]) + f"# file {i}\n" + "x = 1\n" * 200
        assert text == expected
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tflint-notes-")]


# --- static only -----------------------------------------------------------------------------


def test_linted_code_is_never_executed(tmp_cwd, capsys):
    marker = tmp_cwd / "EXECUTED"
    (tmp_cwd / "evil.py").write_text(f"import tensorflow as tf\nimport numpy as np\n"
                                     f"open({str(marker)!r}, 'w').write('x')\n" + SEED)
    run(capsys, "check", "evil.py")
    run(capsys, "fix", "evil.py", "--unsafe-fixes")
    assert not marker.exists()


# --- isolation: a rule that raises -------------------------------------------------------------


@pytest.fixture
def failing_rule():
    class Exploding(Rule):
        code = "TFN999"
        name = "exploding"
        summary = "raises on every call"

        def visit_Call(self, node):
            raise ZeroDivisionError("boom")

    yield Exploding
    REGISTRY.pop("TFN999", None)


def test_failing_rule_is_reported_and_others_still_run(tmp_cwd, capsys, failing_rule):
    linter = Linter(["TFN101", "TFN999"])
    result = linter.lint(SEED)
    assert [d.code for d in result.diagnostics] == ["TFN101"]
    assert [e.code for e in result.internal_errors] == ["TFN999"]
    assert "please report it" in result.internal_errors[0].describe()
    assert FIXED_LINE in fix_text(linter, SEED).text
    (tmp_cwd / "a.py").write_text(SEED)
    (tmp_cwd / "b.py").write_text(SEED)
    code, out, err = run(capsys, "check", "a.py", "b.py", "--select", "TFN101,TFN999")
    assert code == 2 and out.count("TFN101") == 2
    assert "a.py: error: internal error in rule TFN999: ZeroDivisionError: boom" in err
    assert "b.py: error: internal error in rule TFN999" in err


def test_failing_rule_under_flake8(tmp_cwd, failing_rule):
    from flake8.api import legacy

    from tflint_notes.flake8_plugin import TFLintNotesChecker

    (tmp_cwd / "a.py").write_text(SEED)
    TFLintNotesChecker._linter = Linter(["TFN101", "TFN999"])
    try:
        guide = legacy.get_style_guide(select=["TFN"])
        guide.options.jobs = type("Jobs", (), {"is_auto": False, "n_jobs": 1})()
        report = guide.check_files(["a.py"])
        codes = sorted(report.get_statistics("TFN"))
    finally:
        TFLintNotesChecker._linter = None
    assert any(c.startswith("1 TFN000") and "TFN999" in c for c in codes), codes
    assert any(c.startswith("1 TFN101") for c in codes), codes
