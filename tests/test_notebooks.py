"""Jupyter notebooks: linted as one program, fixed cell by cell, JSON otherwise byte-identical."""

from __future__ import annotations

import json
import shutil

import pytest

from fixture_cases import FIXTURES
from tflint_notes.cli import main
from tflint_notes.documents import _source_spans

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
    # a layout json.dumps cannot produce (Colab mixes indentations; here: two spaces after colons): only
    # the changed cells' `source` values are replaced, every other byte stays
    odd = tmp_path / "odd.ipynb"
    odd_text = json.dumps(data, indent=1, sort_keys=True).replace('": ', '":  ')
    odd.write_text(odd_text)
    assert run(capsys, "fix", "odd.ipynb")[0] == 0
    fixed = odd.read_text()
    assert json.loads(fixed)["cells"] == json.loads(AFTER.read_text())["cells"]
    assert _outside_sources(fixed) == _outside_sources(odd_text)
    assert run(capsys, "fix", "odd.ipynb")[0] == 0 and odd.read_text() == fixed  # re-fixing changes nothing
    # a changed cell whose own source layout cannot be told (items packed irregularly): refused, untouched
    worse = tmp_path / "worse.ipynb"
    lines = data["cells"][2]["source"]
    irregular = "[" + ", ".join(json.dumps(line) for line in lines[:2]) + ",\n" + ",\n".join(
        json.dumps(line) for line in lines[2:]) + "]"
    start, end = _source_spans(odd_text)[2]
    worse_text = odd_text[:start] + irregular + odd_text[end:]
    assert json.loads(worse_text)["cells"] == data["cells"]
    worse.write_text(worse_text)
    code, _, err = run(capsys, "fix", "worse.ipynb")
    assert code == 2 and "not rewritten" in err
    assert worse.read_text() == worse_text


def _outside_sources(text: str) -> str:
    """The notebook text with every cell's `source` value blanked out."""
    spans = _source_spans(text)
    for start, end in sorted(spans.values(), reverse=True):
        text = text[:start] + "@" + text[end:]
    return text


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


MAGICS_BEFORE = FIXTURES / "notebooks" / "magics_before.ipynb"
MAGICS_AFTER = FIXTURES / "notebooks" / "magics_after_unsafe.ipynb"


def _notebook(tmp_path, cells, metadata=None):
    data = {"cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                       "source": source.splitlines(keepends=True)} for source in cells],
            "metadata": metadata or {"language_info": {"name": "python"}}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(data, indent=1) + "\n")
    return path


def test_ipython_syntax_is_read_not_refused(tmp_path, monkeypatch, capsys):
    """Cell magics with indented bodies, `!cmd \\` continuations, `x = !cmd`, continuation lines starting
    with `% (` / `!= (`, an indented cell and an automagic: all valid in Jupyter, all read."""
    monkeypatch.chdir(tmp_path)
    shutil.copy(MAGICS_BEFORE, tmp_path / "nb.ipynb")
    code, out, err = run(capsys, "check", "--no-cache", "nb.ipynb")
    assert err == "" and code == 1
    # the finding is inside a %%time cell: its body is Python and is linted
    assert out.splitlines()[0].startswith("nb.ipynb:cell 7:4:9: TFN103 print() in Keras Shift.call")


def test_an_added_import_goes_into_the_first_plain_python_cell(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    shutil.copy(MAGICS_BEFORE, tmp_path / "nb.ipynb")
    code, out, _ = run(capsys, "fix", "--no-cache", "nb.ipynb")
    assert "1 unsafe fix(es) withheld" in out  # adding `import tensorflow` to a Keras-only notebook is unsafe
    assert (tmp_path / "nb.ipynb").read_bytes() == MAGICS_BEFORE.read_bytes()
    assert run(capsys, "fix", "--no-cache", "--unsafe-fixes", "nb.ipynb")[0] == 0
    assert (tmp_path / "nb.ipynb").read_bytes() == MAGICS_AFTER.read_bytes()
    after = json.loads(MAGICS_AFTER.read_text())
    assert after["cells"][0]["source"][0] == "%%capture\n"  # not above the cell magic
    assert "".join(after["cells"][2]["source"]) == "import numpy as np\nimport keras\nimport tensorflow as tf\n"


def test_no_plain_cell_means_no_import_and_no_fix(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    path = _notebook(tmp_path, ["%%time\nimport keras\nclass L(keras.layers.Layer):\n    def call(self, x):\n"
                                "        print(x)\n        return x\n"])
    before = path.read_bytes()
    code, out, _ = run(capsys, "fix", "--no-cache", "--unsafe-fixes", "nb.ipynb")
    assert code == 1 and "TFN103" in out and path.read_bytes() == before


def test_notebooks_in_other_languages_are_not_read(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _notebook(tmp_path, ["library(keras)\nmodel <- keras_model_sequential()\n"],
              metadata={"kernelspec": {"language": "R", "name": "ir"}, "language_info": {"name": "R"}})
    assert run(capsys, "check", "--no-cache", "nb.ipynb")[:2] == (0, "All checks passed.\n")


def test_a_fix_must_leave_every_cell_compiling():
    from tflint_notes.cells import CellProgram

    program = CellProgram([(0, "x = (1,\n"), (1, "     2)\n")])  # each cell is broken on its own
    assert program.cell_errors(program.text) is not None
    fine = CellProgram([(0, "x = 1\n"), (3, "%%time\ny = 2\n")])
    assert fine.cell_errors(fine.text) is None
    assert "before the first cell" in fine.cell_errors("z = 0\n" + fine.text)
