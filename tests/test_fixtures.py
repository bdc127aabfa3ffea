"""Every fixture folder: lint gives exactly the marked diagnostics; fix gives after.py byte for byte."""

from __future__ import annotations

import pytest

from fixture_cases import all_cases
from tflint_notes.engine import Linter, fix_text
from tflint_notes.rule import all_rules

CASES = all_cases()
DEFAULT = [code for code, rule in all_rules().items() if rule.default_enabled]
_LINTERS: dict = {}


def linter_for(case) -> Linter:
    """The default rules, as users run them, plus the case's own rule (it may be off by default)."""
    if case.code not in _LINTERS:
        _LINTERS[case.code] = Linter(sorted(set(DEFAULT) | {case.code}))
    return _LINTERS[case.code]


def _read(path):
    return path.read_bytes().decode("utf-8")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_lint_matches_markers(case):
    found = sorted((d.line, d.code) for d in linter_for(case).lint(_read(case.before)).diagnostics)
    assert found == case.expected_marks()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_safe_fix_gives_after(case):
    source = _read(case.before)
    fixed = fix_text(linter_for(case), source).text
    expected = _read(case.after) if case.after else source  # no after.py: nothing safe to fix
    assert fixed == expected


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_unsafe_fix_gives_after_unsafe(case):
    source = _read(case.before)
    fixed = fix_text(linter_for(case), source, unsafe=True).text
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
        remaining = [d for d in linter_for(case).lint(text).diagnostics if d.code == case.code]
        if unsafe:
            assert remaining == [], remaining
        else:  # only findings without a safe fix may remain after the safe fix
            assert all(d.fix is None or not d.fix.safe for d in remaining), remaining
        assert fix_text(linter_for(case), text, unsafe=unsafe).text == text  # re-fixing changes nothing


def test_fixture_inventory():
    """Every rule with positives and hard negatives; TFN101 (the foundation's proof) with at least 6 of each."""
    by_code = {}
    for case in CASES:
        by_code.setdefault(case.code, [0, 0])[0 if case.positive else 1] += 1
    for code in all_rules():
        positive, negative = by_code.get(code, (0, 0))
        least = 6 if code == "TFN101" else 2
        assert positive >= least and negative >= least, (code, positive, negative)
    for case in CASES:
        assert case.code in all_rules(), case.id
        if case.positive:
            assert case.code in {code for _, code in case.expected_marks()}, case.id
    for code in all_rules():  # the advice is proven by running at least one fixed or corrected program
        assert any(c.after or c.after_unsafe or c.corrected for c in CASES if c.code == code and c.positive), code
        for flavour in ("keras3", "tf_keras"):
            case.expect_before(flavour)  # parses, for both flavours
