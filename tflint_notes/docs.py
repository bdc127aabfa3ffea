"""Rule documentation comes from the rule classes; rules/<code>.md is generated from them."""

from __future__ import annotations

import inspect

from tflint_notes.rule import Rule

DOCS_URL = "https://github.com/tflint-notes/tflint-notes/blob/main/rules/{code}.md"


def rule_doc(rule: type[Rule]) -> str:
    """The full Markdown page for one rule."""
    body = inspect.cleandoc(rule.__doc__ or "")
    state = "" if rule.default_enabled else "\n\n*Off by default: enable it with `--select " + rule.code + "`.*"
    return f"# {rule.code} {rule.name}\n\n{rule.summary}.{state}\n\n{body}\n"
