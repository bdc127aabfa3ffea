"""TFN901: see the class docstring (the rule page is generated from it)."""

from __future__ import annotations


import libcst as cst

from tflint_notes.analysis import canonical
from tflint_notes.rule import Rule
from tflint_notes.screen import FileFacts
from tflint_notes.rules.keywords._shared import callee_text

class ReduceWithoutAxis(Rule):
    """## What it does
    Flags `tf.reduce_*` (`reduce_sum`, `reduce_mean`, `reduce_max`, ...) called without an `axis`.
    Off by default: enable it with `--select TFN901` or `select = ["TFN901"]`.

    ## Why is this bad?
    Without `axis` the reduction runs over *every* dimension, batch included. That is right for a final
    scalar loss, but a frequent mistake in per-example computations (`tf.reduce_sum(x * w)` meant per
    row), which then silently broadcast a scalar.

    ## Example
    ```python
    row_norms = tf.sqrt(tf.reduce_sum(tf.square(x)))
    ```

    ## Use instead
    ```python
    row_norms = tf.sqrt(tf.reduce_sum(tf.square(x), axis=-1))
    ```

    ## Fix safety
    No automatic fix: only the author knows the axis.

    ## Proof
    [`fixtures/TFN901/`](../fixtures/TFN901/): `before.py` computes one number where a vector was
    meant; `corrected.py` passes the axis.
    """

    code = "TFN901"
    syntactic = True
    name = "reduce-without-axis"
    summary = "tf.reduce_* without axis reduces every dimension"

    @staticmethod
    def screen(facts: FileFacts) -> bool:
        for c in facts.calls:
            node = c.node
            if len(node.args) >= 2 or any(k.arg in ("axis", "reduction_indices") for k in node.keywords):
                continue
            if any(name.startswith(("tensorflow.reduce_", "tensorflow.math.reduce_"))
                   for name in facts.canonical_names(node.func)):
                return True
        return False
    default_enabled = False
    triggers = ("reduce_",)

    def visit_Call(self, node: cst.Call) -> None:
        qual = self.ctx.resolve(node.func)
        if qual is None:
            return
        name = canonical(qual)
        if not (name.startswith("tensorflow.reduce_") or name.startswith("tensorflow.math.reduce_")):
            return
        if any(a.star for a in node.args):
            return
        positional = [a for a in node.args if a.keyword is None]
        if len(positional) >= 2 or any(a.keyword is not None and a.keyword.value in ("axis", "reduction_indices")
                                       for a in node.args):
            return
        self.report(node, f"{callee_text(node)}() without axis reduces over every dimension, batch included; pass "
                          f"axis= (or axis=None to say it is meant)")
