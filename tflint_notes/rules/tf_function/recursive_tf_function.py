"""TFN109: see the class docstring (the rule pages are generated from it)."""

from __future__ import annotations

import ast

import libcst as cst

from tflint_notes.analysis import is_tf_function
from tflint_notes.rule import Rule
from tflint_notes.screen import FileFacts


class RecursiveTfFunction(Rule):
    """## What it does
    Flags a `tf.function` (decorated, or wrapped with `tf.function(f)`) that calls itself.

    ## Why is this bad?
    Tracing a recursive `tf.function` re-enters the tracer for the same function: the recursion is
    unrolled at trace time, and with a tensor-dependent stop condition it never ends (TensorFlow
    raises an error or hits the recursion limit). Recursion depth cannot depend on tensor values in a
    graph.

    ## Example
    ```python
    @tf.function
    def factorial(n):
        return 1 if n <= 1 else n * factorial(n - 1)
    ```

    ## Use instead
    ```python
    @tf.function
    def factorial(n):
        result = tf.constant(1)
        for i in tf.range(2, n + 1):
            result *= i
        return result
    ```

    ## Fix safety
    No automatic fix.

    ## Proof
    [`fixtures/TFN109/`](../fixtures/TFN109/): `before.py` fails to trace; `corrected.py` loops.
    """

    code = "TFN109"
    syntactic = True
    name = "recursive-tf-function"
    summary = "tf.function that calls itself"

    @staticmethod
    def screen(facts: FileFacts) -> bool:
        # Exact on the AST: a call by name of a tf.function (or of `g = tf.function(f)`'s f) inside a def of
        # that name -- what `finish` reports, before its shadowing checks.
        names = facts.tf_function_names()
        if not names:
            return False
        wrapped: dict = {}
        for node, _ in facts.assignments:
            if type(node) is ast.Assign and type(node.value) is ast.Call and node.value.args and (
                    type(node.value.args[0]) is ast.Name and facts.is_tf_function(node.value.func)):
                for target in node.targets:
                    if type(target) is ast.Name:
                        wrapped[target.id] = node.value.args[0].id
        for c in facts.calls:
            if c.func is None or type(c.node.func) is not ast.Name or c.node.func.id not in names:
                continue
            targets = {c.node.func.id, wrapped.get(c.node.func.id)}
            func = c.func
            while func is not None:
                if func.name in targets:
                    return True
                func = func.parent
        return False

    def __init__(self, ctx, sink):
        super().__init__(ctx, sink)
        self._calls: list = []  # (call node, enclosing function)
        self._aliases: dict = {}  # wrapper name -> wrapped function name

    def leave_Assign(self, node: cst.Assign) -> None:
        if isinstance(node.value, cst.Call) and node.value.args and is_tf_function(self.ctx.resolve(node.value.func)):
            target_fn = node.value.args[0].value
            if isinstance(target_fn, cst.Name):
                for target in node.targets:
                    if isinstance(target.target, cst.Name):
                        self._aliases[target.target.value] = target_fn.value

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and self.ctx.current_function is not None:
            self._calls.append((node, self.ctx.function_stack[:]))

    def finish(self) -> None:
        for node, stack in self._calls:
            name = node.func.value
            for func in stack:
                reason = self.ctx.graph_root_reason(func)
                if reason is None or func.name is None or "tf.function" not in reason:
                    continue
                if name == func.name or self._aliases.get(name) == func.name:
                    if any(name in f.bound for f in stack if f is not func) or name in func.bound:
                        continue
                    self.report(node, f"{func.name}() is a tf.function that calls itself: the recursion is unrolled "
                                      f"while tracing and cannot stop on a tensor value; use a loop (tf.range / "
                                      f"tf.while_loop)")
                    break
