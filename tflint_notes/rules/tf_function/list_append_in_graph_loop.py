"""TFN106: see the class docstring (the rule pages are generated from it)."""

from __future__ import annotations

import ast

import libcst as cst

from tflint_notes.analysis import DEFINITELY_TENSOR, canonical, names_bound_by_target
from tflint_notes.rule import Rule
from tflint_notes.screen import FileFacts, names_bound
from tflint_notes.rules.tf_function._shared import _is_builtin


# TF functions that return a Python list of tensors: a loop over it is unrolled while tracing.
_RETURNS_PYTHON_LIST = frozenset({
    "tensorflow.unstack", "tensorflow.split", "tensorflow.meshgrid", "tensorflow.dynamic_partition",
    "tensorflow.math.dynamic_partition", "tensorflow.nest.flatten", "tensorflow.unique_with_counts",
})


_PYTHON_ITERABLES = frozenset({"range", "enumerate", "zip", "list", "tuple", "sorted", "reversed", "dict", "set",
                                "map", "filter", "len", "iter"})


def _may_iterate_tensor(iterator: ast.AST, assigned: set, facts: FileFacts) -> bool:
    """Could `ctx.evidence` find this iterator surely a tensor?  Not a literal, a comprehension, a builtin's
    result, or a name the file never assigns (a parameter: maybe a Python list)."""
    kind = type(iterator)
    if kind in (ast.List, ast.Tuple, ast.Set, ast.Dict, ast.Constant, ast.ListComp, ast.GeneratorExp, ast.SetComp,
                ast.DictComp, ast.JoinedStr):
        return False
    if kind is ast.Call:
        func = iterator.func
        return not (type(func) is ast.Name and func.id in _PYTHON_ITERABLES and func.id not in facts.imports
                    and func.id not in facts.functions_named and func.id not in assigned)
    if kind is ast.Name:
        return iterator.id in assigned
    return True


def _append_in_tensor_loop(root: ast.AST, wanted: set, assigned: set, facts: FileFacts) -> bool:
    """Is one of the `wanted` append calls inside a `for` statement of `root`'s own body (nested functions
    apart) whose iterator may be a tensor?"""
    stack = [(child, False) for child in ast.iter_child_nodes(root)]
    while stack:
        node, in_tensor_loop = stack.pop()
        kind = type(node)
        if kind in (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef):
            continue
        if kind is ast.Call and in_tensor_loop and id(node) in wanted:
            return True
        if kind is ast.For or kind is ast.AsyncFor:
            inside = in_tensor_loop or _may_iterate_tensor(node.iter, assigned, facts)
            # the rule's loop covers the whole statement, `else:` included
            stack.extend((child, inside) for child in (node.iter, node.target, *node.body, *node.orelse))
            continue
        stack.extend((child, in_tensor_loop) for child in ast.iter_child_nodes(node))
    return False


class ListAppendInGraphLoop(Rule):
    """## What it does
    Flags `some_list.append(tensor)` on a Python list inside a loop over `tf.range(...)` or over a
    tensor computed by TF ops, in graph code. (A loop over a parameter is not flagged: it may be a
    Python list of tensors, whose loop is unrolled. Nor is a loop over `tf.unstack(...)`, `tf.split(...)`
    and the other TF functions that return a Python list.)

    ## Why is this bad?
    AutoGraph turns such loops into a `tf.while_loop`. A Python list cannot collect values from inside
    it: the append runs once, while tracing, and the tensors it stores belong to the loop's inner graph,
    so using them raises `InaccessibleTensorError` (or the list silently holds a single element).
    A loop over Python `range(...)` is unrolled instead and is fine.

    ## Example
    ```python
    @tf.function
    def squares(n):
        out = []
        for i in tf.range(n):
            out.append(i * i)
        return tf.stack(out)
    ```

    ## Use instead
    ```python
    @tf.function
    def squares(n):
        out = tf.TensorArray(tf.int32, size=n)
        for i in tf.range(n):
            out = out.write(i, i * i)
        return out.stack()
    ```

    ## Fix safety
    No automatic fix; the message shows the `tf.TensorArray` pattern.

    ## Proof
    [`fixtures/TFN106/`](../fixtures/TFN106/): `before.py` raises; `corrected.py` uses a TensorArray.
    """

    code = "TFN106"
    expected_errors = ('InaccessibleTensorError',)
    name = "list-append-in-graph-loop"
    summary = "Python list.append of tensors inside a tf.range/tensor loop in graph code"

    @staticmethod
    def screen(facts: FileFacts) -> bool:
        appends = [c for c in facts.graph_calls() if c.in_loop and type(c.node.func) is ast.Attribute
                   and c.node.func.attr == "append" and type(c.node.func.value) is ast.Name
                   and len(c.node.args) + len(c.node.keywords) == 1]
        if not appends:
            return False
        lists, assigned = set(), set()
        for node, _ in facts.assignments:
            if type(node) is ast.Assign:
                names = {n for t in node.targets for n in names_bound(t)}
                assigned |= names
                value = node.value
                if type(value) is ast.List or (type(value) is ast.Call and type(value.func) is ast.Name
                                               and value.func.id == "list" and not value.args):
                    lists |= names
        wanted = {id(c.node) for c in appends if c.node.func.value.id in lists}
        if not wanted:
            return False
        # the append must sit in a `for` of the same function over what may be a tensor computed by TF ops
        for func in {c.func for c in appends if id(c.node) in wanted}:
            if _append_in_tensor_loop(func.node, wanted, assigned, facts):
                return True
        return False
    triggers = ("append",)

    def __init__(self, ctx, sink):
        super().__init__(ctx, sink)
        self._lists: dict = {}  # (function, name) -> True
        self._loops: list = []  # (function, loop evidence, loop target names)

    def leave_Assign(self, node: cst.Assign) -> None:
        value = node.value
        is_list = isinstance(value, cst.List) or (
            isinstance(value, cst.Call) and _is_builtin(self.ctx, value.func, "list") and not value.args)
        for target in node.targets:
            if isinstance(target.target, cst.Name):
                key = (self.ctx.current_function, target.target.value)
                if is_list:
                    self._lists[key] = True
                else:
                    self._lists.pop(key, None)

    def visit_For(self, node: cst.For) -> None:
        evidence = None
        iterator = node.iter
        if isinstance(iterator, cst.Call):
            qual = self.ctx.resolve(iterator.func)
            if qual is not None and canonical(qual) == "tensorflow.range":
                evidence = frozenset({DEFINITELY_TENSOR})
            elif qual is not None and canonical(qual) in _RETURNS_PYTHON_LIST:
                self._loops.append((self.ctx.current_function, None, set()))
                return  # `for t in tf.unstack(x)`: a Python list of tensors, the loop is unrolled
        if evidence is None:
            # Only a value computed by TF ops is surely a tensor: a parameter may well be a Python list
            # of tensors (Keras merge layers get one), and iterating a list is unrolled, not a loop.
            found = self.ctx.evidence(iterator)
            if found and DEFINITELY_TENSOR in found:
                evidence = found
        self._loops.append((self.ctx.current_function, evidence, set(names_bound_by_target(node.target))))

    def leave_For(self, node: cst.For) -> None:
        self._loops.pop()

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not (isinstance(func, cst.Attribute) and func.attr.value == "append" and isinstance(func.value, cst.Name)
                and len(node.args) == 1):
            return
        current = self.ctx.current_function
        loops = [loop for loop in self._loops if loop[0] is current and loop[1]]
        if not loops or not self._is_list(func.value.value):
            return
        evidence = loops[-1][1]
        self.report(node, f"{func.value.value}.append() inside a tf.range/tensor loop in {{context}}: AutoGraph makes "
                          f"it a tf.while_loop and the list cannot collect its values (InaccessibleTensorError); "
                          f"use ta = tf.TensorArray(dtype, size=n); ta = ta.write(i, value); ta.stack()",
                    in_graph=True, evidence=evidence, requires_tensor=True)

    def _is_list(self, name: str) -> bool:
        func = self.ctx.current_function
        while func is not None:
            if (func, name) in self._lists:
                return True
            func = func.parent
        return False
