"""Regenerate rules/<code>.md and the README's rule table from the rule classes (a test checks they are in sync).

    python scripts/gen_rule_docs.py
"""

import pathlib

from tflint_notes.docs import README_END, README_START, readme_table, rule_doc
from tflint_notes.rule import all_rules

ROOT = pathlib.Path(__file__).resolve().parents[1]


def main() -> None:
    (ROOT / "rules").mkdir(exist_ok=True)
    for code, rule in all_rules().items():
        (ROOT / "rules" / f"{code}.md").write_text(rule_doc(rule), encoding="utf-8")
        print(f"wrote rules/{code}.md")
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    readme.write_text(head + README_START + "\n" + readme_table() + README_END + tail, encoding="utf-8")
    print("wrote the rule table in README.md")


if __name__ == "__main__":
    main()
