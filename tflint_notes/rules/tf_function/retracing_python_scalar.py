"""TFN108: see the class docstring (the rule pages are generated from it)."""

from __future__ import annotations

import ast

import libcst as cst

from tflint_notes.analysis import is_tf_function, module_level_statements, names_bound_by_target
from tflint_notes.cstwalk import children as cst_children
from tflint_notes.rule import Rule
from tflint_notes.screen import FileFacts
from tflint_notes.rules.tf_function._shared import _code, _is_builtin


def _has_input_signature(call: cst.CSTNode) -> bool:
    return isinstance(call, cst.Call) and any(
        a.keyword is not None and a.keyword.value == "input_signature" for a in call.args)


class RetracingPythonScalar(Rule):
    """## What it does
    Flags a call of one of the module's own `tf.function`s inside a Python loop with a Python number
    that changes on every iteration as an argument: the loop variable of `range(...)`,
    `enumerate(...)` (its index) or of a literal tuple/list of numbers (`for lr in (0.1, 0.01, 1e-3):`,
    also through a module-level constant bound once to such a literal), arithmetic on it
    (`train_step(step * 0.5)`), or a name assigned from such arithmetic in the loop body
    (`lr = 0.1 * 0.9 ** epoch`). Functions with an `input_signature` are not flagged.

    ## Why is this bad?
    A `tf.function` traces a new graph for every distinct Python value it receives (tensors are
    traced by shape and dtype, Python numbers by value). The loop silently traces a graph per
    iteration: slow, memory-hungry, and TensorFlow eventually warns about "excessive retracing".

    ## Example
    ```python
    @tf.function
    def scaled(x, factor):
        return x * factor

    for i in range(10):
        scaled(x, i)
    for lr in (0.1, 0.01, 0.001):
        scaled(x, lr)
    ```

    ## Use instead
    ```python
    for i in range(10):
        scaled(x, tf.constant(i))
    ```
    or give the function an `input_signature`.

    Not flagged: a loop whose values are tensors (`for t in (tf.constant(1.), ...)`), an argument
    that does not change in the loop, a loop over a list built at run time (its values are unknown).

    ## Fix safety
    No automatic fix: `tf.constant(i)` changes the argument's type inside the function (Python
    control flow on it becomes graph control flow).

    ## Proof
    [`fixtures/TFN108/`](../fixtures/TFN108/): `before.py` traces once per value; `corrected.py`
    traces once.
    """

    code = "TFN108"
    name = "retracing-python-scalar"
    summary = "tf.function called in a Python loop with a Python number that changes every iteration (retraces)"

    @staticmethod
    def screen(facts: FileFacts) -> bool:
        # What `finish` can report: a call in a loop, by name, of a module-level tf.function without an
        # input_signature (decorated, or `g = tf.function(f)` outside functions), with an argument that is a name
        # or arithmetic (a literal or a call never changes with the loop variable).
        def signed(call) -> bool:
            return type(call) is ast.Call and any(k.arg == "input_signature" for k in call.keywords)

        retracing = {func.name for func in facts.functions
                     if func.parent is None and func.cls is None and facts.decorated_with_tf_function(func)
                     and not any(signed(d) for d in func.node.decorator_list if facts.is_tf_function(
                         d.func if type(d) is ast.Call else d))}
        for node, func in facts.assignments:
            if func is None and type(node) is ast.Assign and type(node.value) is ast.Call and (
                    facts.is_tf_function(node.value.func) and not signed(node.value)):
                retracing.update(t.id for t in node.targets if type(t) is ast.Name)
        return bool(retracing) and any(
            c.in_loop and type(c.node.func) is ast.Name and c.node.func.id in retracing
            and any(type(a) in (ast.Name, ast.BinOp, ast.UnaryOp)
                    for a in (*c.node.args, *(k.value for k in c.node.keywords))) for c in facts.calls)

    def __init__(self, ctx, sink):
        super().__init__(ctx, sink)
        self._loop_vars: list = []  # (function, names that change every iteration)
        self._wrapped: dict = {}  # module-level name -> has input_signature
        self._calls: list = []  # (arg node, callee name, what it is)
        self._number_tuples: set | None = None  # module-level names bound once to a literal tuple of numbers

    def _numeric_loop_names(self, node: cst.For) -> set:
        iterator = node.iter
        if isinstance(iterator, cst.Call) and _is_builtin(self.ctx, iterator.func, "range"):
            return set(names_bound_by_target(node.target))
        if isinstance(iterator, cst.Call) and _is_builtin(self.ctx, iterator.func, "enumerate"):
            target = node.target
            if isinstance(target, cst.Tuple) and target.elements:
                return set(names_bound_by_target(target.elements[0].value))
            return set()
        if not isinstance(node.target, cst.Name):
            return set()
        if _literal_numbers(iterator) or (
                isinstance(iterator, cst.Name) and iterator.value in self._module_number_tuples()
                and self.ctx.resolve(iterator) is None
                and not any(iterator.value in f.bound for f in self.ctx.function_stack)):
            return {node.target.value}
        return set()

    def _module_number_tuples(self) -> set:
        if self._number_tuples is None:
            counts: dict = {}
            literal: set = set()
            for small, _ in module_level_statements(self.ctx.module.body):
                if isinstance(small, cst.Assign):
                    for target in small.targets:
                        for name in names_bound_by_target(target.target):
                            counts[name] = counts.get(name, 0) + 1
                    if len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name) and \
                            _literal_numbers(small.value):
                        literal.add(small.targets[0].target.value)
                elif isinstance(small, (cst.AugAssign, cst.AnnAssign, cst.For)):
                    for name in names_bound_by_target(small.target):
                        counts[name] = counts.get(name, 0) + 2
            # `global RATES` in a function may rebind it anywhere
            for node in _global_statements(self.ctx.module):
                for item in node.names:
                    counts[item.name.value] = 2
            self._number_tuples = {name for name in literal if counts.get(name) == 1}
        return self._number_tuples

    def visit_For(self, node: cst.For) -> None:
        self._loop_vars.append((self.ctx.current_function, self._numeric_loop_names(node)))

    def leave_For(self, node: cst.For) -> None:
        self._loop_vars.pop()

    def _changing_names(self) -> set:
        current = self.ctx.current_function
        out: set = set()
        for func, names in self._loop_vars:
            if func is current:
                out |= names
        return out

    def leave_Assign(self, node: cst.Assign) -> None:
        if self._loop_vars:
            # `lr = 0.1 * 0.9 ** epoch` in the loop body changes with the loop variable too
            changing = self._changing_names()
            targets = [t.target for t in node.targets]
            derived = bool(changing) and _changes_with(node.value, changing)
            current = self.ctx.current_function
            innermost = next((names for func, names in reversed(self._loop_vars) if func is current), None)
            for target in targets:
                bound = list(names_bound_by_target(target))
                for func, names in self._loop_vars:
                    if func is current:
                        names.difference_update(bound)  # rebound: what it held is gone
                if derived and isinstance(target, cst.Name) and innermost is not None:
                    innermost.add(target.value)
        if self.ctx.current_function is not None or not isinstance(node.value, cst.Call):
            return
        if is_tf_function(self.ctx.resolve(node.value.func)):
            for target in node.targets:
                if isinstance(target.target, cst.Name):
                    self._wrapped[target.target.value] = _has_input_signature(node.value)

    def visit_Call(self, node: cst.Call) -> None:
        if not isinstance(node.func, cst.Name) or not self._loop_vars:
            return
        changing = self._changing_names()
        if not changing:
            return
        for arg in node.args:
            if not arg.star and _changes_with(arg.value, changing):
                self._calls.append((arg, node.func.value, _code(arg.value)))
                return

    def finish(self) -> None:
        for arg, callee, shown in self._calls:
            if callee in self._wrapped:
                if self._wrapped[callee]:
                    continue
            else:
                info = self.ctx.module_function(callee)
                if info is None or not isinstance(info.node, cst.FunctionDef):
                    continue
                decorators = [d.decorator for d in info.node.decorators
                              if is_tf_function(self.ctx.resolve(d.decorator.func if isinstance(d.decorator, cst.Call)
                                                                 else d.decorator))]
                if not decorators or any(_has_input_signature(d) for d in decorators):
                    continue
            self.report(arg, f"{callee}() is a tf.function called in a loop with `{shown}`, a Python number that "
                             f"changes every iteration: it traces a new graph for every value; pass "
                             f"tf.constant({shown}) or give it an input_signature")


_SPREADING_OPERATORS = (cst.Add, cst.Subtract, cst.Multiply, cst.Divide, cst.Power, cst.FloorDivide)


def _global_statements(module: cst.Module):
    stack = [module]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Global):
            yield node
        elif not isinstance(node, cst.BaseExpression):  # statements only: globals live there
            stack.extend(cst_children(node))


def _literal_numbers(node: cst.BaseExpression) -> bool:
    """A literal tuple or list of two or more Python numbers: `(0.1, 0.01, 1e-3)`."""
    if not isinstance(node, (cst.Tuple, cst.List)) or len(node.elements) < 2:
        return False
    return all(_is_number(e.value) for e in node.elements if not isinstance(e, cst.StarredElement)) and not any(
        isinstance(e, cst.StarredElement) for e in node.elements)


def _is_number(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.UnaryOperation):
        return _is_number(node.expression)
    return isinstance(node, (cst.Integer, cst.Float))


def _changes_with(node: cst.BaseExpression, changing: set) -> bool:
    """A Python number computed from names that change every iteration (and literal numbers only)."""
    if isinstance(node, cst.Name):
        return node.value in changing
    if isinstance(node, cst.BinaryOperation):
        if not isinstance(node.operator, _SPREADING_OPERATORS):
            return False  # `step % 2`, `i & 1`: a few values, a few traces
        left, right = node.left, node.right
        return ((_changes_with(left, changing) and (_is_number(right) or _changes_with(right, changing)))
                or (_changes_with(right, changing) and _is_number(left)))
    if isinstance(node, cst.UnaryOperation):
        return _changes_with(node.expression, changing)
    return False
