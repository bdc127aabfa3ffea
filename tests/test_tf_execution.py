"""Execute every fixture program under real TensorFlow, once per Keras flavour.

before.py must fail (or misbehave) exactly as its `expect-before:` line says; after.py,
after_unsafe.py and the hard negatives must pass their own assertions.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from fixture_cases import FIXTURES, ROOT, all_cases

pytestmark = pytest.mark.tf

CASES = all_cases()
NOTEBOOK_BEFORE = FIXTURES / "notebooks" / "augment_before.ipynb"
NOTEBOOK_AFTER = FIXTURES / "notebooks" / "augment_after.ipynb"
MAGICS_BEFORE = FIXTURES / "notebooks" / "magics_before.ipynb"
MAGICS_AFTER = FIXTURES / "notebooks" / "magics_after_unsafe.ipynb"
FLAVOURS = {"keras3": "0", "tf_keras": "1"}


@pytest.fixture(scope="module", params=sorted(FLAVOURS))
def run(request, tmp_path_factory):
    flavour = request.param
    out = tmp_path_factory.mktemp(flavour) / "results.json"
    files = [str(p) for case in CASES for p in case.programs()] + [str(p) for p in (
        NOTEBOOK_BEFORE, NOTEBOOK_AFTER, MAGICS_BEFORE, MAGICS_AFTER)]
    env = dict(os.environ, TF_USE_LEGACY_KERAS=FLAVOURS[flavour], TF_CPP_MIN_LOG_LEVEL="2",
               CUDA_VISIBLE_DEVICES="-1", PYTHONHASHSEED="0")
    proc = subprocess.run([sys.executable, str(ROOT / "tests" / "fixture_runner.py"), str(out), *files],
                          env=env, capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, proc.stderr[-4000:]
    data = json.loads(out.read_text())
    # make sure the flavour really switched: tf.keras is Keras 3 or legacy tf_keras
    if flavour == "tf_keras":
        assert data["keras"].startswith("tf_keras"), data["keras"]
    else:
        assert data["keras"].startswith("keras"), data["keras"]
    assert data["tensorflow"].startswith("2.21"), data["tensorflow"]
    return flavour, data["results"]


def _result(run, path: Path) -> dict:
    return run[1][str(path)]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_before_behaves_as_documented(run, case):
    result = _result(run, case.before)
    expected = case.expect_before(run[0])
    if expected is None:
        assert result["status"] == "pass", result.get("traceback")
        return
    kind, regex = expected
    assert result["status"] == "error", f"{case.id}: before.py was expected to fail with {kind} under {run[0]}"
    assert result["type"] == kind, result["traceback"]
    assert re.search(regex, result["message"], re.DOTALL), result["message"][:2000]


FIXED = [c for c in CASES if c.after or c.after_unsafe or c.corrected]


@pytest.mark.parametrize("case", FIXED, ids=[c.id for c in FIXED])
def test_fixed_programs_pass(run, case):
    for path in (case.after, case.after_unsafe, case.corrected):
        if path is not None:
            result = _result(run, path)
            assert result["status"] == "pass", f"{path.name} under {run[0]}:\n{result.get('traceback')}"


def test_notebook_runs_after_fixing(run):
    """The fixture notebook's code cells, executed in order: broken before the fix, correct after."""
    before = _result(run, NOTEBOOK_BEFORE)
    assert before["status"] == "error" and before["type"] == "NotImplementedError", before
    assert "Cannot convert a symbolic" in before["message"]
    after = _result(run, NOTEBOOK_AFTER)
    assert after["status"] == "pass", after.get("traceback")


def test_ipython_syntax_notebook_runs_before_and_after_fixing(run):
    """The notebook of IPython shapes (cell magics, `!` continuations, `x = !ls`, an indented cell, an
    automagic) runs in IPython as written, and still runs after the fix added `import tensorflow as tf`
    to its first plain cell and turned print into tf.print inside the %%time cell."""
    for path in (MAGICS_BEFORE, MAGICS_AFTER):
        result = _result(run, path)
        assert result["status"] == "pass", f"{path.name}: {result.get('traceback')}"
