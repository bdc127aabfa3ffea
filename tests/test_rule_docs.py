"""Rule pages: generated from the rule classes, in the house format, one per registered rule."""

from __future__ import annotations

import pytest

from fixture_cases import FIXTURES, ROOT
from tflint_notes.docs import rule_doc
from tflint_notes.rule import all_rules

RULES = all_rules()
SECTIONS = ["## What it does", "## Why is this bad?", "## Example", "## Use instead", "## Fix safety"]


@pytest.mark.parametrize("code", sorted(RULES))
def test_doc_page_in_sync_and_complete(code):
    page = ROOT / "rules" / f"{code}.md"
    assert page.exists(), f"run: python scripts/gen_rule_docs.py"
    text = page.read_text(encoding="utf-8")
    assert text == rule_doc(RULES[code]), "rules/ is stale: run python scripts/gen_rule_docs.py"
    positions = [text.find(s) for s in SECTIONS]
    assert all(p >= 0 for p in positions), [s for s, p in zip(SECTIONS, positions) if p < 0]
    assert positions == sorted(positions)


@pytest.mark.parametrize("code", sorted(RULES))
def test_every_rule_has_fixtures(code):
    assert any((FIXTURES / code).glob("*/before.py")), code


def test_no_orphan_pages():
    pages = {p.stem for p in (ROOT / "rules").glob("TFN*.md")}
    assert pages == set(RULES)


def test_registry_is_automatic_and_consistent():
    for code, rule in RULES.items():
        assert rule.code == code and rule.name and rule.summary
        assert rule.__module__.startswith("tflint_notes.rules.")
