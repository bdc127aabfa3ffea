"""The garbage collector around one file's work (tflint_notes/collection.py) and the cycles the engine must
not leave behind (a file's tree should go when the file is done, not when a collection finds it)."""

from __future__ import annotations

import gc
import weakref

import libcst as cst
import pytest

from tflint_notes import collection, engine
from tflint_notes.analysis import Analysis
from tflint_notes.engine import Linter
from tflint_notes.rule import all_rules

SOURCE = """\
import tensorflow as tf


@tf.function
def step(x):
    return x + 1


class Block(tf.keras.layers.Layer):
    def call(self, x):
        def inner(y):
            return y
        return inner(x)
"""


class _Cycle:
    def __init__(self):
        self.me = self


@pytest.fixture
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_the_walk_leaves_no_cycle_holding_the_analysis():
    """`_walk`'s recursive closure once referred to itself, keeping the analysis, the rules and the tree alive
    until a collection: reference counting alone must free them."""
    module = cst.parse_module(SOURCE)
    ctx = Analysis(module)
    rules = [cls(ctx, []) for cls in all_rules().values()]
    visits, leaves = Linter(list(all_rules())).rules.dispatch(tuple(all_rules().values()))
    was = gc.isenabled()
    gc.disable()
    try:
        engine._walk(module, ctx, rules, visits, leaves)
        alive = weakref.ref(ctx)
        del ctx, rules
        assert alive() is None
    finally:
        if was:
            gc.enable()


def test_a_pause_holds_collections_back_and_collects_the_cycles_afterwards(collector_on):
    gc.collect()
    gc.set_threshold(1)  # would collect on almost every allocation if it were running
    try:
        with collection.collection_paused():
            assert not gc.isenabled()
            dead = weakref.ref(_Cycle())
            [_Cycle() for _ in range(100)]
            assert dead() is not None  # held back inside
    finally:
        gc.set_threshold(700, 10, 10)
    assert gc.isenabled()
    assert dead() is None  # collected on the way out


def test_a_nested_pause_collects_its_own_cycles_and_keeps_the_outer_pause(collector_on):
    gc.collect()
    with collection.collection_paused():
        with collection.collection_paused():
            dead = weakref.ref(_Cycle())
        assert dead() is None
        assert not gc.isenabled()
    assert gc.isenabled()


def test_older_generations_are_collected_when_their_thresholds_call_for_it(collector_on, monkeypatch):
    """Collecting only the young generation after each file promotes the last file's parse (still alive then)
    and never comes back for it: a pause must collect older generations on the collector's own schedule."""
    monkeypatch.setattr(collection, "_frozen", True)  # no freeze while `kept` is alive (tested below)
    gc.collect()
    kept = [_Cycle()]
    survivor = weakref.ref(kept[0])
    for _ in range(40):  # each pause's end promotes `kept` a generation further, as a file's parse is
        with collection.collection_paused():
            pass
    kept.clear()  # garbage now, in an old generation
    for _ in range(200):
        with collection.collection_paused():
            pass
        if survivor() is None:
            break
    assert survivor() is None


def test_long_lived_state_is_frozen_once_at_the_first_full_collection(collector_on, monkeypatch):
    monkeypatch.setattr(collection, "_frozen", False)
    gc.unfreeze()
    try:
        for _ in range(1000):
            with collection.collection_paused():
                pass
            if gc.get_freeze_count():
                break
        frozen = gc.get_freeze_count()
        assert frozen > 0
        alive = []
        for _ in range(300):  # later full collections come and go without freezing what lives on
            with collection.collection_paused():
                alive.append(_Cycle())
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


def test_linting_many_files_does_not_pile_up_garbage(collector_on):
    """What a file leaves behind (its parse, kept for the next question, is cyclic) waits at most for the
    collector's next scheduled collection: tracked objects stay bounded however many files are linted."""
    linter = Linter([code for code, rule in all_rules().items() if rule.default_enabled])
    linter.lint(SOURCE)  # the first file loads tables lazily
    gc.collect()
    before = len(gc.get_objects())

    def lint(count):
        for copy in range(count):
            linter.lint(SOURCE + "\n# a new text each time\n" * (copy + 1))
        return len(gc.get_objects())

    after_30 = lint(30)
    after_120 = lint(90)
    per_file = max(1, (after_30 - before) / 30)
    assert after_120 - after_30 < 20 * per_file, (before, after_30, after_120)
