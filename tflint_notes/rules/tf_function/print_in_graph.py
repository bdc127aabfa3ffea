"""TFN103 and TFN904: see the class docstrings (the rule pages are generated from them)."""

from __future__ import annotations

import ast
import re
from typing import ClassVar

import libcst as cst

from tflint_notes.analysis import merge
from tflint_notes.rule import PendingFix, Replacement, Rule
from tflint_notes.screen import FileFacts
from tflint_notes.rules.tf_function._shared import _is_builtin


class PrintInGraph(Rule):
    """## What it does
    Flags the builtin `print(...)` of a tensor in graph code: an argument is tensor-valued by the same
    evidence TFN101 uses (a parameter of the graph function, a value computed by TF ops or layers, an
    f-string or `%` formatting of one). Printing shapes, strings and Python numbers at trace time is a
    deliberate debugging habit and is not flagged; TFN904 (off by default) flags every `print` in graph
    code. A print whose text says it is about tracing (`print("Tracing", x)`) is a trace-time log on
    purpose and is not flagged either. A model class whose every `compile(...)` in the module passes `run_eagerly=True` runs its
    `train_step`/`call` eagerly under `fit`: a print there prints every step and is not flagged.

    ## Why is this bad?
    `print` is Python: in graph code it runs once, while tracing, and shows symbolic tensors
    (`Tensor("add:0", shape=(), dtype=float32)`) instead of values. Later calls print nothing, so the
    debugging output you rely on silently disappears.

    ## Example
    ```python
    @tf.function
    def step(x):
        print("loss", x)
        return x * 2
    ```

    ## Use instead
    ```python
    @tf.function
    def step(x):
        tf.print("loss", x)
        return x * 2
    ```

    ## Fix safety
    **Safe** when the call has only positional arguments and `sep=`/`end=`: `print` becomes
    `tf.print` (your TensorFlow alias is kept), which prints on every call, with values. Note that
    `tf.print` writes to standard error by default. Calls with `file=` or `flush=` get no fix. In a
    module that does not import TensorFlow (backend-agnostic Keras 3 code), the fix must add
    `import tensorflow as tf`, making TensorFlow a dependency: there it is **unsafe**.

    ## Proof
    [`fixtures/TFN103/`](../fixtures/TFN103/): `before.py` prints once for three calls; `after.py`
    prints three times, with values.
    """

    code = "TFN103"
    fix_kind = "safe"
    name = "print-in-graph"
    summary = "print() in graph code (runs only while tracing)"

    @staticmethod
    def screen(facts: FileFacts) -> bool:
        return any(type(c.node.func) is ast.Name and c.node.func.id == "print" for c in facts.graph_calls())
    triggers = ("print",)

    #: Only prints of tensor-valued arguments (TFN904 drops this condition).
    tensors_only: ClassVar[bool] = True

    def visit_Call(self, node: cst.Call) -> None:
        if not _is_builtin(self.ctx, node.func, "print"):
            return
        evidence = None
        if self.tensors_only:
            if any(_TRACING.search(_literal_text(a.value)) for a in node.args if a.keyword is None):
                return  # print("Tracing", x): a trace-time log, on purpose
            evidence = merge(self._printed_evidence(a.value) for a in node.args if a.keyword is None)
            if evidence is None:
                return
        fix = None
        alias = self.module_alias_for("tensorflow", "tf")
        if alias is not None and all(a.keyword is None or a.keyword.value in ("sep", "end") for a in node.args) and (
                not any(a.star == "**" for a in node.args)):
            name, add_import = alias
            fix = PendingFix([Replacement(node.func, f"{name}.print")], safe=True, description="use tf.print",
                             add_import=add_import)
        message = ("print() in {context} runs once, at trace time, and shows symbolic tensors; use tf.print()"
                   if self.tensors_only else
                   "print() in {context} runs once, at trace time, not on every call; use tf.print() to print "
                   "on every call")
        self.report(node, message, fix=fix, in_graph=True, evidence=evidence, requires_tensor=self.tensors_only)

    def _printed_evidence(self, value: cst.BaseExpression):
        if isinstance(value, cst.FormattedString):  # f"loss {loss}"
            return merge(self.ctx.evidence(part.expression) for part in value.parts
                         if isinstance(part, cst.FormattedStringExpression))
        return self.ctx.evidence(value)


_TRACING = re.compile(r"(?i)\btrac(e|es|ed|ing)\b")


def _literal_text(value: cst.BaseExpression) -> str:
    """The literal text of a string argument (an f-string's fixed parts), "" for anything else."""
    if isinstance(value, (cst.SimpleString, cst.ConcatenatedString)):
        text = value.evaluated_value
        return text if isinstance(text, str) else ""
    if isinstance(value, cst.FormattedString):
        return "".join(p.value for p in value.parts if isinstance(p, cst.FormattedStringText))
    return ""


class PrintInGraphAny(PrintInGraph):
    """## What it does
    Flags every builtin `print(...)` in graph code, whatever it prints: the broad form of TFN103, off
    by default (`--select TFN904`), for code bases that want no trace-time printing at all. TFN103
    reports only prints of tensors; where both are enabled, a line is reported once, as TFN103.

    ## Why is this bad?
    `print` in graph code runs once, while tracing. For shapes, strings and Python numbers that is often
    what you want (a trace-time log); for anything that should be printed on every call it is not.

    ## Example
    ```python
    @tf.function
    def step(x):
        print("tracing step")
        return x * 2
    ```

    ## Use instead
    ```python
    @tf.function
    def step(x):
        tf.print("running step")
        return x * 2
    ```

    ## Fix safety
    As TFN103: **safe** `print` → `tf.print` when the call has only positional arguments and
    `sep=`/`end=` (unsafe where it must add `import tensorflow as tf`).

    ## Proof
    [`fixtures/TFN904/`](../fixtures/TFN904/): `before.py` prints once for three calls; `after.py` prints
    on every call.
    """

    code = "TFN904"
    name = "print-in-graph-any"
    summary = "any print() in graph code, shapes and strings included (broad form of TFN103)"
    default_enabled = False
    narrows = "TFN103"
    tensors_only = False
