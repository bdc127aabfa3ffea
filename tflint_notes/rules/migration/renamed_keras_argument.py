"""TFN605 renamed-keras-argument."""

from __future__ import annotations

import ast

import libcst as cst

from tflint_notes.analysis import canonical
from tflint_notes.api import pool_size_required
from tflint_notes.fixes import append_call_argument
from tflint_notes.rule import PendingFix, Replacement
from tflint_notes.rules.keywords import MODEL_METHOD_PREFIX, signatures, without_arg
from tflint_notes.keras_arguments import (
    BY_KEYWORD, DROP_SAFE, DROP_UNSAFE, RENAME, renamed_argument,
)
from tflint_notes.rules.migration._shared import GuardedRule, dotted_text, keras3_callable, may_be_model
from tflint_notes.screen import FileFacts


class RenamedKerasArgument(GuardedRule):
    """## What it does
    Flags a keyword argument of Keras 1/2 that Keras 3 rejects or silently ignores, from a curated table
    in which each entry's behaviour is shown by a fixture: `lr` → `learning_rate` on optimizers
    (`ValueError: Argument(s) not recognized`), `nb_epoch` → `epochs` on `fit`, `init` →
    `kernel_initializer`, `W_regularizer`/`b_regularizer`/`W_constraint`/`b_constraint` →
    `kernel_*`/`bias_*`, `border_mode` → `padding`, `subsample` → `strides`, `nb_filter` → `filters`,
    `output_dim` → `units`, `dropout_W` → `dropout`, `dropout_U` → `recurrent_dropout`, `input`/`output` →
    `inputs`/`outputs` on `Model`, `period` on `ModelCheckpoint`, `workers`/`use_multiprocessing`/
    `max_queue_size` on `fit`/`evaluate`/`predict`, `batch_input_shape` on layers, `fused` on
    `BatchNormalization`; and the silently ignored ones: `decay` on optimizers (the schedule is lost),
    `input_length` on `Embedding`. Also `AveragePooling*` built without `pool_size`, which Keras 3 made
    required. Only Keras 3 targets are checked (`keras.*`, and `tf.keras.*` unless the file targets legacy
    Keras); `fit` and friends on models the analysis knows (also a parameter the module shows to be a
    model, as for TFN301), not on look-alikes (scikit-learn's `fit`) nor on a model class that defines the
    method itself.

    TFN301 consults this table first: `LSTM(dropout_U=...)` is reported here with its true replacement,
    `recurrent_dropout`, never as a misspelling of `dropout`.

    ## Why is this bad?
    Keras 3 rejects most of these keywords (`ValueError: Unrecognized keyword arguments passed to Dense:
    {'init': ...}`), often after the data was loaded; `decay` and `input_length` are worse: accepted with a
    warning and ignored, so a Keras 2 training schedule silently stops decaying.

    ## Example
    ```python
    optimizer = keras.optimizers.Adam(lr=1e-3)
    layer = keras.layers.LSTM(32, dropout_U=0.2)
    ```

    ## Use instead
    ```python
    optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    layer = keras.layers.LSTM(32, recurrent_dropout=0.2)
    ```

    ## Fix safety
    **Safe** for renames with identical meaning, for dropping `input_length` (Keras 3 ignores it) and `fused`
    (an implementation choice Keras 3 makes itself), and for adding Keras 2's default `pool_size` to
    `AveragePooling*`. **Unsafe**: dropping `workers`/`use_multiprocessing`/`max_queue_size` (a Python
    generator then runs single-threaded; wrap it in a `keras.utils.PyDataset` to keep the workers). No fix
    for `decay` (use a `LearningRateSchedule`), `period` (`save_freq` counts batches) and `batch_input_shape`
    (`keras.Input(batch_shape=...)`): the message says how.

    ## Proof
    [`fixtures/TFN605/`](../fixtures/TFN605/): every `before.py` fails (or silently misbehaves) under Keras 3
    and runs under tf_keras; the fixed programs run under Keras 3.
    """

    code = "TFN605"
    fix_kind = "safe/unsafe"
    name = "renamed-keras-argument"
    summary = "Keras 1/2 keyword argument that Keras 3 rejects or ignores (lr, nb_epoch, init, dropout_U, ...)"
    triggers = ("keras",)
    expected_errors = ("TypeError", "ValueError")

    @staticmethod
    def screen(facts: FileFacts) -> bool:
        if not facts.may_be_keras3():
            return False  # Keras 3 only, and the project's tf.keras and keras are both Keras 2
        pooling = {name.rsplit(".", 1)[-1] for name in pool_size_required()}
        for c in facts.calls:
            node = c.node
            func = node.func
            words = [k.arg for k in node.keywords if k.arg in BY_KEYWORD]
            if words:
                # a Keras callable (`keras.optimizers.Adam(lr=...)`) or a model method (`m.fit(nb_epoch=...)`)
                names = [n for n in {canonical(q) for q in facts.qualnames(func) if facts.may_be_keras3_name(q)}
                         if n.startswith("keras.")]
                if type(func) is ast.Attribute and may_be_model(func.value, facts):
                    names.append(MODEL_METHOD_PREFIX + func.attr)
                if any(renamed_argument(name, word, signatures().get(name)) is not None for name in names for word in words):
                    return True
            leaf = func.attr if type(func) is ast.Attribute else func.id if type(func) is ast.Name else ""
            if leaf in pooling and not node.args and all(k.arg not in (None, "pool_size") for k in node.keywords):
                return True  # no pool_size, and nothing positional or unpacked that could carry it
        return False

    def visit_Call(self, node: cst.Call) -> None:
        if self.guarded:
            return
        self._requires = None
        name = self._callable(node)
        if name is None:
            return
        accepted = signatures().get(name)
        passed = {a.keyword.value for a in node.args if a.keyword is not None}
        for arg in node.args:
            if arg.keyword is None:
                continue
            entry = renamed_argument(name, arg.keyword.value, accepted)
            if entry is not None:
                self._report(node, arg, entry, passed)
        if name in {f"keras.{k}" for k in pool_size_required()} and "pool_size" not in passed and not any(
                a.keyword is None for a in node.args):
            default = pool_size_required()[name[len("keras."):]]
            value = repr(tuple(default)) if isinstance(default, list) else repr(default)
            self.report(node, f"{dotted_text(node.func)}() without pool_size: Keras 3 requires it (TypeError: missing "
                              f"1 required positional argument: 'pool_size'); Keras 2's default was {value}",
                        fix=PendingFix([], safe=True, description=f"pass pool_size={value}",
                                       build_edits=lambda loc: append_call_argument(loc, node, f"pool_size={value}")))

    def _callable(self, node: cst.Call) -> str | None:
        found = keras3_callable(self.ctx, node)
        if found is None:
            return None
        self._requires = found[1]
        return found[0]

    def _report(self, call: cst.Call, arg: cst.Arg, entry, passed: set) -> None:
        word = arg.keyword.value
        fix = None
        if entry.action == RENAME:
            if entry.new not in passed:
                fix = PendingFix([Replacement(arg.keyword, entry.new)], safe=True, description=f"rename to {entry.new}=")
            message = f"`{word}=` is Keras 2; Keras 3 calls it `{entry.new}=` ({entry.consequence})"
        else:
            message = f"`{word}=` is Keras 2: Keras 3 {'rejects it' if 'Error' in entry.consequence else 'ignores it'} " \
                      f"({entry.consequence})"
            if entry.advice:
                message += f"; {entry.advice}"
            if entry.action in (DROP_SAFE, DROP_UNSAFE):
                fix = PendingFix([Replacement(call, without_arg(call, arg))], safe=entry.action == DROP_SAFE,
                                 description=f"drop {word}=")
        self.report(arg.keyword, message, fix=fix, requires_keras=self._requires)
