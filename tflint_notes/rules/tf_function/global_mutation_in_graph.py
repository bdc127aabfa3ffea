"""TFN107: see the class docstring (the rule pages are generated from it)."""

from __future__ import annotations

import ast

import libcst as cst

from tflint_notes.analysis import names_bound_by_target
from tflint_notes.cstwalk import children as cst_children
from tflint_notes.rule import Rule
from tflint_notes.screen import FileFacts


_MUTATORS = frozenset({"append", "extend", "insert", "pop", "update", "add", "clear", "remove", "setdefault",
                       "discard", "popitem", "sort", "reverse"})


def _module_mutables(module: cst.Module) -> set:
    names = set()
    for stmt in module.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if isinstance(small, cst.Assign):
                value = small.value
                mutable = isinstance(value, (cst.List, cst.Dict, cst.Set, cst.ListComp, cst.DictComp, cst.SetComp)) or (
                    isinstance(value, cst.Call) and isinstance(value.func, cst.Name)
                    and value.func.value in ("list", "dict", "set", "defaultdict", "Counter", "deque"))
                if mutable:
                    for target in small.targets:
                        names.update(names_bound_by_target(target.target))
    return names


class GlobalMutationInGraph(Rule):
    """## What it does
    Flags, in graph code, rebinding a `global`/`nonlocal` variable (`global step; step += 1`) and
    mutating a module-level Python list, dict or set (`history.append(loss)`, `stats["n"] += 1`).
    Reading module-level constants is fine and not flagged; `tf.Variable` updates (`v.assign_add`)
    are the right tool and are not flagged. Nor is a rebinding inside an `if` that tests the same
    variable — `nonlocal v; if v is None: v = tf.Variable(...)`, `if first_call: ...; first_call = False`:
    that is the tf.function guide's way to create state once, on the first trace, and it runs once on
    purpose.

    ## Why is this bad?
    Python side effects in a `tf.function` happen while tracing — once per trace, not once per call.
    A counter incremented this way stays at 1 after a hundred calls, and a list collects a single
    symbolic tensor. Nothing fails.

    ## Example
    ```python
    calls = 0

    @tf.function
    def step(x):
        global calls
        calls += 1
        return x * 2
    ```

    ## Use instead
    ```python
    calls = tf.Variable(0)

    @tf.function
    def step(x):
        calls.assign_add(1)
        return x * 2
    ```

    ## Fix safety
    No automatic fix.

    ## Proof
    [`fixtures/TFN107/`](../fixtures/TFN107/): in `before.py` the counter is 1 after three calls;
    `corrected.py` counts 3.
    """

    code = "TFN107"
    name = "global-mutation-in-graph"
    summary = "global/nonlocal rebinding or module-level mutation in graph code"

    @staticmethod
    def screen(facts: FileFacts) -> bool:
        graph = facts.graph_functions()
        if not graph:
            return False
        if any(func in graph for func in facts.global_decls):
            return True
        mutables = facts.module_mutables()
        if not mutables:
            return False
        for c in facts.graph_calls():
            func = c.node.func
            if (type(func) is ast.Attribute and func.attr in _MUTATORS and type(func.value) is ast.Name
                    and func.value.id in mutables):
                return True
        for node, func in facts.assignments:
            if func in graph:
                targets = node.targets if type(node) is ast.Assign else [node.target]
                if any(type(t) is ast.Subscript and type(t.value) is ast.Name and t.value.id in mutables
                       for t in targets):
                    return True
        return False

    def __init__(self, ctx, sink):
        super().__init__(ctx, sink)
        self._declared: dict = {}  # function -> names declared global/nonlocal
        self._mutables = None
        self._tests: list = []  # (function, names read by the test) of the enclosing `if`s

    def visit_If(self, node: cst.If) -> None:
        names = {n.value for n in _walk_names(node.test)}
        self._tests.append((self.ctx.current_function, names))

    def leave_If(self, node: cst.If) -> None:
        self._tests.pop()

    def _guarded(self, name: str) -> bool:
        """`if m is None: m = ...` / `if first_call: ... first_call = False`: the variable is created or
        flipped once, on the first trace, on purpose (the tf.function guide's lazy-creation pattern)."""
        current = self.ctx.current_function
        return any(func is current and name in names for func, names in self._tests)

    def _module_mutables(self) -> set:
        if self._mutables is None:
            self._mutables = _module_mutables(self.ctx.module)
        return self._mutables

    def _declare(self, node) -> None:
        func = self.ctx.current_function
        if func is not None:
            self._declared.setdefault(func, set()).update(item.name.value for item in node.names)

    visit_Global = visit_Nonlocal = _declare

    def _rebinds(self, target: cst.BaseExpression, node: cst.CSTNode) -> None:
        declared = self._declared.get(self.ctx.current_function, set())
        for name in names_bound_by_target(target):
            if name in declared and not self._guarded(name):
                self.report(node, f"`{name}` (global/nonlocal) is rebound in {{context}}: this runs once per trace, "
                                  f"not once per call; use a tf.Variable and .assign()", in_graph=True)
                return
        if isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name):
            self._mutated(target.value.value, node)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._rebinds(target.target, node)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._rebinds(node.target, node)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in _MUTATORS and isinstance(func.value, cst.Name):
            self._mutated(func.value.value, node)

    def _mutated(self, name: str, node: cst.CSTNode) -> None:
        func = self.ctx.current_function
        if func is None or name not in self._module_mutables():
            return
        if any(name in f.bound for f in self.ctx.function_stack):
            return  # a local of the same name
        self.report(node, f"module-level `{name}` is mutated in {{context}}: this happens once per trace, not once "
                          f"per call; return the value, or keep state in a tf.Variable / tf.TensorArray",
                    in_graph=True)


def _walk_names(node: cst.CSTNode):
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Name):
            yield current
        stack.extend(cst_children(current))
