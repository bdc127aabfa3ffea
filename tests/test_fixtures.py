"""Every fixture folder: lint gives exactly the marked diagnostics; fix gives after.py byte for byte."""

from __future__ import annotations

import pytest

from fixture_cases import all_cases
from tflint_notes.engine import Linter, fix_text
from tflint_notes.rule import all_rules

CASES = all_cases()
LINTER = Linter(all_rules())


def _read(path):
    return path.read_bytes().decode("utf-8")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_lint_matches_markers(case):
    found = sorted((d.line, d.code) for d in LINTER.lint(_read(case.before)).diagnostics)
    assert found == case.expected_marks()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_safe_fix_gives_after(case):
    source = _read(case.before)
    fixed = fix_text(LINTER, source).text
    expected = _read(case.after) if case.after else source  # no after.py: nothing safe to fix
    assert fixed == expected


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_unsafe_fix_gives_after_unsafe(case):
    source = _read(case.before)
    fixed = fix_text(LINTER, source, unsafe=True).text
    expected_path = case.after_unsafe or case.after
    expected = _read(expected_path) if expected_path else source
    assert fixed == expected


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fixed_programs_are_clean_and_stable(case):
    for path in (case.after, case.after_unsafe):
        if path is None:
            continue
        text = _read(path)
        unsafe = path.name == "after_unsafe.py"
        remaining = [d for d in LINTER.lint(text).diagnostics if d.code == case.code]
        if unsafe:
            assert remaining == [], remaining
        else:  # only findings without a safe fix may remain after the safe fix
            assert all(d.fix is None or not d.fix.safe for d in remaining), remaining
        assert fix_text(LINTER, text, unsafe=unsafe).text == text  # re-fixing changes nothing


def test_fixture_inventory():
    """The issue's bar: at least 6 positive and 6 hard-negative cases per rule with fixtures."""
    by_code = {}
    for case in CASES:
        by_code.setdefault(case.code, [0, 0])[0 if case.positive else 1] += 1
    assert "TFN101" in by_code
    for code, (positive, negative) in by_code.items():
        assert positive >= 6 and negative >= 6, (code, positive, negative)
    for case in CASES:
        assert case.code in all_rules(), case.id
        if case.positive:
            assert case.after or case.after_unsafe, f"{case.id}: a positive case needs a fixed program"
