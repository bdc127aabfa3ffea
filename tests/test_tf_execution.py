"""Execute every fixture program under real TensorFlow, once per Keras flavour.

before.py must fail (or misbehave) exactly as its `expect-before:` line says; after.py,
after_unsafe.py and the hard negatives must pass their own assertions.

Multi-module fixture projects (fixtures/projects/*/ with run*.py at the root, `ProjectCase`) run in the same
subprocess: each entry program of the committed tree must fail as its `expect-before:` line says; a copy of
the project fixed with `tflint-notes fix --unsafe-fixes` (made before the subprocess starts) must pass every
entry program and leave no finding of a rule that has a fix.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from fixture_cases import FIXTURES, ROOT, ProjectCase, all_cases, expect_before, project_cases

pytestmark = pytest.mark.tf

CASES = all_cases()
PROJECT_CASES = project_cases()
PROJECT_PREFIX = "project:"  # fixture_runner.py: run with the project root on sys.path
NOTEBOOK_BEFORE = FIXTURES / "notebooks" / "augment_before.ipynb"
NOTEBOOK_AFTER = FIXTURES / "notebooks" / "augment_after.ipynb"
MAGICS_BEFORE = FIXTURES / "notebooks" / "magics_before.ipynb"
MAGICS_AFTER = FIXTURES / "notebooks" / "magics_after_unsafe.ipynb"
FLAVOURS = {"keras3": "0", "tf_keras": "1"}


def _linter(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The CLI as users run it (a subprocess: a crash of the linter fails the project tests, not this module)."""
    return subprocess.run([sys.executable, "-m", "tflint_notes", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600, env=dict(os.environ, NO_COLOR="1"))


@dataclass
class FixedProject:
    root: Path
    fix: subprocess.CompletedProcess
    check: subprocess.CompletedProcess


@pytest.fixture(scope="module")
def fixed_projects(tmp_path_factory) -> dict[str, FixedProject]:
    """Each fixture project copied to tmp and fixed with `tflint-notes fix --unsafe-fixes`, then checked again."""
    base = tmp_path_factory.mktemp("fixed_projects")
    fixed = {}
    for case in PROJECT_CASES:
        copy = base / case.name
        shutil.copytree(case.root, copy, ignore=shutil.ignore_patterns("__pycache__", ".tflint_notes_cache"))
        fix = _linter("fix", "--unsafe-fixes", "--no-cache", str(copy), cwd=copy)
        check = _linter("check", "--no-cache", "--output-format", "json", str(copy), cwd=copy)
        fixed[case.name] = FixedProject(copy, fix, check)
    return fixed


@pytest.fixture(scope="module", params=sorted(FLAVOURS))
def run(request, tmp_path_factory, fixed_projects):
    flavour = request.param
    out = tmp_path_factory.mktemp(flavour) / "results.json"
    files = [str(p) for case in CASES for p in case.programs()] + [str(p) for p in (
        NOTEBOOK_BEFORE, NOTEBOOK_AFTER, MAGICS_BEFORE, MAGICS_AFTER)]
    for case in PROJECT_CASES:
        files += [PROJECT_PREFIX + str(p) for p in case.programs()]
        files += [PROJECT_PREFIX + str(p) for p in case.programs(fixed_projects[case.name].root)]
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


def _assert_behaves(result: dict, expected: tuple[str, str] | None, label: str) -> None:
    if expected is None:
        assert result["status"] == "pass", f"{label}:\n{result.get('traceback')}"
        return
    kind, regex = expected
    assert result["status"] == "error", f"{label} was expected to fail with {kind}"
    assert result["type"] == kind, result["traceback"]
    assert re.search(regex, result["message"], re.DOTALL), result["message"][:2000]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_before_behaves_as_documented(run, case):
    _assert_behaves(_result(run, case.before), case.expect_before(run[0]), f"{case.id}/before.py under {run[0]}")


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


PROJECT_PROGRAMS = [(case, program) for case in PROJECT_CASES for program in case.programs()]


@pytest.mark.parametrize("case,program", PROJECT_PROGRAMS, ids=[f"{c.id}/{p.name}" for c, p in PROJECT_PROGRAMS])
def test_project_before_behaves_as_documented(run, case: ProjectCase, program: Path):
    """The committed project, imported from its root: each entry program fails as its docstring says."""
    label = f"{case.id}/{program.name} under {run[0]}"
    _assert_behaves(_result(run, program), expect_before(program, run[0]), label)


@pytest.mark.parametrize("case", PROJECT_CASES, ids=[c.id for c in PROJECT_CASES])
def test_fixed_project_passes(run, fixed_projects, case: ProjectCase):
    """After `fix --unsafe-fixes`, every entry program of the project (all its positives and negatives) passes."""
    fixed = fixed_projects[case.name]
    for program in case.programs(fixed.root):
        result = _result(run, program)
        assert result["status"] == "pass", (f"{case.id}/{program.name} under {run[0]} after the fix:\n"
                                            f"{result.get('traceback')}\nfix said:\n{fixed.fix.stdout}{fixed.fix.stderr}")


def _fixable_codes() -> set[str]:
    """Codes of the rules that have an automatic fix (safe or unsafe), from `tflint-notes rule --all`."""
    proc = _linter("rule", "--all", cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    codes = set()
    for line in proc.stdout.splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 3 and re.fullmatch(r"TFN\d{3}", fields[0]) and fields[2] not in ("none", "—", "-"):
            codes.add(fields[0])
    assert {"TFN101", "TFN103", "TFN201", "TFN301"} <= codes, proc.stdout
    return codes


@pytest.mark.parametrize("case", PROJECT_CASES, ids=[c.id for c in PROJECT_CASES])
def test_fix_leaves_no_fixable_finding_in_project(fixed_projects, case: ProjectCase):
    """`fix --unsafe-fixes` changed every module holding an expected finding of a rule with a fix, and the fixed
    copy has no finding of such a rule left."""
    fixed = fixed_projects[case.name]
    for proc in (fixed.fix, fixed.check):
        assert proc.returncode in (0, 1) and "Traceback" not in proc.stderr, proc.stderr[-4000:]
    fixable = _fixable_codes()
    expected = {(path, code) for path, _, code in case.expected_marks() if code in fixable}
    assert expected, f"{case.id}: no fixable expected finding"
    for path in sorted({path for path, _ in expected}):
        assert (fixed.root / path).read_bytes() != (case.root / path).read_bytes(), f"fix did not change {path}"
    remaining = [f"{Path(item['filename']).relative_to(fixed.root).as_posix()}:{item['location']['row']}: "
                 f"{item['code']} {item['message']}" for item in json.loads(fixed.check.stdout or "[]")
                 if item["code"] in fixable]
    assert not remaining, "\n".join(remaining)
