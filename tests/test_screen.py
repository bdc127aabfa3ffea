"""The AST screen (tflint_notes/screen.py): it skips files and rules that cannot fire, and never hides a finding.

The property tests (test_properties.py) also compare screened and unscreened findings on every generated
program; `bench/run.py --verify-screen` does it on the installed keras, tf_keras and tensorflow/python.
"""

from __future__ import annotations

import libcst
import pytest

from fixture_cases import FIXTURES, all_cases
from tflint_notes import engine
from tflint_notes.docs import rule_doc
from tflint_notes.engine import Linter, compile_tree
from tflint_notes.project import ProjectStore
from tflint_notes.rule import all_rules
from tflint_notes.screen import FileFacts

RULES = all_rules()
SCREENED = Linter(RULES)
UNSCREENED = Linter(RULES, screen=False)
CASES = all_cases()
PROGRAMS = sorted(p for p in FIXTURES.rglob("*.py"))


@pytest.mark.parametrize("path", PROGRAMS, ids=[str(p.relative_to(FIXTURES)) for p in PROGRAMS])
def test_same_findings_with_and_without_screen(path):
    text = path.read_text(encoding="utf-8")
    assert SCREENED.lint(text).diagnostics == UNSCREENED.lint(text).diagnostics


@pytest.mark.parametrize("case", [c for c in CASES if c.expected_marks()], ids=lambda c: c.id)
def test_each_rule_screen_passes_its_positive_fixtures(case):
    """The screen itself says "maybe" (not the engine's fail-open path) for every marked rule."""
    facts = FileFacts(compile_tree(case.before.read_text(encoding="utf-8")))
    for code in {code for _, code in case.expected_marks()}:
        screen = RULES[code].screen
        assert screen is None or screen(facts), code


def _count_parses(monkeypatch) -> list:
    parses = []
    real = libcst.parse_module

    def counting(text, *args, **kwargs):
        parses.append(text)
        return real(text, *args, **kwargs)

    monkeypatch.setattr(engine.cst, "parse_module", counting)
    return parses


CLEAN_TF = '''\
import numpy as np
import tensorflow as tf


class Scale(tf.keras.layers.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, inputs, training=None):
        return inputs * self.factor


@tf.function
def step(x):
    values = tf.reduce_sum(x, axis=0)
    return values


data = np.arange(10)
print(step(tf.constant(data)))
'''


def test_clean_tf_file_is_not_parsed(monkeypatch):
    parses = _count_parses(monkeypatch)
    assert SCREENED.lint(CLEAN_TF).diagnostics == []
    assert parses == []
    assert UNSCREENED.lint(CLEAN_TF).diagnostics == []
    assert len(parses) == 1  # without the screen the same file is parsed


def test_file_with_a_finding_is_parsed_only_with_the_rules_that_may_fire(monkeypatch):
    text = CLEAN_TF.replace("return inputs * self.factor", "print(inputs)\n        return inputs * self.factor")
    active = SCREENED.rules.active_for(text)
    kept = SCREENED.rules.screened(active, compile_tree(text))
    assert [cls.code for cls in kept] == ["TFN103", "TFN904"]  # the broad form may fire too ...
    assert [d.code for d in SCREENED.lint(text).diagnostics] == ["TFN103"]  # ... but the line is reported once


def test_aliases_and_graph_reach_through_helpers():
    text = '''\
import numpy as onp
from tensorflow import function as compiled


def helper(x):
    return onp.sqrt(x)


@compiled
def outer(x):
    return helper(x)
'''
    kept = SCREENED.rules.screened(SCREENED.rules.active_for(text), compile_tree(text))
    assert "TFN101" in [cls.code for cls in kept]
    assert [d.code for d in SCREENED.lint(text).diagnostics] == ["TFN101"]


def test_a_failing_screen_runs_its_rule(monkeypatch):
    text = CLEAN_TF.replace("return values", "print(values)\n    return values")

    def broken(facts):
        raise RuntimeError("bug in a screen")

    monkeypatch.setattr(RULES["TFN103"], "screen", staticmethod(broken))
    assert [d.code for d in Linter(RULES).lint(text).diagnostics] == ["TFN103"]


def test_every_rule_with_triggers_or_not_is_screened_or_documented():
    """A rule without a screen forces a parse of every file its triggers match: only the
    GradientTape-triggered rules may go without one (they match few files) - today all have one."""
    assert [code for code, cls in RULES.items() if cls.screen is None] == []


def test_tf_function_wrapping_a_method_counts_for_recursion():
    """tf.function(self.step) makes the method a tf.function; a bare call of its own name inside is flagged."""
    text = '''\
import tensorflow as tf


def step(x):
    return x


class Trainer:
    def __init__(self):
        self.fast = tf.function(self.step)

    def step(self, x):
        return step(x) + 1
'''
    assert SCREENED.lint(text).diagnostics == UNSCREENED.lint(text).diagnostics
    assert [d.code for d in UNSCREENED.lint(text).diagnostics] == ["TFN109"]


def test_starred_class_bases_are_seen_by_the_screen():
    text = '''\
import tensorflow as tf


class Base(tf.keras.layers.Layer):
    pass


class Head(*Base):
    def call(self, x):
        print(x)
        return x
'''
    assert [d.code for d in UNSCREENED.lint(text).diagnostics] == ["TFN103"]
    assert SCREENED.lint(text).diagnostics == UNSCREENED.lint(text).diagnostics


def test_trigger_words_are_searched_once_yet_pick_the_same_rules():
    """`active_for` searches each distinct trigger word once per text; a rule is active exactly when one of
    its own words is in the text (the per-rule reference), on every fixture program and on texts holding
    one word each."""
    words = sorted({word for cls in RULES.values() for word in cls.triggers or ()})
    texts = [path.read_text(encoding="utf-8") for path in PROGRAMS] + [f"x = {word!r}\n" for word in words] + [""]
    for text in texts:
        expected = tuple(cls for cls in SCREENED.rules.rule_classes
                         if not cls.triggers or any(word in text for word in cls.triggers))
        assert SCREENED.rules.active_for(text) == expected


def test_a_cache_hit_needs_no_trigger_search(tmp_path, monkeypatch):
    text = CLEAN_TF.replace("return values", "print(values)\n    return values")
    linter = Linter(RULES, cache_dir=str(tmp_path))
    first = linter.lint(text).diagnostics
    assert [d.code for d in first] == ["TFN103"]

    def searched(text):
        raise AssertionError("a cached result searched the text for trigger words")

    monkeypatch.setattr(linter.rules, "active_for", searched)
    assert linter.lint(text).diagnostics == first
    with pytest.raises(AssertionError):  # a text not in the cache is searched
        linter.lint(text + "\n# changed\n")


_TAPE = """
import tensorflow as tf
{setup}
with tf.GradientTape() as tape:
    y = x * x
{after}
grad = tape.gradient(y, x)
"""


@pytest.mark.parametrize("setup, after, may_fire", [
    ("x = tf.Variable(3.0)", "", set()),  # float source, target inside the block: nothing can fire
    ("x = tf.Variable(3)", "", {"TFN401"}),  # an integer source
    ("x = tf.constant(3.0)", "", {"TFN402"}),  # a constant source (watching is judged on the tree)
    ("x = tf.Variable(3.0)", "y = x * 2", {"TFN404"}),  # the target is computed again after the block
])
def test_autodiff_screens_admit_only_files_with_their_shape(setup, after, may_fire):
    facts = FileFacts(compile_tree(_TAPE.format(setup=setup, after=after)))
    admitted = {code for code in ("TFN401", "TFN402", "TFN404") if RULES[code].screen(facts)}
    assert admitted == may_fire


@pytest.mark.parametrize("src, may_fire", [
    ("@tf.function\ndef f(x):\n    return x\nfor i in range(3):\n    f(i)\n", True),
    ("@tf.function\ndef f(x):\n    return x\nfor i in range(3):\n    f(tf.constant(i))\n", False),
    ("@tf.function(input_signature=[tf.TensorSpec([])])\ndef f(x):\n    return x\nfor i in range(3):\n    f(i)\n", False),
    ("def g():\n    @tf.function\n    def f(x):\n        return x\n    for i in range(3):\n        f(i)\n", False),
    ("def f(x):\n    return x\ng = tf.function(f)\nfor i in range(3):\n    g(x=i * 2)\n", True),
])
def test_retracing_screen_is_exact_on_the_call_shape(src, may_fire):
    facts = FileFacts(compile_tree("import tensorflow as tf\n" + src))
    assert bool(RULES["TFN108"].screen(facts)) == may_fire


# -- rules declared syntactic: the screen is exact ----------------------------------------------------------

SYNTACTIC = sorted(code for code, rule in RULES.items() if rule.syntactic)
_PROJECTS = ProjectStore(None)


def test_rules_whose_condition_is_syntactic_say_so():
    """The declaration is on the rule and on its page (generated from it); it needs a screen to be exact."""
    assert {"TFN109", "TFN302", "TFN303", "TFN601", "TFN603", "TFN901", "TFN903"} <= set(SYNTACTIC)
    for code in SYNTACTIC:
        assert RULES[code].screen is not None, code
        assert "Decided on syntax" in rule_doc(RULES[code]), code
    assert not any("Decided on syntax" in rule_doc(rule) for code, rule in RULES.items() if not rule.syntactic)


@pytest.mark.parametrize("code", SYNTACTIC)
def test_syntactic_rule_screen_is_exact_on_every_fixture_program(code, monkeypatch):
    """Where the screen says "maybe", the rule reports: on every fixture program (every rule's, with its
    project's target), the screen's answer is the rule's.  Only what the engine drops afterwards is set
    apart: findings inside `try:` blocks that catch the flagged error (and `# noqa`, not applied here)."""
    monkeypatch.setattr(engine, "_expected", lambda candidate, regions: False)
    rule = RULES[code]
    linter = Linter([code], screen=False)
    wrong = []
    for path in PROGRAMS:
        text = path.read_text(encoding="utf-8")
        try:
            tree = compile_tree(text)
        except engine.ParseError:
            continue
        project = _PROJECTS.for_path(str(path))
        if rule.fails_from is not None and not project.target.fails_from(rule.fails_from):
            continue  # the engine does not run the rule for this project
        facts = FileFacts(tree)
        facts.text = text
        facts.set_target(project.target, project.first_party)
        maybe = rule.screen(facts)
        fires = bool(linter.lint(text, apply_noqa=False, project=project).diagnostics)
        if maybe != fires:
            wrong.append(f"{path.relative_to(FIXTURES)}: screen {maybe}, rule {fires}")
    assert not wrong, "\n".join(wrong)
