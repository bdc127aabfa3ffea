"""Loops and regions: where code may run more than once, or where a failure is expected or harmless.

A finding inside a loop can mean "retraces every iteration"; the same code inside `with
self.assertRaises(...)`, under `try: ... except TypeError:` or in a TF1-only test is what the test checks or
what the code defends against, not a bug.  The blocks are recorded during the traversal; the engine drops
the findings they cover once the traversal is done (`region_kinds`).
"""

from __future__ import annotations

import libcst as cst

from tflint_notes.analysis.names import canonical
from tflint_notes.analysis.scopes import FunctionInfo, names_bound_by_target
from tflint_notes.cstwalk import children

# `with self.assertRaises(E):` and friends: the code inside is expected to fail.
_ASSERT_RAISES_METHODS = frozenset({
    "assertRaises", "assertRaisesRegex", "assertRaisesRegexp", "assertRaisesWithPredicateMatch",
    "assertRaisesOpError", "assertRaisesIncompatibleShapesError", "assertWarns", "assertWarnsRegex",
})
_RAISES_FUNCTIONS = frozenset({"pytest.raises", "pytest.warns", "absl.testing.absltest.TestCase.assertRaises"})
# TensorFlow's test decorators for tests that only run in TF1 graph mode.
_TF1_ONLY_DECORATORS = frozenset({"run_v1_only", "deprecated_graph_mode_only", "run_deprecated_v1",
                                  "run_all_in_deprecated_graph_mode_only", "graph_mode_only"})


class LoopsAndRegions:
    """The loops and comprehensions enclosing the current point, and the blocks where findings mean less.
    Reads `current_function` (ScopeTracking) and `resolve` (ImportResolution)."""

    def _init_regions(self) -> None:
        # Blocks where findings mean less: (body, kind, exception names) with kind "raises" (the code is
        # expected to fail: assertRaises, pytest.raises), "try" (a handler catches these exceptions) or
        # "eager" (`with tf.init_scope():` runs eagerly inside graph code).
        self.regions: list[tuple[cst.CSTNode, str, frozenset]] = []
        self.expecting_functions: set = set()  # functions with an assertRaises/pytest.raises block
        self._region_index: dict | None = None
        self._loops: list = []  # (function, loop node), outer first
        self._comprehension_names: list = []  # the variables of each comprehension enclosing the current point

    def _enter_loop(self, node) -> None:
        self._loops.append((self.current_function, node))

    def _leave_loop(self, node) -> None:
        self._loops.pop()

    visit_While = _enter_loop
    leave_While = _leave_loop

    def _enter_comprehension(self, node) -> None:
        self._loops.append((self.current_function, node))
        names: set = set()
        self._comprehension_names.append(names)
        # the element is visited before the `for` clauses: know the loop variables first
        clause = node.for_in
        while clause is not None:
            names.update(names_bound_by_target(clause.target))
            clause = clause.inner_for_in

    def _leave_comprehension(self, node) -> None:
        self._loops.pop()
        self._comprehension_names.pop()

    leave_ListComp = leave_SetComp = leave_GeneratorExp = leave_DictComp = _leave_comprehension

    def _comprehension_variable(self, name: str) -> bool:
        return any(name in names for names in self._comprehension_names)

    def is_comprehension_variable(self, name: str) -> bool:
        """`name` is bound by a comprehension enclosing the current point (it shadows other bindings)."""
        return self._comprehension_variable(name)

    def current_loops(self) -> tuple:
        """The loops (for/while statements and comprehensions) of the current function that enclose the
        current point, outer first: code inside one of them may run more than once."""
        func = self.current_function
        return tuple(node for owner, node in self._loops if owner is func)

    def visit_With(self, node: cst.With) -> None:
        for item in node.items:
            call = item.item
            if not isinstance(call, cst.Call):
                continue
            func = call.func
            qual = self.resolve(func)
            if (isinstance(func, cst.Attribute) and func.attr.value in _ASSERT_RAISES_METHODS) or (
                    qual is not None and qual in _RAISES_FUNCTIONS):
                self.regions.append((node.body, "raises", frozenset()))
                if self.current_function is not None:
                    self.expecting_functions.add(self.current_function)
            elif qual is not None and canonical(qual) in ("tensorflow.init_scope", "tensorflow.compat.v1.init_scope"):
                self.regions.append((node.body, "eager", frozenset()))

    def visit_Try(self, node: cst.Try) -> None:
        caught: set = set()
        for handler in node.handlers:
            kinds = handler.type
            elements = [e.value for e in kinds.elements] if isinstance(kinds, cst.Tuple) else [kinds]
            for element in elements:
                if isinstance(element, cst.Name):
                    caught.add(element.value)
                elif isinstance(element, cst.Attribute):
                    caught.add(element.attr.value)
        if caught:
            self.regions.append((node.body, "try", frozenset(caught)))

    def region_kinds(self) -> dict:
        """{id(node): [(kind, exception names)]} for every node inside a region (computed once)."""
        cached = self._region_index
        if cached is None:
            cached = {}
            regions = list(self.regions)
            for func in self.expecting_functions:
                # A test that expects a failure: the broken classes and helpers it defines are the point.
                stack = list(children(func.node.body))
                while stack:
                    current = stack.pop()
                    if isinstance(current, (cst.ClassDef, cst.FunctionDef)):
                        regions.append((current, "raises", frozenset()))
                    else:
                        stack.extend(children(current))
            for body, kind, names in regions:
                _mark(cached, body, kind, names)
            if self.expecting_functions:
                for cls in self._classes_only_expected_to_fail(cached):
                    _mark(cached, cls, "raises", frozenset())
            self._region_index = cached
        return cached

    def _classes_only_expected_to_fail(self, index: dict) -> list:
        """Module-level classes whose every use is inside assertRaises/pytest.raises: the deliberately broken
        layer a test module defines beside its tests (what a test defines inside itself is handled above)."""
        names = {info.name: info.node for info in self.local_classes()}
        if not names:
            return []
        uses: dict = {}
        stack = [(self.module, None)]
        while stack:
            current, inside = stack.pop()
            if isinstance(current, cst.ClassDef) and names.get(current.name.value) is current:
                inside = current  # a class's mentions of itself are not uses
                stack.extend((child, inside) for child in children(current) if child is not current.name)
                continue
            if type(current) is cst.Name and current.value in names and names[current.value] is not inside:
                uses.setdefault(current.value, []).append(current)
            stack.extend((child, inside) for child in children(current))
        return [names[name] for name, found in uses.items()
                if all(any(kind == "raises" for kind, _ in index.get(id(use), ())) for use in found)]

    def runs_only_in_graph_mode(self, func: "FunctionInfo | None") -> bool:
        """A TF1-only test: the function, an enclosing one or its class is decorated `run_v1_only`,
        `deprecated_graph_mode_only`, `run_deprecated_v1` or `skipIf(<executing eagerly>, ...)`, or it skips
        itself when eager (`if tf.executing_eagerly(): self.skipTest(...)` / `return`)."""
        while func is not None:
            node = func.node
            if isinstance(node, cst.FunctionDef) and (_tf1_only_decorated(node) or _skips_when_eager(node)):
                return True
            owner = func.cls
            if owner is not None and _tf1_only_decorated(owner.node):
                return True
            func = func.parent
        return False


def _mark(index: dict, body: cst.CSTNode, kind: str, names: frozenset) -> None:
    stack = [body]
    while stack:
        current = stack.pop()
        index.setdefault(id(current), []).append((kind, names))
        stack.extend(children(current))


def _mentions_executing_eagerly(node: cst.CSTNode) -> bool:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Name) and current.value == "executing_eagerly":
            return True
        if isinstance(current, cst.Attribute) and current.attr.value == "executing_eagerly":
            return True
        if isinstance(current, cst.UnaryOperation):
            continue  # `if not tf.executing_eagerly(): skip` skips graph mode: the test is eager
        stack.extend(current.children)
    return False


def _tf1_only_decorated(node: cst.FunctionDef | cst.ClassDef) -> bool:
    for decorator in node.decorators:
        expr = decorator.decorator
        call = expr if isinstance(expr, cst.Call) else None
        func = call.func if call is not None else expr
        name = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
        if name in _TF1_ONLY_DECORATORS:
            return True
        if name == "skipIf" and call is not None and call.args and _mentions_executing_eagerly(call.args[0].value):
            return True
    return False


def _skips_when_eager(node: cst.FunctionDef) -> bool:
    """`if tf.executing_eagerly(): self.skipTest(...)` (or `return`) among the first statements."""
    body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
    for stmt in body[:4]:
        if isinstance(stmt, cst.If) and _mentions_executing_eagerly(stmt.test):
            inner = stmt.body.body if isinstance(stmt.body, cst.IndentedBlock) else stmt.body.body
            for part in inner:
                small = part.body if isinstance(part, cst.SimpleStatementLine) else [part]
                for item in small:
                    if isinstance(item, cst.Return):
                        return True
                    if isinstance(item, cst.Raise) or (
                            isinstance(item, cst.Expr) and isinstance(item.value, cst.Call)
                            and isinstance(item.value.func, cst.Attribute) and item.value.func.attr.value == "skipTest"):
                        return True
    return False
