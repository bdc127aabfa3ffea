"""Keras layer-authoring rules (TFN2xx): weights in build, sublayers in __init__, kwargs, get_config."""

from __future__ import annotations

import ast
import re
from typing import ClassVar

import libcst as cst

from tflint_notes.analysis import ClassInfo, FunctionInfo, canonical, class_methods, is_keras_base, names_bound_by_target
from tflint_notes.cstwalk import children
from tflint_notes.fixes import append_call_argument, append_item, bracket_after, item_end
from tflint_notes.results import Edit
from tflint_notes.rule import PendingFix, Rule
from tflint_notes.screen import FileFacts, walk_own_scope

_OWN_SCOPE = (cst.FunctionDef, cst.ClassDef, cst.Lambda)
_LOOPS = (cst.For, cst.While, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)
_BASIC_TYPE_NAMES = frozenset({
    "int", "float", "str", "bool", "bytes", "None", "list", "tuple", "dict", "set", "frozenset",
    "Optional", "Union", "List", "Tuple", "Dict", "Set", "FrozenSet", "Sequence", "Literal", "Text", "AnyStr",
    "Mapping", "MutableMapping",
})
_GENERIC_BASES = frozenset({"Layer", "Model", "object"})
# Layers without weights: constructing one in call() costs time but loses nothing.
_WEIGHTLESS_LAYERS = frozenset({
    "Activation", "ReLU", "LeakyReLU", "ELU", "Softmax", "ThresholdedReLU", "Flatten", "Reshape",
    "Permute", "RepeatVector", "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
    "GaussianNoise", "GaussianDropout", "AlphaDropout", "ActivityRegularization", "Masking", "Identity",
    "Lambda", "Concatenate", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Dot",
    "Cropping1D", "Cropping2D", "Cropping3D", "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D",
    "UpSampling1D", "UpSampling2D", "UpSampling3D", "Rescaling", "Resizing", "CenterCrop",
    "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D",
    "AveragePooling3D", "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D",
    "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D", "MaxPool1D", "MaxPool2D", "MaxPool3D",
    "AvgPool1D", "AvgPool2D", "AvgPool3D", "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalAvgPool3D",
    "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPool3D",
})
_BASIC_CONSTRUCTORS = frozenset({"tuple", "list", "dict", "set", "frozenset", "int", "float", "str", "bool"})


# --- small helpers over libcst nodes ----------------------------------------------------------


def _walk_body(node: cst.CSTNode):
    """Every node under `node`, not descending into nested functions, classes or lambdas."""
    stack = list(children(node))
    while stack:
        current = stack.pop()
        yield current
        if not isinstance(current, _OWN_SCOPE):
            stack.extend(children(current))


def _names_read(expr: cst.CSTNode):
    """(Name, parent) pairs for the names an expression reads (not attribute names or keywords)."""
    stack = [(expr, None)]
    while stack:
        node, parent = stack.pop()
        if isinstance(node, cst.Name):
            yield node, parent
        elif isinstance(node, cst.Attribute):
            stack.append((node.value, node))
        elif isinstance(node, cst.Arg):
            stack.append((node.value, node))
        elif isinstance(node, cst.Lambda):
            continue  # its own scope; treat as unknown by the callers below
        else:
            stack.extend((child, node) for child in children(node))


def _is_self_attr(node: cst.CSTNode) -> bool:
    return isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == "self"


def _self_attrs_assigned(body: cst.CSTNode) -> set:
    out = set()
    for node in _walk_body(body):
        if isinstance(node, cst.AssignTarget):
            targets = [node.target]
        elif isinstance(node, (cst.AnnAssign, cst.AugAssign)):
            targets = [node.target]
        else:
            continue
        for target in targets:
            elements = [e.value for e in target.elements] if isinstance(target, (cst.Tuple, cst.List)) else [target]
            out.update(t.attr.value for t in elements if _is_self_attr(t))
    return out


def _first_param(func: cst.FunctionDef) -> str | None:
    params = [*func.params.posonly_params, *func.params.params]
    return params[1].name.value if len(params) > 1 else None


def _statements(func: cst.FunctionDef) -> list:
    return list(func.body.body) if isinstance(func.body, cst.IndentedBlock) else []


def _is_docstring(stmt: cst.CSTNode) -> bool:
    return (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1
            and isinstance(stmt.body[0], cst.Expr)
            and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString)))


def _snake(name: str) -> str:
    name = re.sub(r"(?<=[a-z])([A-Z])", r"_\1", name)
    name = re.sub(r"(?<=[A-Z])([A-Z][a-z])", r"_\1", name)
    return name.lower()


def _comment_lead(stmt: cst.CSTNode) -> tuple[int, int]:
    """(blank lines, comment-block lines) directly above a statement, from its leading_lines."""
    lines = list(getattr(stmt, "leading_lines", ()))
    first_comment = next((i for i, line in enumerate(lines) if line.comment is not None), len(lines))
    return first_comment, len(lines) - first_comment


def _method_insertion(loc, method: cst.FunctionDef) -> tuple[int, str, int]:
    """Where a new method goes so that it sits directly before `method`: (offset, indent, blank lines).

    Comment lines directly above `method` stay with it; blank lines above it are repeated after
    the new method so the class keeps its spacing."""
    blanks, comments = _comment_lead(method)
    first = loc.first_line(method.decorators[0] if method.decorators else method)
    def_line = loc.first_line(method.name)
    first = min(first, def_line)
    at_line = first - comments
    return loc.line_start(at_line), loc.indent_of(def_line), blanks


def replaces_layer_protocol(cls: ClassInfo) -> bool:
    """The class defines its own `__call__` and never calls the Layer's: Keras never calls, builds or
    constructs it; it only borrows the Layer type (TF1-era code does this for isinstance checks)."""
    call = class_methods(cls).get("__call__")
    if call is None:
        return False
    return not any(isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute) and n.func.attr.value == "__call__"
                   for n in _walk_body(call.body))


class _LayerRule(Rule):
    """Shared: the Keras class and method being visited."""

    def keras_method(self, name: str) -> tuple[FunctionInfo, ClassInfo] | None:
        """The innermost def, if it is method `name` of a Keras Layer/Model subclass."""
        func = self.ctx.current_function
        while func is not None and func.name is None:  # lambdas
            func = func.parent
        if func is None or func.name != name or func.cls is None:
            return None
        if not self.ctx.class_is_keras(func.cls):
            return None
        return func, func.cls


def _maybe_not_basic(default: ast.AST | None, annotation: ast.AST | None) -> bool:
    """Could MissingGetConfig._non_basic call this parameter non-basic?  (Over-approximates it.)"""
    if default is not None:
        kind = type(default)
        if kind is ast.Call and not (type(default.func) is ast.Name and default.func.id in _BASIC_CONSTRUCTORS):
            return True
        if kind in (ast.Lambda, ast.Attribute, ast.Name):
            return True
    if annotation is not None:
        if type(annotation) is ast.Constant and isinstance(annotation.value, str):
            return False
        return not (type(annotation) is ast.Name and annotation.id in _BASIC_TYPE_NAMES)
    return False


def _keras_inits(facts: FileFacts):
    keras = facts.keras_classes()
    return [f for f in facts.functions if f.name == "__init__" and f.cls in keras] if keras else []


# --- TFN201 -----------------------------------------------------------------------------------


class WeightInCall(_LayerRule):
    """## What it does
    Flags `self.add_weight(...)` and `tf.Variable(...)` inside the `call` method of a Keras
    `Layer`/`Model` subclass (including subclasses of classes defined in the same module).

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
    existing `build` otherwise) and `<input>.shape` becomes `input_shape`. A weight statement inside an
    `if`/loop, or depending on anything computed in `call`, is reported without a fix.

    ## Proof
    [`fixtures/TFN201/`](../fixtures/TFN201/): under Keras 3 each `before.py` raises the state error; under tf_keras it
    misbehaves silently; each `after.py` trains (the loss falls) with the right number of weights.
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
        self._guards.append(_creates_once(node.test))

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
        self.report(node, f"{what} in {cls.name}.call creates state on every call (Keras 3: 'cannot add "
                          f"new elements of state'; tf_keras: a new untrained weight each call); create it in "
                          f"build(self, input_shape)", fix=fix if node in movable else None)

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


def _creates_once(test: cst.BaseExpression) -> bool:
    """`self.w is None` / `not hasattr(self, "w")` (possibly in an `and`/`or`): creation on the first call
    only.  (`not self.built` is no such guard: Keras sets `built` before `call` runs.)"""
    if isinstance(test, cst.BooleanOperation):
        return _creates_once(test.left) or _creates_once(test.right)
    if isinstance(test, cst.Comparison):
        return any(isinstance(t.operator, cst.Is) and isinstance(t.comparator, cst.Name)
                   and t.comparator.value == "None" for t in test.comparisons)
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        inner = test.expression
        return isinstance(inner, cst.Call) and isinstance(inner.func, cst.Name) and inner.func.value == "hasattr"
    return False


def _bound_in(func: cst.FunctionDef) -> set:
    names = set()
    for node in _walk_body(func.body):
        if isinstance(node, cst.AssignTarget):
            names.update(names_bound_by_target(node.target))
        elif isinstance(node, (cst.AnnAssign, cst.AugAssign, cst.For)):
            names.update(names_bound_by_target(node.target))
        elif isinstance(node, cst.AsName):
            names.update(names_bound_by_target(node.name))
        elif isinstance(node, cst.NamedExpr):
            names.update(names_bound_by_target(node.target))
    return names


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


def _movable(value: cst.CSTNode, input_name: str, locals_: set, assigned_in_call: set):
    """Can this expression be evaluated in build()?  Returns (ok, `<input>.shape` nodes to rewrite)."""
    shapes = []
    for name, parent in _names_read(value):
        if name.value == "self":
            if isinstance(parent, cst.Attribute) and parent.attr.value in assigned_in_call:
                return False, []
            continue
        if name.value == input_name:
            if isinstance(parent, cst.Attribute) and parent.attr.value == "shape":
                shapes.append(parent)
                continue
            return False, []
        if name.value in locals_:
            return False, []
    if any(isinstance(n, cst.Lambda) for n in _walk_body(value)):
        return False, []
    return True, shapes


def _is_super_call(stmt: cst.CSTNode, method: str) -> bool:
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
        return False
    expr = stmt.body[0]
    return isinstance(expr, cst.Expr) and isinstance(expr.value, cst.Call) and _is_super_method_call(
        expr.value, method)


def _is_super_method_call(call: cst.Call, method: str, base_names: tuple = ()) -> bool:
    func = call.func
    if not isinstance(func, cst.Attribute) or func.attr.value != method:
        return False
    target = func.value
    if isinstance(target, cst.Call) and isinstance(target.func, cst.Name) and target.func.value == "super":
        return True
    # Base.__init__(self, ...) for a named base class
    if call.args and isinstance(call.args[0].value, cst.Name) and call.args[0].value.value == "self":
        text = cst.Module(body=[]).code_for_node(target)
        return text in base_names or text.rsplit(".", 1)[-1] in ("Layer", "Model") or text in base_names
    return False


# --- TFN202 -----------------------------------------------------------------------------------


class SublayerInCall(_LayerRule):
    """## What it does
    Flags a Keras layer constructed inside `call` of a Keras `Layer`/`Model` subclass, such as
    `tf.keras.layers.Dense(4)(inputs)`.

    ## Why is this bad?
    A new layer, with new random weights, is built on every call. The outer layer does not track
    it (`layer.weights` stays empty), so the optimizer never trains it, checkpoints do not save it,
    and two calls on the same input give different outputs. Neither Keras 3 nor tf_keras raises an
    error: the model just never learns.

    ## Example
    ```python
    class Head(keras.layers.Layer):
        def call(self, inputs):
            return keras.layers.Dense(4)(inputs)
    ```

    ## Use instead
    ```python
    class Head(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = keras.layers.Dense(4)
        def call(self, inputs):
            return self.dense(inputs)
    ```

    ## Fix safety
    **Unsafe** (`--unsafe-fixes`): the construction moves to the end of `__init__` as
    `self.<snake_case_name>` (an `__init__` forwarding `**kwargs` is created if there is none), and the
    call uses the attribute. This changes which weights exist, their names and the saved format, and
    it is only offered when the construction is not in a loop and its arguments do not depend on
    values computed in `call`.

    ## Proof
    [`fixtures/TFN202/`](../fixtures/TFN202/): `before.py` shows an untracked, non-deterministic layer under both Keras
    flavours; `after_unsafe.py` has tracked weights and stable outputs.
    """

    code = "TFN202"
    fix_kind = "unsafe"
    name = "sublayer-in-call"
    summary = "Keras layer constructed inside Layer.call"

    @staticmethod
    def screen(facts: FileFacts) -> bool:
        keras = facts.keras_classes()
        if not keras:
            return False
        names = {k.name for k in keras}
        for c in facts.calls:
            func = c.node.func
            if ((type(func) is ast.Name and func.id in names) or any(is_keras_base(q) for q in facts.qualnames(func))) and (
                    facts.keras_method(c.func, "call")):
                return True
        return False
    triggers = ("call",)

    def __init__(self, ctx, sink):
        super().__init__(ctx, sink)
        self._loop_depth = 0
        self._loops: list[int] = []

    def visit_FunctionDef(self, node) -> None:
        self._loops.append(self._loop_depth)
        self._loop_depth = 0

    def leave_FunctionDef(self, node) -> None:
        self._loop_depth = self._loops.pop()

    def _enter(self, node) -> None:
        self._loop_depth += 1

    def _leave(self, node) -> None:
        self._loop_depth -= 1

    visit_For = visit_While = visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _enter
    leave_For = leave_While = leave_ListComp = leave_SetComp = leave_DictComp = leave_GeneratorExp = _leave

    def visit_Call(self, node: cst.Call) -> None:
        layer_class = self._layer_class(node.func)
        if layer_class is None:
            return
        found = self.keras_method("call")
        if found is None:
            return
        method, cls = found
        fix = None
        locals_ = (set(method.params) | _bound_in(method.node)) - {"self"}
        assigned = _self_attrs_assigned(method.node.body)
        ok, shapes = _movable(node, "\0", locals_, assigned)
        if ok and not shapes and self._loop_depth == 0:
            fix = self._fix(node, cls, method, layer_class)
        self.report(node, f"{layer_class}(...) is constructed on every {cls.name}.call: its weights are new, "
                          f"untracked and never trained; create it in __init__ and call self.<name>(...)",
                    fix=fix)

    def _layer_class(self, func: cst.BaseExpression) -> str | None:
        qual = self.ctx.resolve(func)
        if qual is not None:
            q = canonical(qual)
            last = q.rsplit(".", 1)[-1]
            if is_keras_base(qual) and ".layers." in q + "." and last[:1].isupper() and last not in _WEIGHTLESS_LAYERS:
                return last
            return None
        if isinstance(func, cst.Name) and func.value in self.ctx.classes:
            info = self.ctx.classes[func.value]
            if self.ctx.class_is_keras(info) and _creates_weights(self.ctx, info, set()):
                return func.value
        return None

    def _fix(self, node: cst.Call, cls: ClassInfo, method: FunctionInfo, layer_class: str) -> PendingFix:
        init = cls.methods.get("__init__")
        class_node = cls.node
        taken = {n.attr.value for n in _walk_all(class_node) if _is_self_attr(n)}
        base = _snake(layer_class)
        attr = base
        counter = 0
        while attr in taken:
            counter += 1
            attr = f"{base}_{counter}"
        call_node = method.node

        def edits(loc) -> list[Edit] | None:
            start, end = loc.span(node)
            ctor = loc.text[start:end]
            out = [Edit(start, end, f"self.{attr}")]
            if init is not None:
                body = _statements(init.node)
                if not body:
                    return None
                last = body[-1]
                indent = loc.indent_of(loc.first_line(last))
                at = loc.line_start(loc.last_line(last) + 1)
                out.append(Edit(at, at, f"{indent}self.{attr} = {ctor}{loc.newline}"))
            else:
                offset, indent, blanks = _method_insertion(loc, call_node)
                inner = loc.indent_of(loc.first_line(_statements(call_node)[0])) if _statements(call_node) else None
                if inner is None:
                    return None
                nl = loc.newline
                out.append(Edit(offset, offset, f"{indent}def __init__(self, **kwargs):{nl}"
                                                f"{inner}super().__init__(**kwargs){nl}"
                                                f"{inner}self.{attr} = {ctor}{nl}" + nl * blanks))
            return out

        return PendingFix([], safe=False, description=f"create the layer in __init__ as self.{attr}",
                          build_edits=edits)


def _creates_weights(ctx, cls: ClassInfo, seen: set) -> bool:
    """Does a layer class of this module own weights: `add_weight`, `tf.Variable`, a sublayer with weights,
    or a concrete Keras base such as `Dense`?  A weightless layer built in `call` costs time, loses nothing."""
    for info in (cls, *ctx.local_bases(cls)):
        if id(info) in seen:
            continue
        seen.add(id(info))
        if any(not b.startswith("local:") and b.rsplit(".", 1)[-1] not in _GENERIC_BASES for b in info.bases):
            return True
        for node in _walk_all(info.node):
            if not isinstance(node, cst.Call):
                continue
            func = node.func
            if isinstance(func, cst.Attribute) and func.attr.value in ("add_weight", "add_variable"):
                return True
            qual = ctx.resolve(func)
            if qual is not None:
                q = canonical(qual)
                last = q.rsplit(".", 1)[-1]
                if q == "tensorflow.Variable" or (is_keras_base(qual) and ".layers." in q + "."
                                                   and last not in _WEIGHTLESS_LAYERS and last not in _GENERIC_BASES):
                    return True
            elif isinstance(func, cst.Name) and func.value in ctx.classes:
                other = ctx.classes[func.value]
                if other is not info and ctx.class_is_keras(other) and _creates_weights(ctx, other, seen):
                    return True
    return False


def _walk_all(node: cst.CSTNode):
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(children(current))


# --- TFN203 / TFN204 --------------------------------------------------------------------------


def _var_keyword(func: cst.FunctionDef) -> str | None:
    star = func.params.star_kwarg
    return star.name.value if isinstance(star, cst.Param) else None


def _super_init_calls(func: cst.FunctionDef, cls: ClassInfo) -> list[cst.Call]:
    base_names = tuple(b[6:] if b.startswith("local:") else b for b in cls.bases)
    module = cst.Module(body=[])
    local_base_names = tuple(module.code_for_node(a.value) for a in cls.node.bases if a.keyword is None)
    names = base_names + local_base_names
    return [n for n in _walk_body(func.body) if isinstance(n, cst.Call) and _is_super_method_call(n, "__init__", names)]


def _super_init_in_helper(func: cst.FunctionDef, cls: ClassInfo) -> bool:
    """`__init__` calls `self._setup(...)`, a method of the class that calls `super().__init__` (TF Hub's
    KerasLayer does this)."""
    methods = class_methods(cls)
    for node in _walk_body(func.body):
        if (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)
                and isinstance(node.func.value, cst.Name) and node.func.value.value == "self"):
            helper = methods.get(node.func.attr.value)
            if helper is not None and helper is not func and _super_init_calls(helper, cls):
                return True
    return False


def _first_base_is_keras(ctx, cls: ClassInfo) -> bool:
    """Does `super().__init__` of this class reach Keras?  Only if the first base (the next class in the
    MRO) is a Keras class: `class T(Base, keras.Model)` sends `super().__init__(**kwargs)` to `Base`."""
    first = next((arg.value for arg in cls.node.bases if arg.keyword is None), None)
    if first is None:
        return False
    if isinstance(first, cst.Name) and first.value in ctx.classes:
        return ctx.class_is_keras(ctx.classes[first.value])
    return is_keras_base(ctx.resolve(first))


def _reaches_keras(ctx, cls: ClassInfo, call: cst.Call) -> bool:
    """Is this `super().__init__(...)` / `Base.__init__(self, ...)` call one that ends in Keras's own __init__?"""
    target = call.func.value
    if isinstance(target, cst.Call):  # super() or super(Cls, self)
        args = target.args
        if args and not (isinstance(args[0].value, cst.Name) and args[0].value.value == cls.name):
            return False  # super(Other, self): skips part of the MRO on purpose
        return _first_base_is_keras(ctx, cls)
    if isinstance(target, cst.Name) and target.value in ctx.classes:
        return ctx.class_is_keras(ctx.classes[target.value])
    return is_keras_base(ctx.resolve(target))


# Attributes that Layer.__init__ sets up: an __init__ that assigns them builds the layer's state itself.
_LAYER_STATE = frozenset({
    "_name", "built", "_built", "_trainable", "_trainable_weights", "_non_trainable_weights", "_layers",
    "_dtype", "_dtype_policy", "_scope", "_obj_reference_counts_dict", "_self_setattr_tracking", "_tracker",
    "_inbound_nodes", "_outbound_nodes", "_losses", "_metrics", "_updates",
})


def _manual_init(ctx, cls: ClassInfo, func: cst.FunctionDef) -> str | None:
    """Why inserting `super().__init__(**kwargs)` could change what this class deliberately does, or None."""
    if not _first_base_is_keras(ctx, cls):
        return "super() would call the first base class, which is not a Keras class"
    if any(name in class_methods(cls) for name in ("__call__", "__setattr__", "__new__")):
        return "the class replaces Layer.__call__/__setattr__ and may not use the Layer machinery"
    for node in _walk_body(func.body):
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "__init__":
            return "__init__ initialises the object through another class"
    if _self_attrs_assigned(func.body) & _LAYER_STATE:
        return "__init__ sets up the Layer state itself"
    return None


def _params_with_kwargs(loc, func: cst.FunctionDef) -> list[Edit] | None:
    """The edits adding `**kwargs` as the last parameter (shared by TFN203 and TFN204, so identical)."""
    params = func.params
    if _var_keyword(func) is not None:
        return None
    every = [*params.posonly_params, *params.params, *params.kwonly_params]
    if any(p.name.value == "kwargs" for p in every) or isinstance(params.star_arg, cst.Param) and (
            params.star_arg.name.value == "kwargs"):
        return None
    if not every and not isinstance(params.star_arg, cst.Param):
        return None  # `def __init__():` has no self: not a method we understand
    items = [*params.posonly_params]
    if isinstance(params.posonly_ind, cst.ParamSlash):
        items.append(params.posonly_ind)
    items.extend(params.params)
    if isinstance(params.star_arg, (cst.Param, cst.ParamStar)):
        items.append(params.star_arg)
    items.extend(params.kwonly_params)
    open_offset = bracket_after(loc.text, loc.span(func.name)[1], "(")
    end = item_end(loc, items[-1])
    close = bracket_after(loc.text, end, ")") if end is not None else None
    if open_offset is None or close is None:
        return None
    return append_item(loc, items, open_offset, close, "**kwargs") or None


# Keras functions that save, load or rebuild models and layers from their config.
_SAVING_FUNCTIONS = frozenset({
    "keras.models.load_model", "keras.saving.load_model", "keras.models.save_model", "keras.saving.save_model",
    "keras.models.model_from_json", "keras.models.model_from_config", "keras.models.model_from_yaml",
    "keras.models.clone_model", "keras.layers.deserialize", "keras.layers.serialize",
    "keras.saving.deserialize_keras_object", "keras.saving.serialize_keras_object",
    "keras.utils.deserialize_keras_object", "keras.utils.serialize_keras_object",
    "keras.saving.legacy.save.load_model", "keras.callbacks.ModelCheckpoint",
})
_REGISTRATION = ("register_keras_serializable",)
_BASE_LAYER_KEYWORDS = frozenset({"name", "dtype", "trainable", "dynamic", "autocast"})
_MODEL_FILE = re.compile(r"\.(keras|h5|hdf5)['\"]?$")
_NOT_MODELS = re.compile(r"(checkpoint|ckpt|manager|saver|writer|file|image|img|fig|plot)", re.IGNORECASE)


def _extends_base_config(get_config: cst.FunctionDef) -> bool:
    """`get_config` builds on `super().get_config()` (so the config carries name, trainable, dtype)."""
    return any(isinstance(n, cst.Call) and _is_super_method_call(n, "get_config") for n in _walk_body(get_config.body))


class _SerializationEvidence(_LayerRule):
    """Shared by TFN203/TFN205 (and their broad forms): is there evidence in the module that a layer class
    will be rebuilt from its config, or built with the base-layer keywords?  Collected during the
    traversal, judged in `finish()`, where the whole module is known."""

    requires_evidence: ClassVar[bool] = True
    #: Does building the class with `name=`/`dtype=`/`trainable=` count (TFN203), or only serialisation?
    keyword_evidence: ClassVar[bool] = True

    def __init__(self, ctx, sink):
        super().__init__(ctx, sink)
        self._pending: list = []  # (class, node, message, fix)
        self._registered: set = set()
        self._custom: set = set()
        self._built_with_keywords: dict = {}  # class name -> keyword
        # Saving or rebuilding calls, by the outermost function that makes them (None: module level).  In a
        # test module each test is its own world: there a class needs a save in a test that uses it.
        self._saving: dict = {}
        self._used_in: dict = {}  # class name -> outermost functions that call it
        self._test_module = False

    def _scope(self):
        func = self.ctx.current_function
        while func is not None and func.parent is not None:
            func = func.parent
        return func

    def _saves(self, reason: str) -> None:
        self._saving.setdefault(self._scope(), reason)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node.name.value.startswith("test"):
            self._test_module = True

    def defer(self, cls: ClassInfo, node: cst.CSTNode, message: str, fix=None) -> None:
        self._pending.append((cls, node, message, fix, self.ctx.current_top))

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        if any(self.ctx.module.code_for_node(arg.value).endswith(("TestCase", "Test")) for arg in node.bases):
            self._test_module = True
        for decorator in node.decorators:
            expr = decorator.decorator
            expr = expr.func if isinstance(expr, cst.Call) else expr
            qual = self.ctx.resolve(expr)
            if (qual or "").endswith(_REGISTRATION) or (isinstance(expr, cst.Attribute)
                                                        and expr.attr.value in _REGISTRATION):
                self._registered.add(node.name.value)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value == "custom_objects":
                self._custom.update(n.value for n in _walk_all(arg.value) if isinstance(n, cst.Name))
        if isinstance(func, cst.Name):
            keyword = next((a.keyword.value for a in node.args if a.keyword is not None
                            and a.keyword.value in _BASE_LAYER_KEYWORDS), None)
            if keyword is not None:
                self._built_with_keywords.setdefault(func.value, keyword)
            self._used_in.setdefault(func.value, set()).add(self._scope())
        qual = self.ctx.resolve(func)
        if qual is not None:
            q = canonical(qual)
            if q in _SAVING_FUNCTIONS and not any(a.keyword is not None and a.keyword.value == "save_weights_only"
                                                  for a in node.args):
                self._saves(f"the module calls {q.rsplit('.', 1)[-1]}()")
            elif q.rsplit(".", 1)[-1] in ("custom_object_scope", "CustomObjectScope"):
                self._custom.update(n.value for n in _walk_all(node) if isinstance(n, cst.Name))
            return
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            receiver = self.ctx.module.code_for_node(func.value)
            if method in ("from_config", "from_json") and not _NOT_MODELS.search(receiver):
                self._saves(f"the module rebuilds objects with .{method}()")
            elif method == "save" and node.args and not _NOT_MODELS.search(receiver):
                first = node.args[0].value
                path = self.ctx.module.code_for_node(first)
                formats = [a for a in node.args if a.keyword is not None and a.keyword.value == "save_format"]
                if _MODEL_FILE.search(path.rstrip("'\")")) or formats or not isinstance(
                        first, (cst.SimpleString, cst.FormattedString, cst.ConcatenatedString)):
                    self._saves(f"the module saves a model ({receiver}.save)")

    def leave_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:  # get_custom_objects()["Name"] = Name
            if isinstance(target.target, cst.Subscript) and isinstance(target.target.value, cst.Call):
                self._custom.update(n.value for n in _walk_all(node.value) if isinstance(n, cst.Name))

    def evidence(self, cls: ClassInfo) -> str | None:
        """Why this class will be rebuilt from its config or built with base-layer keywords, or None."""
        names = {cls.name} | {info.name for info in self.ctx.classes.values() if cls in self.ctx.local_bases(info)}
        if names & self._registered:
            return "it is registered with register_keras_serializable"
        if names & self._custom:
            return "it is passed in custom_objects"
        if self.keyword_evidence:
            for info in (cls, *self.ctx.local_bases(cls)):
                methods = class_methods(info)
                if "from_config" in methods or ("get_config" in methods and _extends_base_config(methods["get_config"])):
                    return "its config holds name/trainable/dtype, which from_config passes to __init__"
            for name in sorted(names):
                if name in self._built_with_keywords:
                    return f"{name}(..., {self._built_with_keywords[name]}=...) is built in this module"
        elif any("from_config" in class_methods(info) for info in (cls, *self.ctx.local_bases(cls))):
            return "it defines from_config"
        if not self._saving:
            return None
        if not self._test_module:
            return next(iter(self._saving.values()))
        defined_in = cls.parent
        while defined_in is not None and defined_in.parent is not None:
            defined_in = defined_in.parent
        scopes = {defined_in} if defined_in is not None else set()
        for name in names:
            scopes |= self._used_in.get(name, set())
        return next((self._saving[scope] for scope in scopes if scope in self._saving), None)

    def finish(self) -> None:
        for cls, node, message, fix, top in self._pending:
            why = self.evidence(cls)
            if why is None and self.requires_evidence:
                continue
            if why is not None:
                message = f"{message} ({why})"
            self.ctx.current_top = top
            self.report(node, message, fix=fix)
        self.ctx.current_top = None


class InitDropsKwargs(_SerializationEvidence):
    """## What it does
    Flags the `__init__` of a Keras `Layer`/`Model` subclass that does not accept `**kwargs`, or
    accepts them but does not pass them on to `super().__init__(...)` — when the module shows that the
    class will meet those keywords: it is registered (`@register_keras_serializable`) or passed in
    `custom_objects=`, it defines `from_config` or a `get_config` that extends `super().get_config()`
    (whose `name`/`trainable`/`dtype` the default `from_config` passes back to `__init__`), it is built
    with `name=`/`dtype=`/`trainable=` in the module, or the module saves or rebuilds models
    (`model.save(...)`, `save_model`, `load_model`, `ModelCheckpoint`, `clone_model`, `from_config`,
    `model_from_json`). A layer that is only built and
    called, as most test and example layers are, never receives them and is not flagged: TFN902 (off by
    default) flags every such `__init__`, for library authors who want all layers serialisable.

    ## Why is this bad?
    Keras passes standard arguments such as `name`, `dtype` and `trainable` through the
    constructor: `MyLayer(units=3, name="head")` fails with
    `TypeError: __init__() got an unexpected keyword argument 'name'`, and so does
    `keras.models.load_model` under Keras 3, which rebuilds layers from their config (which contains
    `name`, `trainable`, `dtype`). When `**kwargs` are accepted but dropped, the name and dtype the
    user asked for are silently ignored.

    ## Example
    ```python
    class Scale(keras.layers.Layer):
        def __init__(self, factor=2.0):
            super().__init__()
            self.factor = factor

    head = Scale(3.0, name="head")
    ```

    ## Use instead
    ```python
    class Scale(keras.layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

    head = Scale(3.0, name="head")
    ```

    ## Fix safety
    **Safe**: adds `**kwargs` as the last parameter (keeping an existing `**kw` name) and passes it as
    the last argument of every `super().__init__(...)` call that reaches Keras, laid out like the other
    parameters and arguments (on a line of its own when they are one per line). Callers that worked
    before still work. No fix when no such call reaches Keras: in `class T(Mixin, keras.Model)`,
    `super().__init__(**kwargs)` calls `Mixin.__init__`, which may not accept `name=`.

    Not reported for a class that replaces `__call__` without calling the Layer's: Keras never
    constructs or calls it.

    ## Proof
    [`fixtures/TFN203/`](../fixtures/TFN203/): `before.py` fails on `MyLayer(..., name=...)`; `after.py` survives
    `model.save` + `load_model` with identical outputs under Keras 3 and tf_keras.
    """

    code = "TFN203"
    expected_errors = ('TypeError',)
    fix_kind = "safe"
    name = "init-drops-kwargs"
    summary = "Layer __init__ does not accept or forward **kwargs"

    @staticmethod
    def screen(facts: FileFacts) -> bool:
        for init in _keras_inits(facts):
            args = init.node.args
            if args.kwarg is None:
                if "name" not in {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}:
                    return True
            elif not any(type(n) is ast.Name and n.id == args.kwarg.arg for n in walk_own_scope(init.node.body)):
                return True
        return False
    triggers = ("__init__",)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        super().visit_FunctionDef(node)
        found = self.keras_method("__init__")
        if found is None or found[0].node is not node:
            return
        method, cls = found
        if replaces_layer_protocol(cls):
            return
        var_kw = _var_keyword(node)
        supers = _super_init_calls(node, cls)
        forwarding = [c for c in supers if any(a.star == "**" and isinstance(a.value, cst.Name)
                                               and a.value.value == var_kw for a in c.args)]
        if var_kw is not None and (not supers or forwarding):
            return  # fine, or TFN204's business
        if var_kw is not None and any(isinstance(n, cst.Name) and n.value == var_kw for n in _walk_body(node.body)):
            return  # the author handles them (kwargs.pop(...), passed elsewhere)
        if var_kw is None and "name" in method.params:
            return  # `name` is handled explicitly; the author owns the constructor contract
        if var_kw is None:
            message = (f"{cls.name}.__init__ does not accept **kwargs: {cls.name}(..., name=...) and Keras 3 "
                       f"load_model fail with 'unexpected keyword argument'; add **kwargs and pass them to "
                       f"super().__init__(**kwargs)")
        else:
            message = (f"{cls.name}.__init__ accepts **{var_kw} but does not pass them to super().__init__: "
                       f"name=, dtype=, trainable= are silently dropped; call super().__init__(**{var_kw})")
        kw = var_kw or "kwargs"
        # Forward only into calls that end in Keras: a non-Keras base's __init__ may not take name=/dtype=.
        targets = [c for c in supers if c not in forwarding and _reaches_keras(self.ctx, cls, c)]

        def edits(loc) -> list[Edit] | None:
            out = []
            if var_kw is None:
                params_edits = _params_with_kwargs(loc, node)
                if params_edits is None:
                    return None
                out.extend(params_edits)
            for call in targets:
                if any(a.star == "**" for a in call.args):
                    return None
                added = append_call_argument(loc, call, f"**{kw}")
                if added is None:
                    return None
                out.extend(added)
            return out

        fix = None
        if targets:
            fix = PendingFix([], safe=True, description="accept and forward **kwargs", build_edits=edits)
        self.defer(cls, node.name, message, fix)


class InitDropsKwargsAnyLayer(InitDropsKwargs):
    """## What it does
    The broad form of TFN203, off by default (`--select TFN902`): flags every Keras `Layer`/`Model`
    subclass whose `__init__` does not accept `**kwargs` or does not forward them to
    `super().__init__(...)`, with or without evidence in the module that the class is serialised or built
    with base-layer keywords. For library authors who want every layer usable as `MyLayer(name=...)` and
    loadable from a saved model. Where TFN203 reports the same `__init__`, only TFN203 is shown.

    ## Why is this bad?
    A layer whose constructor drops `name=`/`dtype=`/`trainable=` cannot be named, cast or frozen at
    construction, and cannot be rebuilt by `load_model` from its config (`TypeError: unexpected keyword
    argument 'name'`). Users of a library meet this as soon as they save a model that contains it.

    ## Example
    ```python
    class Scale(keras.layers.Layer):
        def __init__(self, factor=2.0):
            super().__init__()
            self.factor = factor
    ```

    ## Use instead
    ```python
    class Scale(keras.layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor
    ```

    ## Fix safety
    As TFN203: **safe**, `**kwargs` added and forwarded to every `super().__init__` call that reaches Keras.

    ## Proof
    [`fixtures/TFN902/`](../fixtures/TFN902/): `before.py` fails on `Scale(name=...)`; `after.py` is
    built with a name and round-trips through `model.save`/`load_model`.
    """

    code = "TFN902"
    name = "init-drops-kwargs-any-layer"
    summary = "any Layer __init__ that does not accept or forward **kwargs (broad form of TFN203)"
    default_enabled = False
    narrows = "TFN203"
    requires_evidence = False


class MissingSuperInit(_LayerRule):
    """## What it does
    Flags the `__init__` of a Keras `Layer`/`Model` subclass that never calls `super().__init__(...)`
    (`super(Cls, self).__init__(...)` and `Base.__init__(self, ...)` count as calls).

    ## Why is this bad?
    The Keras base class sets up the layer's name, dtype policy and weight tracking in its own
    `__init__`. Without it the layer fails as soon as it is used: Keras 3 raises
    `RuntimeError: ... you forgot to call super().__init__() as the first statement`, tf_keras raises
    `RuntimeError: You must call super().__init__() in the layer constructor.`

    ## Example
    ```python
    class Scale(keras.layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            self.factor = factor
    ```

    ## Use instead
    ```python
    class Scale(keras.layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor
    ```

    ## Fix safety
    **Safe**: inserts `super().__init__(**kwargs)` as the first statement (after a docstring), adding
    `**kwargs` to the parameters if needed (the same edit TFN203 makes, so both fixes compose).

    The finding comes without a fix where the author visibly initialises the object another way, and
    the insertion would change what the class deliberately does (layer and variable names, and with
    them the checkpoints it loads): `__init__` calls another class's `__init__`
    (`tf.Module.__init__(self, ...)`), assigns the Layer's own state (`self._name`, `self.built`,
    `self._trainable_weights`, ...), the class replaces `__setattr__`/`__new__`, or its first base is
    not a Keras class (`super()` would call that base instead).

    Not reported for a class that replaces `__call__` without calling the Layer's: Keras never calls
    it, and it works without `Layer.__init__` (TF1-era code subclasses Layer for isinstance checks).

    ## Proof
    [`fixtures/TFN204/`](../fixtures/TFN204/): `before.py` raises the RuntimeError under both Keras flavours; `after.py`
    builds, saves and reloads the model with identical outputs.
    """

    code = "TFN204"
    expected_errors = ('RuntimeError', 'AttributeError')
    fix_kind = "safe"
    name = "missing-super-init"
    summary = "Layer __init__ never calls super().__init__"

    @staticmethod
    def screen(facts: FileFacts) -> bool:
        for init in _keras_inits(facts):
            if not any(type(n) is ast.Call and type(n.func) is ast.Attribute and n.func.attr == "__init__"
                       and type(n.func.value) is ast.Call and type(n.func.value.func) is ast.Name
                       and n.func.value.func.id == "super" for n in walk_own_scope(init.node.body)):
                return True
        return False
    triggers = ("__init__",)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        found = self.keras_method("__init__")
        if found is None or found[0].node is not node:
            return
        method, cls = found
        if _super_init_calls(node, cls) or _super_init_in_helper(node, cls) or replaces_layer_protocol(cls):
            return
        kw = _var_keyword(node) or "kwargs"
        body = _statements(node)
        withheld = _manual_init(self.ctx, cls, node)

        def edits(loc) -> list[Edit] | None:
            if not body:
                return None
            out = []
            if _var_keyword(node) is None:
                params_edits = _params_with_kwargs(loc, node)
                if params_edits is None:
                    return None
                out.extend(params_edits)
            rest = body[1:] if _is_docstring(body[0]) else body
            if rest:
                anchor = rest[0]
                line = loc.first_line(anchor) - _comment_lead(anchor)[1]
                indent = loc.indent_of(loc.first_line(anchor))
                at = loc.line_start(line)
            else:  # only a docstring
                indent = loc.indent_of(loc.first_line(body[0]))
                at = loc.line_start(loc.last_line(body[0]) + 1)
            out.append(Edit(at, at, f"{indent}super().__init__(**{kw}){loc.newline}"))
            return out

        message = (f"{cls.name}.__init__ never calls super().__init__(): the layer fails with RuntimeError when "
                   f"used; call super().__init__(**{kw}) first")
        fix = None
        if withheld is None:
            fix = PendingFix([], safe=True, description="call super().__init__ first", build_edits=edits)
        else:
            message += f" (no automatic fix: {withheld})"
        self.report(node.name, message, fix=fix)


# --- TFN205 -----------------------------------------------------------------------------------


class MissingGetConfig(_SerializationEvidence):
    """## What it does
    Flags a Keras `Layer`/`Model` subclass whose `__init__` takes an argument that is not a basic
    literal type — a layer, a callable, an initializer or other object, recognised by its default
    (`activation=tf.nn.relu`, `inner=Dense(4)`), its annotation (`inner: keras.layers.Layer`,
    `fn: Callable`) or its use (`self.fn = fn` and later `self.fn(...)`) — when the class defines no
    `get_config` and the module shows that it will be serialised: it is registered
    (`@register_keras_serializable`) or passed in `custom_objects=`, it defines `from_config`, or the
    module saves or loads models (`model.save(...)`, `load_model`, `ModelCheckpoint`, `clone_model`,
    `from_config`). A layer that is never saved loses nothing: TFN903 (off by default) flags every
    such class, for library authors.

    Arguments whose values are ints, floats, strings, bools, `None` or lists/tuples/dicts of those are
    captured automatically by Keras 3 and tf_keras 2.21: such layers are not flagged.

    ## Why is this bad?
    Saving needs every constructor argument in the layer's config. Keras can only capture basic
    values on its own; for anything else `model.save(...)` or `load_model` fails with
    `NotImplementedError: ... was created by passing non-serializable argument values in __init__(),
    and therefore ... must override get_config()`.

    ## Example
    ```python
    class Gated(keras.layers.Layer):
        def __init__(self, gate=tf.nn.sigmoid, **kwargs):
            super().__init__(**kwargs)
            self.gate = gate
        def call(self, x):
            return x * self.gate(x)

    model = keras.Sequential([keras.Input((4,)), Gated()])
    model.save("gated.keras")
    ```

    ## Use instead
    ```python
    class Gated(keras.layers.Layer):
        def __init__(self, gate="sigmoid", **kwargs):
            super().__init__(**kwargs)
            self.gate = keras.activations.get(gate)
        def call(self, x):
            return x * self.gate(x)
        def get_config(self):
            config = super().get_config()
            config["gate"] = keras.activations.serialize(self.gate)
            return config

    model = keras.Sequential([keras.Input((4,)), Gated()])
    model.save("gated.keras")
    ```

    ## Fix safety
    No automatic fix: how to serialise an object depends on the object. The message names the
    arguments and the `get_config`/`from_config` pattern to use.

    ## Proof
    [`fixtures/TFN205/`](../fixtures/TFN205/): `before.py` fails to save or load under both Keras flavours;
    `corrected.py` adds `get_config` and round-trips with identical outputs.
    """

    code = "TFN205"
    expected_errors = ('NotImplementedError', 'TypeError')
    name = "missing-get-config"
    summary = "Layer with non-basic constructor arguments and no get_config"

    @staticmethod
    def screen(facts: FileFacts) -> bool:
        for klass in facts.keras_classes():
            init = klass.methods.get("__init__")
            if init is None or "get_config" in klass.methods:
                continue
            args = init.node.args
            positional = [*args.posonlyargs, *args.args]
            defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
            params = list(zip(positional, defaults))[1:] + list(zip(args.kwonlyargs, args.kw_defaults))
            if not params:
                continue
            if any(_maybe_not_basic(default, param.annotation) for param, default in params):
                return True
            names = {param.arg for param, _ in params}
            stored = set()
            for node in walk_own_scope(init.node.body):
                if type(node) is ast.Call and type(node.func) is ast.Name and node.func.id in names:
                    return True  # a parameter called like a function
                if type(node) is ast.Assign and type(node.value) is ast.Name and node.value.id in names:
                    stored.update(t.attr for t in node.targets if type(t) is ast.Attribute)
            if stored and any(type(n) is ast.Call and type(n.func) is ast.Attribute and n.func.attr in stored
                              for n in ast.walk(klass.node)):
                return True  # stored as self.<attr> and called as self.<attr>(...)
        return False
    triggers = ("__init__",)

    keyword_evidence = False

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        for cls in self.ctx.classes.values():
            if cls.node is node:
                self._check(cls)

    def _check(self, cls: ClassInfo) -> None:
        init = cls.methods.get("__init__")
        if init is None or not self.ctx.class_is_keras(cls):
            return
        for info in (cls, *self.ctx.local_bases(cls)):
            if "get_config" in info.methods:
                return
            # a concrete Keras layer base (Dense, Conv2D, ...) has a get_config of its own
            if any(not b.startswith("local:") and b.rsplit(".", 1)[-1] not in _GENERIC_BASES for b in info.bases):
                return
        func = init.node
        called_attrs = {n.func.attr.value for n in _walk_all(cls.node)
                        if isinstance(n, cst.Call) and _is_self_attr(n.func)}
        stored = {}  # param -> attrs it is stored in
        called_params = set()
        for n in _walk_body(func.body):
            if isinstance(n, cst.Assign) and isinstance(n.value, cst.Name):
                for target in n.targets:
                    if _is_self_attr(target.target):
                        stored.setdefault(n.value.value, set()).add(target.target.attr.value)
            elif isinstance(n, cst.Call) and isinstance(n.func, cst.Name):
                called_params.add(n.func.value)
        flagged = []
        params = [*func.params.posonly_params, *func.params.params, *func.params.kwonly_params][1:]
        for param in params:
            name = param.name.value
            why = self._non_basic(param)
            if why is None and (name in called_params or stored.get(name, set()) & called_attrs):
                why = "called"
            if why is not None:
                flagged.append((param, name))
        if not flagged:
            return
        names = ", ".join(f"`{n}`" for _, n in flagged)
        self.defer(cls, flagged[0][0], f"{cls.name} takes {names} (a layer/callable/object) but defines no "
                                   f"get_config(): model.save()/load_model fail with 'non-serializable argument "
                                   f"values'; add get_config() returning super().get_config() plus "
                                   f"keras.saving.serialize_keras_object(...) of them, and from_config()")

    def _non_basic(self, param: cst.Param) -> str | None:
        default = param.default
        if default is not None:
            if isinstance(default, cst.Call):
                callee = default.func
                if not (isinstance(callee, cst.Name) and callee.value in _BASIC_CONSTRUCTORS):
                    return "default"
            elif isinstance(default, (cst.Attribute, cst.Name, cst.Lambda)):
                if isinstance(default, cst.Lambda):
                    return "default"
                if isinstance(default, cst.Name) and default.value in ("None", "True", "False"):
                    pass
                elif self.ctx.resolve(default) is not None:
                    return "default"  # an imported function/class/object
        if param.annotation is not None:
            ann = param.annotation.annotation
            if isinstance(ann, (cst.SimpleString, cst.ConcatenatedString)):
                return None
            for name, parent in _names_read(ann):
                if isinstance(parent, cst.Attribute):
                    qual = self.ctx.resolve(parent)
                    if qual is not None and qual.startswith("typing."):
                        if qual.rsplit(".", 1)[-1] not in _BASIC_TYPE_NAMES:
                            return "annotation"
                        continue
                    return "annotation"
                if name.value not in _BASIC_TYPE_NAMES:
                    return "annotation"
        return None


class MissingGetConfigAnyLayer(MissingGetConfig):
    """## What it does
    The broad form of TFN205, off by default (`--select TFN903`): flags every Keras `Layer`/`Model`
    subclass with a non-basic constructor argument (a layer, callable or object) and no `get_config`,
    whether or not the module saves, loads or registers it. Where TFN205 reports the same class, only
    TFN205 is shown.

    ## Why is this bad?
    Such a layer cannot be saved: `model.save(...)` and `load_model` fail with `NotImplementedError:
    ... non-serializable argument values`. Whoever uses the layer in a saved model meets the error,
    often far from where the layer was written.

    ## Example
    ```python
    class Gated(keras.layers.Layer):
        def __init__(self, gate=tf.nn.sigmoid, **kwargs):
            super().__init__(**kwargs)
            self.gate = gate
    ```

    ## Use instead
    ```python
    class Gated(keras.layers.Layer):
        def __init__(self, gate="sigmoid", **kwargs):
            super().__init__(**kwargs)
            self.gate = keras.activations.get(gate)
        def get_config(self):
            config = super().get_config()
            config["gate"] = keras.activations.serialize(self.gate)
            return config
    ```

    ## Fix safety
    No automatic fix (as TFN205).

    ## Proof
    [`fixtures/TFN903/`](../fixtures/TFN903/): `before.py` fails to save; `corrected.py` round-trips.
    """

    code = "TFN903"
    name = "missing-get-config-any-layer"
    summary = "any Layer with non-basic constructor arguments and no get_config (broad form of TFN205)"
    default_enabled = False
    narrows = "TFN205"
    requires_evidence = False
