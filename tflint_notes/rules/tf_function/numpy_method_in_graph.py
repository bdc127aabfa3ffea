"""TFN104: see the class docstring (the rule pages are generated from it)."""

from __future__ import annotations

import ast

import libcst as cst

from tflint_notes.rule import PendingFix, Replacement, Rule
from tflint_notes.screen import FileFacts


class NumpyMethodInGraph(Rule):
    """## What it does
    Flags `.numpy()` called on a tensor in graph code.

    ## Why is this bad?
    Symbolic tensors have no value while a graph is traced, so they have no `.numpy()`:
    `AttributeError: 'SymbolicTensor' object has no attribute 'numpy'`. Code that works in eager mode
    (a notebook cell, a direct layer call under Keras 3) breaks under `@tf.function`, `model.fit` or
    `Dataset.map`.

    ## Example
    ```python
    @tf.function
    def scale(x):
        return x.numpy() * 2
    ```

    ## Use instead
    ```python
    @tf.function
    def scale(x):
        return x * 2
    ```

    ## Fix safety
    **Unsafe** (`--unsafe-fixes`): `.numpy()` is dropped, so the value stays a tensor. Code that
    needed a NumPy array (NumPy calls, Python control flow on values) must be rewritten with TF ops.
    No fix when the value is then used as an array (`x.numpy().astype(...)`) or passed to
    `tf.constant(...)`: without `.numpy()` those fail too.

    ## Proof
    [`fixtures/TFN104/`](../fixtures/TFN104/): `before.py` raises the AttributeError; `after_unsafe.py`
    computes the asserted values.
    """

    code = "TFN104"
    expected_errors = ('AttributeError',)
    fix_kind = "unsafe"
    name = "numpy-method-in-graph"
    summary = ".numpy() on a tensor in graph code"

    @staticmethod
    def screen(facts: FileFacts) -> bool:
        return any(type(c.node.func) is ast.Attribute and c.node.func.attr == "numpy" and not c.node.args
                   and not c.node.keywords for c in facts.graph_calls())
    triggers = (".numpy()",)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not (isinstance(func, cst.Attribute) and func.attr.value == "numpy" and not node.args):
            return
        evidence = self.ctx.evidence(func.value)
        if evidence is None:
            return
        fix = None
        if self.ctx.needs_array(node) is None:
            fix = PendingFix([Replacement(node, func.value)], safe=False, description="drop .numpy()")
        self.report(node, ".numpy() on a tensor in {context} fails while tracing (symbolic tensors have no "
                          "value); keep it a tensor and use TF ops", fix=fix, in_graph=True, evidence=evidence,
                    requires_tensor=True)
