"""The TFN6xx messages name the exception the line really raises: each positive fixture of TFN601/TFN603 whose
before.py fails on an import or attribute under Keras 3 (the `expect-before` line, checked by running it in
test_tf_execution.py) has, on its first marked line, a finding that names that same exception."""

from __future__ import annotations

import re

import pytest

from fixture_cases import all_cases
from tflint_notes.engine import Linter
from tflint_notes.rule import all_rules

RULES = all_rules()
LINTER = Linter(RULES)
NAME_ERRORS = ("ImportError", "ModuleNotFoundError", "AttributeError")
CASES = [c for c in all_cases() if c.code in ("TFN601", "TFN603") and c.expected_marks()
         and (c.expect_before("keras3") or ("",))[0] in NAME_ERRORS]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_message_names_the_exception_the_line_raises(case):
    error = case.expect_before("keras3")[0]
    line = case.expected_marks()[0][0]
    messages = [d.message for d in LINTER.lint(case.before.read_text(encoding="utf-8")).diagnostics
                if d.code == case.code and d.line == line]
    assert messages and any(re.search(rf"\({error}\b", m) for m in messages), (error, messages)


def test_the_cases_cover_each_kind_of_import_failure():
    kinds = {case.expect_before("keras3")[0] for case in CASES}
    assert {"ImportError", "ModuleNotFoundError"} <= kinds, kinds
