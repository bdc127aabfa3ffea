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
    assert page.exists(), "run: python scripts/gen_rule_docs.py"
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


def test_readme_rule_table_in_sync():
    from tflint_notes.docs import README_END, README_START, readme_table

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text.split(README_START, 1)[1].split(README_END, 1)[0]
    assert table == "\n" + readme_table(), "README rule table is stale: run python scripts/gen_rule_docs.py"


# Doc examples are fragments: they get the usual imports in front of them.
HEADER = "import random\nimport numpy as np\nimport tensorflow as tf\nfrom tensorflow import keras\n"


@pytest.mark.parametrize("code", sorted(RULES))
def test_doc_examples_are_linted(code):
    from tflint_notes.docs import code_blocks
    from tflint_notes.engine import Linter

    rule = RULES[code]
    linter = Linter([code])
    bad = code_blocks(rule, "Example")
    good = code_blocks(rule, "Use instead")
    assert bad and good, f"{code}: the doc needs a python Example and a Use instead block"
    for block in bad:
        found = [d.code for d in linter.lint(HEADER + block).diagnostics]
        assert code in found, f"{code}: the bad example is not flagged:\n{block}"
    for block in good:
        # a "Use instead" fragment may rely on the example's definitions: lint it after them
        program = HEADER + (bad[0] + "\n" if rule.code in _NEEDS_CONTEXT else "") + block
        found = [d for d in linter.lint(program).diagnostics if d.line > program.count("\n") - block.count("\n")]
        assert not found, f"{code}: the good example is flagged: {found}"


_NEEDS_CONTEXT = {"TFN108", "TFN401", "TFN404", "TFN501", "TFN403"}
