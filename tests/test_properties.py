"""Property-based tests: for any valid program, check never raises and fixes never corrupt.

Two sources of programs: hypothesmith (arbitrary Python from the grammar) and a TF-flavoured generator
that recombines the fixture programs with random aliases, nesting, comments, blank lines and line endings.
Example counts: the "ci" profile (default) runs HYPOTHESMITH_EXAMPLES and TF_EXAMPLES below; set
HYPOTHESIS_PROFILE=dev for a quick local run, or =thorough for 10x more.
"""

from __future__ import annotations

import ast
import difflib
import os
import random
import re
import warnings

import hypothesmith
import libcst as cst
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixture_cases import all_cases
from tflint_notes.engine import Linter, ParseError, fix_text
from tflint_notes.gate import compile_error
from tflint_notes.rule import all_rules

PROFILES = {"dev": (20, 40), "ci": (150, 300), "thorough": (1500, 3000)}
HYPOTHESMITH_EXAMPLES, TF_EXAMPLES = PROFILES[os.environ.get("HYPOTHESIS_PROFILE", "ci")]
LINTER = Linter(all_rules())
UNSCREENED = Linter(all_rules(), screen=False)  # parses every triggered file: the screen's reference
HEADER = "import numpy as np\nimport tensorflow as tf\n"
# Fixes of these rules also edit a related place away from the reported node (the tape's creation
# for TFN403, a multi-line `def` header for TFN203/TFN204, the body of `__init__`/`build` for moves,
# and for TFN302's removal of `validate_indices=` the end of the previous line, where its comment moves).
# TFN606 edits the literal a path name was assigned from, above the save call it reports.
RELATED_EDITS = {"TFN201", "TFN202", "TFN203", "TFN204", "TFN302", "TFN403", "TFN606", "TFN902"}
SNIPPETS = [c.before.read_text(encoding="utf-8") for c in all_cases()]


def _lint_or_parse_error(text: str):
    try:
        result = LINTER.lint(text)
    except ParseError:
        return None
    # 5: the AST screen never hides a finding (same findings as parsing every file).  A file libcst cannot
    # parse (`\\` + CRLF at the end) is an error only where a rule needs the parse; the screen may skip it.
    try:
        unscreened = UNSCREENED.lint(text).diagnostics
    except ParseError:
        assert result.diagnostics == []
        return result
    assert result.diagnostics == unscreened
    return result


def _check_fix_invariants(text: str) -> None:
    first = _lint_or_parse_error(text)
    if first is None:
        return
    outcome = fix_text(LINTER, text, unsafe=True)
    fixed = outcome.text
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if compile_error(text) is None:
            compile(fixed, "<fixed>", "exec", dont_inherit=True)  # 2a: compiles (CPython) if the input did
        else:  # spliced snippets can put `from __future__` mid-file: the parser accepts it, the compiler not
            ast.parse(fixed)
    if fixed != text:
        cst.parse_module(fixed)  # ... and libcst (an unchanged file may be one libcst cannot parse)
    assert fix_text(LINTER, fixed, unsafe=True).text == fixed  # 2b: re-fixing changes nothing
    allowed = set()
    related = any(d.code in RELATED_EDITS for d in first.diagnostics)
    for d in first.diagnostics:
        allowed.update(range(d.line, d.end_line + 1))
    if not related:  # 2c: every changed original line lies inside a diagnostic's span
        old = text.splitlines(keepends=True)
        matcher = difflib.SequenceMatcher(a=old, b=fixed.splitlines(keepends=True), autojunk=False)
        for tag, i1, i2, _, _ in matcher.get_opcodes():
            if tag in ("replace", "delete"):
                for line in range(i1 + 1, i2 + 1):
                    assert line in allowed, (line, old[line - 1])
    before_codes = {d.code for d in first.diagnostics}
    after_codes = {d.code for d in _lint_or_parse_error(fixed).diagnostics}
    assert after_codes <= before_codes, after_codes - before_codes  # 3: no new kind of finding


@settings(max_examples=HYPOTHESMITH_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
@given(hypothesmith.from_grammar())
def test_arbitrary_python_never_crashes(source):
    text = HEADER + source
    _lint_or_parse_error(text)  # 1: never raises anything but a clean ParseError
    _check_fix_invariants(text)


ALIASES = ["tf", "t2", "tensorflow_", "TF"]
NP_ALIASES = ["np", "onp", "numpy_"]


@st.composite
def tf_programs(draw):
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    parts = rng.sample(SNIPPETS, k=draw(st.integers(1, 3)))
    text = "\n\n".join(parts)
    alias, np_alias = rng.choice(ALIASES), rng.choice(NP_ALIASES)
    text = re.sub(r"^import tensorflow as tf$", f"import tensorflow as {alias}", text, flags=re.MULTILINE)
    text = re.sub(r"\btf\.", f"{alias}.", text)
    text = re.sub(r"^import numpy as np$", f"import numpy as {np_alias}", text, flags=re.MULTILINE)
    text = re.sub(r"\bnp\.", f"{np_alias}.", text)
    lines = text.splitlines()
    out = []
    for line in lines:
        if rng.random() < 0.05 and line.strip():
            indent = line[:len(line) - len(line.lstrip())]
            out.append(f"{indent}# {rng.choice(['note', 'TODO: x', 'é', 'noqa-ish'])}")
        out.append(line + (rng.choice(["  # trailing", "   ", ""]) if rng.random() < 0.05 and line.strip()
                           and not line.rstrip().endswith(("\\", ",")) and '"""' not in line else ""))
        if rng.random() < 0.03:
            out.append("")
    text = "\n".join(out) + "\n"
    if draw(st.booleans()):  # nest everything inside a class body or function
        wrapper = rng.choice(["class Outer:\n", "def outer():\n", "if True:\n"])
        text = wrapper + "".join("    " + l if l.strip() else l for l in text.splitlines(keepends=True))
        if wrapper == "def outer():\n":
            text += "    pass\n"
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return text.replace("\n", newline)


@settings(max_examples=TF_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tf_programs())
def test_tf_flavoured_programs_never_crash_or_corrupt(text):
    _check_fix_invariants(text)
