"""TFN105: see the class docstring (the rule pages are generated from it)."""

from __future__ import annotations

import libcst as cst

from tflint_notes.analysis import canonical
from tflint_notes.rule import Rule
from tflint_notes.screen import FileFacts
from tflint_notes.rules.tf_function._shared import _is_none_node


def _is_lazy_guard(test: cst.BaseExpression) -> bool:
    """`x is None`, `self.v is None`, `not hasattr(self, ...)`, `not self.built` (and `and`/`or` of them)."""
    if isinstance(test, cst.BooleanOperation):
        return _is_lazy_guard(test.left) or _is_lazy_guard(test.right)
    if isinstance(test, cst.Comparison):
        return any(isinstance(t.operator, cst.Is) and _is_none_node(t.comparator) for t in test.comparisons)
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        inner = test.expression
        if isinstance(inner, cst.Call) and isinstance(inner.func, cst.Name) and inner.func.value == "hasattr":
            return True
        if isinstance(inner, cst.Attribute) and inner.attr.value in ("built", "_built", "initialized"):
            return True
        return isinstance(inner, (cst.Name, cst.Attribute))  # `if not self._vars:`
    return False


class VariableInGraph(Rule):
    """## What it does
    Flags `tf.Variable(...)` created in graph code — a `@tf.function`, a Keras `train_step`/
    `test_step`/`predict_step`, a `tf.data` function or a helper called from them — outside the lazy
    creation pattern `if self.v is None: self.v = tf.Variable(...)`. (A `tf.Variable` in a Keras
    layer's `call` is TFN201.)

    ## Why is this bad?
    A `tf.function` may trace more than once, and a variable created in its body would be a new
    variable on every trace. TensorFlow refuses:
    `ValueError: tf.function only supports singleton tf.Variables created on the first call. Make sure
    the tf.Variable is only created once or created outside tf.function.`

    ## Example
    ```python
    @tf.function
    def accumulate(x):
        total = tf.Variable(0.0)
        total.assign_add(tf.reduce_sum(x))
        return total
    ```

    ## Use instead
    ```python
    total = tf.Variable(0.0)

    @tf.function
    def accumulate(x):
        total.assign_add(tf.reduce_sum(x))
        return total
    ```

    ## Fix safety
    No automatic fix: where the variable should live (module level, `__init__`, a `tf.Module`) is a
    design decision.

    ## Proof
    [`fixtures/TFN105/`](../fixtures/TFN105/): `before.py` raises the ValueError; `corrected.py`
    creates the variable once.
    """

    code = "TFN105"
    expected_errors = ('ValueError',)
    name = "variable-in-graph"
    summary = "tf.Variable created inside a tf.function body"

    @staticmethod
    def screen(facts: FileFacts) -> bool:
        return any("tensorflow.Variable" in facts.canonical_names(c.node.func) for c in facts.graph_calls())
    triggers = ("Variable",)

    def __init__(self, ctx, sink):
        super().__init__(ctx, sink)
        self._guards = 0

    def visit_If(self, node: cst.If) -> None:
        if _is_lazy_guard(node.test):
            self._guards += 1

    def leave_If(self, node: cst.If) -> None:
        if _is_lazy_guard(node.test):
            self._guards -= 1

    def visit_Call(self, node: cst.Call) -> None:
        qual = self.ctx.resolve(node.func)
        if qual is None or canonical(qual) != "tensorflow.Variable" or self._guards:
            return
        func = self.ctx.current_function
        method = func
        while method is not None and method.name is None:
            method = method.parent
        if method is not None and method.name == "call" and method.cls is not None and self.ctx.class_is_keras(
                method.cls):
            return  # TFN201's case
        self.report(node, "tf.Variable(...) created in {context}: it would be a new variable on every trace "
                          "(ValueError: tf.function only supports singleton tf.Variables); create it once, "
                          "outside, or behind `if self.v is None:`", in_graph=True)
