"""Regenerate rules/<code>.md from the rule classes' docstrings (a test checks they are in sync).

    python scripts/gen_rule_docs.py
"""

import pathlib

from tflint_notes.docs import rule_doc
from tflint_notes.rule import all_rules

RULES_DIR = pathlib.Path(__file__).resolve().parents[1] / "rules"


def main() -> None:
    RULES_DIR.mkdir(exist_ok=True)
    for code, rule in all_rules().items():
        (RULES_DIR / f"{code}.md").write_text(rule_doc(rule), encoding="utf-8")
        print(f"wrote rules/{code}.md")


if __name__ == "__main__":
    main()
