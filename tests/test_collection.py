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


def test_a_nested_pause_leaves_its_cycles_to_the_outer_pause(collector_on):
    """Inside a file's pause the file's own trees are still alive: a young collection there would only
    promote them (and their cycles would then wait for a full collection)."""
    gc.collect()
    with collection.collection_paused():
        with collection.collection_paused():
            dead = weakref.ref(_Cycle())
        assert dead() is not None
        assert not gc.isenabled()
    assert gc.isenabled()
    [_Cycle() for _ in range(1000)]  # the next allocations run the collection that is due
    assert dead() is None


def test_a_nested_pause_asked_for_it_collects_its_own_cycles_and_keeps_the_outer_pause(collector_on):
    gc.collect()
    with collection.collection_paused():
        with collection.collection_paused(young=True):
            dead = weakref.ref(_Cycle())
        assert dead() is None
        assert not gc.isenabled()
    assert gc.isenabled()


def test_full_collections_follow_cpythons_schedule_not_every_tenth_young_one(collector_on):
    """A long-lived heap (the project index of a big repository) must not be rescanned every tenth file:
    CPython runs a full collection only when the objects promoted since the last one reach a quarter of the
    long-lived heap.  Choosing the generation by the counts alone did: 251 full collections over the realcode
    corpus, a third of the run."""
    long_lived = [[i] for i in range(200_000)]
    gc.collect()
    before = gc.get_stats()[2]["collections"]
    for _ in range(1000):  # files whose work leaves nothing behind
        with collection.collection_paused():
            [_Cycle() for _ in range(1000)]
    assert gc.get_stats()[2]["collections"] - before <= 1
    del long_lived


def test_garbage_in_the_oldest_generation_goes_at_cpythons_next_full_collection(collector_on, monkeypatch):
    """What a pause's end promotes (something still alive then) and later drops is freed when the long-lived
    heap has grown enough for CPython to run a full collection: the pauses must not keep that schedule
    from running (as leaving the collector off, or collecting only the young generation, would)."""
    monkeypatch.setattr(collection, "_frozen", True)  # no freeze while `kept` is alive (tested below)
    gc.collect()
    kept = [_Cycle()]
    survivor = weakref.ref(kept[0])
    for _ in range(40):  # each pause's end promotes `kept` a generation further, as it would a file's parse
        with collection.collection_paused():
            [_Cycle() for _ in range(1000)]
    kept.clear()  # garbage now, in the oldest generation
    growing = []  # the project index, say: state that lives on and makes the long-lived heap grow
    for _ in range(2000):
        with collection.collection_paused():
            growing.append([[i] for i in range(100)])
        if survivor() is None:
            break
    assert survivor() is None


def test_long_lived_state_is_frozen_once_at_the_first_full_collection(collector_on, monkeypatch):
    monkeypatch.setattr(collection, "_frozen", False)
    gc.unfreeze()
    growing = []
    try:
        for _ in range(2000):
            with collection.collection_paused():
                growing.append([[i] for i in range(100)])
            if gc.get_freeze_count():
                break
        frozen = gc.get_freeze_count()
        assert frozen > 0
        full = gc.get_stats()[2]["collections"]
        for _ in range(2000):  # later full collections come and go without freezing what lives on
            with collection.collection_paused():
                growing.append([[i] for i in range(100)])
        assert gc.get_stats()[2]["collections"] > full
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


def test_linting_many_files_does_not_pile_up_garbage(collector_on):
    """What a file leaves behind (its trees are cyclic) dies young: after the young generations are
    collected, tracked objects stay bounded however many files are linted."""
    linter = Linter([code for code, rule in all_rules().items() if rule.default_enabled])
    linter.lint(SOURCE)  # the first file loads tables lazily
    gc.collect()
    before = len(gc.get_objects())

    def lint(count):
        for copy in range(count):
            linter.lint(SOURCE + "\n# a new text each time\n" * (copy + 1))
        gc.collect(1)  # what is young is not piled up; what reached the oldest generation would be
        return len(gc.get_objects())

    after_30 = lint(30)
    after_120 = lint(90)
    per_file = max(1, (after_30 - before) / 30)
    assert after_120 - after_30 < 20 * per_file, (before, after_30, after_120)


def test_the_cli_lets_each_files_parse_go_when_the_file_is_done(tmp_path):
    """The CLI keeps the last parse for the project index only while the file is processed."""
    from tflint_notes import cli
    from tflint_notes.config import Settings

    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\ndependencies = ['tensorflow']\n")
    module = tmp_path / "m.py"
    module.write_text(SOURCE)
    job = cli.Job(command="check", diff=False, stdin_filename=None, settings=Settings(root=str(tmp_path)),
                  cache_dir=None)
    outcome = cli.process_file(str(module), job)
    assert outcome.facts is not None  # the index got the facts of that parse
    assert cli._linter_for(job)._last_parse is None
