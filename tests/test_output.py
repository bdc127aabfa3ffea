"""Output formats and CLI comfort: full, json, github, sarif (schema-validated), statistics, stdin."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap

import jsonschema
import pytest

from fixture_cases import ROOT
from tflint_notes.cli import main

SEED = textwrap.dedent("""\
    import numpy as np
    import tensorflow as tf


    @tf.function
    def augment_data(image_batch):
        image_batch = np.append(image_batch, tf.image.flip_left_right(image_batch), axis=0)
        return np.argmax(image_batch)
    """)


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def seed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "seed.py").write_text(SEED)
    return tmp_path / "seed.py"


def test_full_format_shows_source_caret_and_fix(seed, capsys):
    code, out, _ = run(capsys, "check", "seed.py", "--output-format", "full")
    assert code == 1
    assert "7 |     image_batch = np.append(image_batch" in out
    caret_line = next(line for line in out.splitlines() if line.strip().startswith("|") and "^" in line)
    assert caret_line.index("^") == out.splitlines()[2].index("np.append")
    assert "= safe fix: tf.concat([...], axis=0)" in out
    assert "= unsafe fix (--unsafe-fixes)" in out


def test_json_format(seed, capsys):
    code, out, _ = run(capsys, "check", "seed.py", "--output-format", "json", "-q")
    items = json.loads(out)
    assert code == 1 and [i["code"] for i in items] == ["TFN101", "TFN101"]
    first = items[0]
    assert first["location"] == {"row": 7, "column": 19} and first["filename"] == "seed.py"
    assert first["fix"]["applicability"] == "safe"
    edit = first["fix"]["edits"][0]
    assert edit["content"].startswith("tf.concat([image_batch") and edit["location"] == {"row": 7, "column": 19,
                                                                                          "cell": None}
    assert items[1]["fix"]["applicability"] == "unsafe"


def test_github_format(seed, capsys):
    _, out, _ = run(capsys, "check", "seed.py", "--output-format", "github")
    line = out.splitlines()[0]
    assert line.startswith("::error title=tflint-notes (TFN101),file=seed.py,line=7,col=19,endLine=7,endColumn=")
    assert "::TFN101 np.append() on a tensor" in line


def test_sarif_validates_against_the_official_schema(seed, capsys):
    code, out, _ = run(capsys, "check", "seed.py", "--output-format", "sarif")
    document = json.loads(out)
    schema = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.validate(document, schema)
    run0 = document["runs"][0]
    rule_ids = [r["id"] for r in run0["tool"]["driver"]["rules"]]
    assert "TFN101" in rule_ids
    assert all(r["helpUri"].endswith(f"rules/{r['id']}.md") for r in run0["tool"]["driver"]["rules"])
    first = run0["results"][0]
    assert first["ruleId"] == "TFN101" and rule_ids[first["ruleIndex"]] == "TFN101"
    assert first["locations"][0]["physicalLocation"]["region"]["startLine"] == 7
    replacement = first["fixes"][0]["artifactChanges"][0]["replacements"][0]
    assert replacement["insertedContent"]["text"].startswith("tf.concat(")
    assert replacement["deletedRegion"]["startColumn"] == 19


def test_statistics_and_show_fixes(seed, capsys):
    _, out, _ = run(capsys, "check", "seed.py", "--statistics", "-q")
    assert "     2  TFN101  [*] numpy-on-tensor-in-graph" in out
    code, out, _ = run(capsys, "fix", "seed.py", "--show-fixes")
    assert "Fixed in seed.py: 1 × TFN101" in out


def test_statistics_count_the_files_parsed_with_libcst(seed, capsys, monkeypatch):
    """The screen decides a plain TF file on CPython's AST: only the file with a finding is parsed."""
    (seed.parent / "clean.py").write_text("import tensorflow as tf\n\nx = tf.constant(1.0)\nprint(x + 1)\n")
    (seed.parent / "other.py").write_text("print('no tensorflow here')\n")
    _, out, _ = run(capsys, "check", ".", "--statistics", "-q", "--no-cache")
    assert out.splitlines()[-1] == "3 file(s) checked: 1 parsed with libcst (33.3%), 1 with findings (33.3%)"
    monkeypatch.setenv("TFLINT_NOTES_SCREEN_REPORT", "1")
    (seed.parent / "clean.py").write_text("import tensorflow as tf\n\ny = tf.nn.dropout(tf.ones(3), 0.8)\n")
    _, out, _ = run(capsys, "check", ".", "--statistics", "-q", "--no-cache", "--select", "TFN101,TFN303")
    # 0.8 in TF 2 code is the rate meant (TFN303 wants TF1 traces): decided on the AST, never parsed
    assert "2 parsed" not in out and "TFN303" not in out


def test_stdin_check_and_fix():
    proc = subprocess.run([sys.executable, "-m", "tflint_notes", "check", "--stdin-filename", "pkg/seed.py", "-"],
                          input=SEED, capture_output=True, text=True)
    assert proc.returncode == 1 and proc.stdout.startswith("pkg/seed.py:7:19: TFN101 ")
    proc = subprocess.run([sys.executable, "-m", "tflint_notes", "fix", "--stdin-filename", "seed.py", "-"],
                          input=SEED, capture_output=True, text=True)
    assert "tf.concat([image_batch" in proc.stdout and "np.argmax" in proc.stdout
    assert proc.stdout.count("\n") == SEED.count("\n")  # only the fixed source on stdout
    assert proc.returncode == 1  # the unsafe finding remains


def test_no_colour_unless_tty(seed, capsys):
    _, out, _ = run(capsys, "check", "seed.py")
    assert "\x1b[" not in out


def test_colour_on_tty_and_no_color(seed, monkeypatch):
    from tflint_notes import output

    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert output.use_colour(Tty())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not output.use_colour(Tty())


def test_version_and_module_entry_point():
    proc = subprocess.run([sys.executable, "-m", "tflint_notes", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("tflint-notes ")


def test_rule_all_lists_fix_and_default(capsys):
    code, out, _ = run(capsys, "rule", "--all")
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert " safe/unsafe " in lines["TFN101"] and " on " in lines["TFN101"]
    assert " none " in lines["TFN901"] and " off " in lines["TFN901"]


def test_config_unsafe_fixes_and_unfixable(seed, capsys):
    (seed.parent / "pyproject.toml").write_text('[tool.tflint-notes]\nunsafe-fixes = true\nunfixable = ["TFN1"]\n')
    assert run(capsys, "fix", "seed.py")[0] == 1
    assert seed.read_text() == SEED  # TFN1 unfixable
    (seed.parent / "pyproject.toml").write_text('[tool.tflint-notes]\nunsafe-fixes = true\n')
    assert run(capsys, "fix", "seed.py")[0] == 0
    assert "tf.experimental.numpy.argmax" in seed.read_text()
    (seed.parent / "pyproject.toml").write_text('[tool.tflint-notes]\nunsafe-fixes = "yes"\n')
    code, _, err = run(capsys, "fix", "seed.py")
    assert code == 2 and "unsafe-fixes must be true or false" in err
