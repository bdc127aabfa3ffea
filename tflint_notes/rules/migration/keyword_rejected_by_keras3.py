"""TFN610 keyword-rejected-by-keras3."""

from __future__ import annotations

import ast

import libcst as cst

from tflint_notes.analysis import canonical
from tflint_notes.keras_arguments import renamed_argument
from tflint_notes.rules.keywords import MODEL_METHOD_PREFIX, closest, keras3_signatures, signatures
from tflint_notes.rules.migration._shared import GuardedRule, keras3_callable, may_be_model
from tflint_notes.screen import FileFacts

_REJECTED: dict[tuple[str, str], bool] = {}


def rejected_here(name: str, word: str) -> bool:
    """Does Keras 3's `name` reject `word=`, and is this rule the one to say so?  Not when TFN605 knows the
    keyword as a Keras 1/2 rename, nor when TFN301 takes it for a misspelling (one close valid name).
    Memoised per process (screens ask in every file)."""
    key = (name, word)
    found = _REJECTED.get(key)
    if found is None:
        entry = keras3_signatures().get(name)
        merged = signatures().get(name, frozenset())
        found = _REJECTED[key] = (
            entry is not None and word not in entry[1] and renamed_argument(name, word, merged) is None
            and not (word not in merged and closest(word, merged) is not None))
    return found


class KeywordRejectedByKeras3(GuardedRule):
    """## What it does
    Flags a keyword argument that the Keras 3 callable it is passed to rejects: a function or method without
    `**kwargs` (`Model.fit`, `Model.compile`, `Model.predict`, callbacks, losses, `keras.Input`, ...) or a
    constructor whose `**kwargs` Keras 3 checks against a fixed set (every layer, through `Layer.__init__`;
    the optimizers). The accepted keywords come from a table generated from the installed Keras 3
    (`scripts/gen_signatures.py`); callables whose `**kwargs` go somewhere the generator cannot follow are
    not in it and are never checked. Only where the callee is certain, as for TFN605: a resolved `keras.*`
    / `tf.keras.*` name on a Keras 3 target, or a method of a model the analysis knows.

    One line is reported once: a keyword with exactly one close valid name is TFN301's (a misspelling), a
    Keras 1/2 keyword with a known replacement is TFN605's; this rule reports the rest — keywords Keras 3
    simply dropped (`compile(sample_weight_mode=...)`, `compile(target_tensors=...)`, `Dense(weights=...)`,
    `ModelCheckpoint(options=...)`) and keywords no Keras ever had.

    ## Why is this bad?
    The call raises `TypeError: ... got an unexpected keyword argument 'sample_weight_mode'` or, for layers,
    `ValueError: Unrecognized keyword arguments passed to Dense: {'weights': ...}` — often after the data
    was loaded, or only in the code path that builds the model for export.

    ## Example
    ```python
    model = keras.Sequential([keras.Input((5, 2)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse", sample_weight_mode="temporal")
    ```

    ## Use instead
    ```python
    model = keras.Sequential([keras.Input((5, 2)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")  # Keras 3 reads per-timestep weights from their shape
    ```

    ## Fix safety
    No fix: what replaces a dropped keyword depends on what it did (the message says which Keras 3 callable
    rejects it and whether tf_keras took it).

    ## Proof
    [`fixtures/TFN610/`](../fixtures/TFN610/): each `before.py` raises the TypeError/ValueError under
    Keras 3 and runs under tf_keras; the `corrected.py` programs run under both.
    """

    code = "TFN610"
    fix_kind = "none"
    name = "keyword-rejected-by-keras3"
    summary = "keyword argument that the Keras 3 callable rejects (sample_weight_mode, Dense(weights=), ...)"
    triggers = ("keras",)
    expected_errors = ("TypeError", "ValueError")

    @staticmethod
    def screen(facts: FileFacts) -> bool:
        if not facts.may_be_keras3():
            return False  # Keras 3 only, and the project's tf.keras and keras are both Keras 2
        table = keras3_signatures()
        for c in facts.calls:
            node = c.node
            words = [k.arg for k in node.keywords if k.arg is not None]
            if not words:
                continue
            func = node.func
            names = [name for name in {canonical(q) for q in facts.qualnames(func) if facts.may_be_keras3_name(q)}
                     if name in table]
            if type(func) is ast.Attribute and MODEL_METHOD_PREFIX + func.attr in table and may_be_model(func.value, facts):
                names.append(MODEL_METHOD_PREFIX + func.attr)
            if any(rejected_here(name, word) for name in names for word in words):
                return True
        return False

    def visit_Call(self, node: cst.Call) -> None:
        keywords = [a for a in node.args if a.keyword is not None]
        if not keywords or self.guarded:
            return
        found = keras3_callable(self.ctx, node)
        if found is None:
            return
        name, requires = found
        entry = keras3_signatures().get(name)
        if entry is None:
            return
        error, _ = entry
        shown = name[len("keras."):]
        merged = signatures().get(name, frozenset())
        for arg in keywords:
            word = arg.keyword.value
            if not rejected_here(name, word):
                continue
            consequence = (f"TypeError: got an unexpected keyword argument '{word}'" if error == "TypeError"
                           else "ValueError: unrecognized keyword argument")
            legacy = "; tf_keras accepted it" if word in merged else ""
            self.report(arg.keyword, f"Keras 3 `{shown}` has no keyword `{word}` ({consequence}{legacy}); remove it "
                                     f"or use what Keras 3 offers instead", requires_keras=requires)
