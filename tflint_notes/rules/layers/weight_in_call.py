"""TFN201: see the class docstring (the rule pages are generated from it)."""

from __future__ import annotations

import ast

import libcst as cst

from tflint_notes.analysis import ClassInfo, FunctionInfo, canonical, class_methods
from tflint_notes.cstwalk import walk
from tflint_notes.results import Edit
from tflint_notes.rule import PendingFix
from tflint_notes.screen import FileFacts
from tflint_notes.rules.layers._shared import (
    _LayerRule, _bound_in, _comment_lead, _is_self_attr, _is_super_method_call, _method_insertion, _movable,
    _self_attrs_assigned, _statements, creates_once,
)


def _first_param(func: cst.FunctionDef) -> str | None:
    params = [*func.params.posonly_params, *func.params.params]
    return params[1].name.value if len(params) > 1 else None


class WeightInCall(_LayerRule):
    """## What it does
    Flags `self.add_weight(...)` and `tf.Variable(...)` inside the `call` method of a Keras
    `Layer`/`Model` subclass (including subclasses of classes defined in the same module or, through the
    project index, in another module of the project).

    Not flagged where the failure is what the code checks: inside `with self.assertRaises(...)` /
    `pytest.raises(...)`, in classes a test that expects a failure defines, and in module-level classes
    whose every use is inside such a block (the deliberately broken layer beside its test).

    ## Why is this bad?
    `call` runs on every forward pass; weights belong in `build`, which Keras runs once with the
    input shape. Keras 3 refuses new state once the layer is built:
    `ValueError: You cannot add new elements of state (variables or sub-layers) to a layer that is
    already built` — even behind an `if self.w is None:` guard (measured under TF 2.21 with Keras 3).
    Legacy tf_keras silently creates a fresh, untrained weight on every call, so outputs change between
    calls and training never helps.

    On a layer built on legacy Keras (`tf_keras.layers.Layer`, or `tf.keras` with
    `keras = "tf_keras"`), creation behind `if self.w is None:` / `if not hasattr(self, "w"):` is the
    documented lazy pattern: it runs once and works, so it is not reported. (`if not self.built:` is
    no such guard: Keras sets `built` before `call` runs, and the weight is never created.)

    ## Example
    ```python
    class Linear(keras.layers.Layer):
        def __init__(self, units=32, **kwargs):
            super().__init__(**kwargs)
            self.units = units
        def call(self, inputs):
            self.w = self.add_weight(shape=(inputs.shape[-1], self.units), initializer="random_normal", trainable=True)
            return tf.matmul(inputs, self.w)
    ```

    ## Use instead
    ```python
    class Linear(keras.layers.Layer):
        def __init__(self, units=32, **kwargs):
            super().__init__(**kwargs)
            self.units = units
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal", trainable=True)
        def call(self, inputs):
            return tf.matmul(inputs, self.w)
    ```

    ## Fix safety
    **Safe** when every weight statement is a plain `self.x = self.add_weight(...)` /
    `self.x = tf.Variable(...)` directly in `call` and uses only `self` attributes not assigned in
    `call`, literals, module-level names and `<input>.shape`: the statements (with their comments)
    move, in order, into `build(self, input_shape)` (created before `call` if missing, appended to an
    existing `build` otherwise) and `<input>.shape` becomes `input_shape`. When a base class of the module
    or of the project defines a `build` of its own, the new `build` first calls `super().build(input_shape)`. A weight statement inside an
    `if`/loop, or depending on anything computed in `call`, is reported without a fix.

    ## Proof
    [`fixtures/TFN201/`](../fixtures/TFN201/): under Keras 3 each `before.py` raises the state error; under tf_keras it
    misbehaves silently; each `after.py` trains (the loss falls) with the right number of weights. Subclasses
    of a base in another module: [`fixtures/projects/xmod_layer_base/`](../fixtures/projects/xmod_layer_base/).
    """

    code = "TFN201"
    expected_errors = ('ValueError',)
    fix_kind = "safe"
    name = "weight-in-call"
    summary = "weight created in Layer.call instead of build"

    @staticmethod
    def screen(facts: FileFacts) -> bool:
        for c in facts.calls:
            func = c.node.func
            if ((type(func) is ast.Attribute and func.attr == "add_weight" and type(func.value) is ast.Name
                 and func.value.id == "self") or "tensorflow.Variable" in facts.canonical_names(func)) and (
                    facts.keras_method(c.func, "call")):
                return True
        return False
    triggers = ("add_weight", "Variable")

    def __init__(self, ctx, sink):
        super().__init__(ctx, sink)
        self._plans: dict = {}  # call FunctionDef -> (movable statements set, PendingFix | None)
        self._guards: list = []  # enclosing `if self.w is None:` / `if not hasattr(self, "w"):` tests

    def visit_If(self, node: cst.If) -> None:
        self._guards.append(creates_once(node.test, truthiness=True))

    def leave_If(self, node: cst.If) -> None:
        self._guards.pop()

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        is_add_weight = _is_self_attr(func) and func.attr.value == "add_weight"
        if not is_add_weight:
            qual = self.ctx.resolve(func)
            if qual is None or canonical(qual) != "tensorflow.Variable":
                return
        found = self.keras_method("call")
        if found is None:
            return
        method, cls = found
        if any(self._guards) and self.ctx.class_keras_flavour(cls) == "tf_keras":
            return  # legacy Keras creates a guarded weight once, on the first call; Keras 3 refuses it
        movable, fix = self._plan(method, cls)
        what = "self.add_weight()" if is_add_weight else f"{self.ctx.module.code_for_node(func)}()"
        if any(self._guards):  # created once, but after Keras 3 built the layer (fixtures/TFN201/lazy_guard_keras3)
            message = (f"{what} in {cls.name}.call creates state after the layer is built (Keras 3: ValueError "
                       f"'cannot add new elements of state' on the first call, guard or not); create it in "
                       f"build(self, input_shape)")
        else:
            message = (f"{what} in {cls.name}.call creates state on every call (Keras 3: 'cannot add new elements "
                       f"of state'; tf_keras: a new untrained weight each call); create it in build(self, input_shape)")
        self.report(node, message, fix=fix if node in movable else None)

    def _plan(self, method: FunctionInfo, cls: ClassInfo):
        key = method.node
        if key not in self._plans:
            self._plans[key] = self._make_plan(method, cls)
        return self._plans[key]

    def _make_plan(self, method: FunctionInfo, cls: ClassInfo):
        func = method.node
        input_name = _first_param(func)
        statements = _statements(func)
        if input_name is None or not statements:
            return set(), None
        locals_ = (set(method.params) | _bound_in(func)) - {"self"}
        candidates = []
        for stmt in statements:
            value = _weight_assignment(stmt, self.ctx)
            if value is not None:
                candidates.append((stmt, value))
        assigned_elsewhere = set()
        for stmt in statements:
            if all(stmt is not c for c, _ in candidates):
                assigned_elsewhere |= _self_attrs_assigned(stmt)
        movable = []
        shape_nodes = []
        for stmt, value in candidates:
            ok, shapes = _movable(value, input_name, locals_, assigned_elsewhere)
            if ok:
                movable.append((stmt, value))
                shape_nodes.extend(shapes)
        if not movable or len(movable) == len(statements):
            return set(), None
        build = cls.methods.get("build")
        if build is not None and (not isinstance(build.node, cst.FunctionDef) or _first_param(build.node) is None
                                  or not _statements(build.node)):
            return set(), None
        moved_stmts = [stmt for stmt, _ in movable]
        # A base of this module or of another project module with a build of its own: the new build must run
        # it first, or the base's weights are never made.
        own_base = any("build" in class_methods(info) for info in self.ctx.local_bases(cls)) or any(
            "build" in (self.ctx.project_methods(b) or ()) for b in cls.bases if not b.startswith("local:"))
        # ... or whose `call` this one runs (`super().call(x)`): the same fix run may move that base's weights
        # into a build of its own
        if not own_base and _calls_super_call(func) and any(
                b.startswith("local:") or self.ctx.view.keras_base(b) is not None for b in cls.bases):
            own_base = True

        def edits(loc) -> list[Edit] | None:
            out: list[Edit] = []
            block = []
            body_indent = None
            shape_name = "input_shape" if build is None else _first_param(build.node)
            for stmt in moved_stmts:
                _, comments = _comment_lead(stmt)
                first, last = loc.first_line(stmt) - comments, loc.last_line(stmt)
                start, end = loc.line_start(first), loc.line_start(last + 1)
                piece = loc.text[start:end]
                if not piece.endswith(("\n", "\r")):
                    return None
                subs = sorted((loc.span(n) for n in shape_nodes if start <= loc.span(n)[0] < end), reverse=True)
                for s, e in subs:
                    piece = piece[:s - start] + shape_name + piece[e - start:]
                block.append(piece)
                out.append(Edit(start, end, ""))
                body_indent = body_indent or loc.indent_of(loc.first_line(stmt))
            moved = "".join(block)
            if build is None:
                offset, indent, blanks = _method_insertion(loc, func)
                header = f"{indent}def build(self, input_shape):{loc.newline}"
                if own_base:
                    header += f"{body_indent}super().build(input_shape){loc.newline}"
                out.append(Edit(offset, offset, header + moved + loc.newline * blanks))
            else:
                build_body = _statements(build.node)
                anchor = build_body[-1]
                if len(build_body) > 1 and _is_super_call(anchor, "build"):
                    at = loc.line_start(loc.first_line(anchor) - _comment_lead(anchor)[1])
                else:
                    at = loc.line_start(loc.last_line(anchor) + 1)
                if loc.indent_of(loc.first_line(anchor)) != body_indent:
                    return None
                out.append(Edit(at, at, moved))
            return out

        fix = PendingFix([], safe=True, description="move the weight creation into build()", build_edits=edits)
        return {value for _, value in movable}, fix


def _weight_assignment(stmt: cst.CSTNode, ctx) -> cst.Call | None:
    """The add_weight/tf.Variable call of `self.x = <call>` as a whole statement line, else None."""
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
        return None
    small = stmt.body[0]
    if isinstance(small, cst.Assign) and len(small.targets) == 1 and _is_self_attr(small.targets[0].target):
        value = small.value
    elif isinstance(small, cst.AnnAssign) and small.value is not None and _is_self_attr(small.target):
        value = small.value
    else:
        return None
    if not isinstance(value, cst.Call):
        return None
    if _is_self_attr(value.func) and value.func.attr.value == "add_weight":
        return value
    qual = ctx.resolve(value.func)
    if qual is not None and canonical(qual) == "tensorflow.Variable":
        return value
    return None


def _is_super_call(stmt: cst.CSTNode, method: str) -> bool:
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
        return False
    expr = stmt.body[0]
    return isinstance(expr, cst.Expr) and isinstance(expr.value, cst.Call) and _is_super_method_call(
        expr.value, method)


def _calls_super_call(func: cst.FunctionDef) -> bool:
    """`super().call(...)` (or `super(Cls, self).call(...)`) somewhere in `func`."""
    for node in walk(func.body):
        if (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "call"
                and isinstance(node.func.value, cst.Call) and isinstance(node.func.value.func, cst.Name)
                and node.func.value.func.value == "super"):
            return True
    return False
