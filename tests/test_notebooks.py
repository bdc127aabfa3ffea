"""Jupyter notebooks: linted as one program, fixed cell by cell, JSON otherwise byte-identical."""

from __future__ import annotations

import json
import shutil

import pytest

from fixture_cases import FIXTURES
from tflint_notes.cli import main

BEFORE = FIXTURES / "notebooks" / "augment_before.ipynb"
AFTER = FIXTURES / "notebooks" / "augment_after.ipynb"


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def notebook(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copy(BEFORE, tmp_path / "nb.ipynb")
    return tmp_path / "nb.ipynb"


def test_check_reports_cell_locations_across_cells(notebook, capsys):
    code, out, _ = run(capsys, "check", "nb.ipynb")
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("nb.ipynb:cell 3:3:19: TFN101 np.append() on a tensor inside @tf.function")
    # helper defined in cell 5 is graph code because a tf.function in the same program calls it
    assert lines[1].startswith("nb.ipynb:cell 5:3:12: TFN101 np.exp() on a tensor inside a helper called from graph")


def test_directories_include_notebooks(notebook, capsys):
    assert run(capsys, "check", ".")[0] == 1


def test_fix_rewrites_only_the_affected_cells(notebook, capsys):
    code, _, _ = run(capsys, "fix", "nb.ipynb")
    assert code == 0
    assert notebook.read_bytes() == AFTER.read_bytes()
    before, after = json.loads(BEFORE.read_text()), json.loads(AFTER.read_text())
    changed = [i for i, (a, b) in enumerate(zip(before["cells"], after["cells"])) if a != b]
    assert changed == [2, 4]
    for a, b in zip(before["cells"], after["cells"]):
        assert a.get("outputs") == b.get("outputs") and a["metadata"] == b["metadata"]
    assert after["cells"][1]["source"][0] == "%pip install -q numpy\n"  # magics untouched
    assert after["cells"][3]["source"] == ["%%time\n", "x = 1\n"]
    assert after["cells"][4]["source"][0] == "!ls\n"
    assert run(capsys, "fix", "nb.ipynb")[0] == 0
    assert notebook.read_bytes() == AFTER.read_bytes()  # re-fixing changes nothing


def test_other_json_layouts_survive_or_are_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    data = json.loads(BEFORE.read_text())
    two = tmp_path / "two.ipynb"
    two.write_text(json.dumps(data, indent=2))  # no trailing newline, insertion order, indent 2
    assert run(capsys, "fix", "two.ipynb")[0] == 0
    fixed = two.read_text()
    assert "tf.concat([image_batch" in fixed and not fixed.endswith("\n") and fixed.startswith('{\n  "cells"')
    odd = tmp_path / "odd.ipynb"
    odd.write_text(json.dumps(data, indent=1, sort_keys=True).replace('": ', '":  '))
    original = odd.read_bytes()
    code, _, err = run(capsys, "fix", "odd.ipynb")
    assert code == 2 and "not rewritten" in err
    assert odd.read_bytes() == original


def test_broken_notebooks_are_clear_errors(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.ipynb").write_text("{not json")
    (tmp_path / "syntax.ipynb").write_text(json.dumps({"cells": [
        {"cell_type": "code", "metadata": {}, "outputs": [], "source": ["import tensorflow as tf\n", "import numpy\n"]},
        {"cell_type": "code", "metadata": {}, "outputs": [], "source": ["def f(:\n"]}]}))
    code, _, err = run(capsys, "check", "bad.ipynb", "syntax.ipynb")
    assert code == 2
    assert "bad.ipynb: error: not a valid notebook: JSON error at line 1" in err
    assert "syntax.ipynb:cell 2:1:" in err and "syntax error" in err
    assert "Traceback" not in err
