"""TFN609 add-weight-positional-name."""

from __future__ import annotations

import ast

import libcst as cst

from tflint_notes.results import Edit
from tflint_notes.rule import PendingFix
from tflint_notes.rules.keywords import own_method
from tflint_notes.rules.migration._shared import GuardedRule, keras_bound_names
from tflint_notes.screen import FileFacts

# Keras 2's `Layer.add_weight(name, shape, dtype, initializer, regularizer, trainable, constraint, ...)`: the
# positional order the old code relies on.  Every one of these is a keyword of Keras 3's add_weight too.
KERAS2_ORDER = ("name", "shape", "dtype", "initializer", "regularizer", "trainable", "constraint")
_STRING = (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)


class AddWeightPositionalName(GuardedRule):
    """## What it does
    Flags `add_weight("kernel", ...)` — the weight's name passed as the first positional argument — on a
    Keras 3 layer or model: `self.add_weight(...)` in a Keras layer/model class of the module (also through
    its own base classes or a base class of another project module), or on a layer object the analysis
    knows. Only a literal string counts as the name (`add_weight(shape, ...)`, Keras 3's own order, is not
    flagged). Not flagged: legacy-Keras (tf_keras) targets, where the positional name still works, and
    classes that define their own `add_weight`.

    ## Why is this bad?
    Keras 2's `add_weight` took `name` first; Keras 3's first parameter is `shape`, and it refuses a string
    there: `ValueError: `name` must be passed as a keyword argument. Received: add_weight('kernel', ...)`,
    or, with more than three positional arguments, `TypeError: add_weight() takes at most 3 positional
    arguments` — raised when the layer is built, typically at the model's first call.

    ## Example
    ```python
    class Scale(keras.layers.Layer):
        def build(self, input_shape):
            self.scale = self.add_weight("scale", (input_shape[-1],), "float32", "ones")
    ```

    ## Use instead
    ```python
    class Scale(keras.layers.Layer):
        def build(self, input_shape):
            self.scale = self.add_weight(name="scale", shape=(input_shape[-1],), dtype="float32",
                                         initializer="ones")
    ```

    ## Fix safety
    **Safe**: every positional argument gets the keyword of its Keras 2 position (`name`, `shape`, `dtype`,
    `initializer`, `regularizer`, `trainable`, `constraint`), so each value means what it meant; Keras 3
    accepts all of them. No fix with more than seven positional arguments (Keras 2's `use_resource` and
    later have no Keras 3 keyword), with `*args`, or when a keyword of those positions is also passed.

    ## Proof
    [`fixtures/TFN609/`](../fixtures/TFN609/): `before.py` raises the ValueError under Keras 3 and runs under
    tf_keras; the fixed programs build the layer with the same weights under Keras 3.
    """

    code = "TFN609"
    fix_kind = "safe"
    name = "add-weight-positional-name"
    summary = "add_weight(\"name\", ...) with the name positional: Keras 3 raises ValueError"
    triggers = ("add_weight",)
    expected_errors = ("ValueError", "TypeError")

    @staticmethod
    def screen(facts: FileFacts) -> bool:
        if not facts.may_be_keras3():
            return False  # Keras 3 only, and the project's tf.keras and keras are both Keras 2
        for c in facts.calls:
            node = c.node
            func = node.func
            if (type(func) is ast.Attribute and func.attr == "add_weight" and node.args
                    and type(node.args[0]) in (ast.Constant, ast.JoinedStr)
                    and (type(node.args[0]) is ast.JoinedStr or isinstance(node.args[0].value, str))):
                # on a layer or model keras_object can know: self in a Keras class, a name bound to one
                receiver = func.value
                if type(receiver) is ast.Name:
                    if receiver.id == "self":
                        if facts.keras_classes() or (facts.view is not None and facts.view.keras):
                            return True
                    elif keras_bound_names(facts).get(receiver.id):
                        return True
                elif type(receiver) in (ast.Call, ast.Subscript):
                    return True
        return False

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not (isinstance(func, cst.Attribute) and func.attr.value == "add_weight" and node.args):
            return
        first = node.args[0]
        if first.keyword is not None or first.star or not isinstance(first.value, _STRING):
            return
        if self.guarded:
            return
        obj = self.ctx.keras_object(func.value)
        if obj is None or obj.kind not in ("layer", "model") or obj.flavour != "keras3":
            return
        if own_method(self.ctx, obj.cls, "add_weight") is not None:
            return  # the class's own add_weight decides what its arguments mean
        if obj.project is not None and "add_weight" in (self.ctx.project_methods(obj.project) or ()):
            return
        self.report(first.value, "add_weight() with the weight's name positional: Keras 3's first parameter is shape "
                          "(ValueError: `name` must be passed as a keyword argument, or TypeError with more than 3 "
                          "positional arguments); pass name=... and the other arguments by keyword", fix=_keyword_fix(node))


def _keyword_fix(node: cst.Call) -> PendingFix | None:
    positional = [arg for arg in node.args if arg.keyword is None]
    if any(arg.star for arg in node.args if arg.keyword is None) or len(positional) > len(KERAS2_ORDER):
        return None
    if positional != list(node.args[:len(positional)]):
        return None
    passed = {arg.keyword.value for arg in node.args if arg.keyword is not None}
    names = KERAS2_ORDER[:len(positional)]
    if passed & set(names):
        return None  # Keras 2 raised on it too ("multiple values"): not ours to guess

    def build_edits(loc):
        edits = []
        for arg, keyword in zip(positional, names):
            start = loc.span(arg)[0]
            edits.append(Edit(start, start, f"{keyword}="))
        return edits

    return PendingFix([], safe=True, description="pass the arguments by their Keras 2 keywords",
                      build_edits=build_edits)
