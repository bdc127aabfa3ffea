"""Helpers shared by the rules of this family (split from layers.py)."""

from __future__ import annotations

import ast
from typing import ClassVar

import libcst as cst

from tflint_notes.analysis import ClassInfo, FunctionInfo, class_methods, classdef_methods, names_bound_by_target
from tflint_notes.cstwalk import children
from tflint_notes.fixes import append_item, bracket_after, item_end
from tflint_notes.results import Edit
from tflint_notes.rule import Rule
from tflint_notes.screen import FileFacts


_OWN_SCOPE = (cst.FunctionDef, cst.ClassDef, cst.Lambda)
_LOOPS = (cst.For, cst.While, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)
_GENERIC_BASES = frozenset({"Layer", "Model", "object"})


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


def _statements(func: cst.FunctionDef) -> list:
    return list(func.body.body) if isinstance(func.body, cst.IndentedBlock) else []


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


def creates_once(test: cst.BaseExpression, truthiness: bool = False) -> bool:
    """`self.w is None` / `not hasattr(self, "w")` (possibly in an `and`/`or`), and with `truthiness` also
    `not self.w`: creation on the first call only.  (`not self.built` is no such guard: Keras sets `built`
    before `call` runs.)"""
    if isinstance(test, cst.BooleanOperation):
        return creates_once(test.left, truthiness) or creates_once(test.right, truthiness)
    if isinstance(test, cst.Comparison):
        return any(isinstance(t.operator, cst.Is) and isinstance(t.comparator, cst.Name)
                   and t.comparator.value == "None" for t in test.comparisons)
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        inner = test.expression
        if truthiness and _is_self_attr(inner) and inner.attr.value != "built":
            return True
        return isinstance(inner, cst.Call) and isinstance(inner.func, cst.Name) and inner.func.value == "hasattr"
    return False


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


def _keras_inits(facts: FileFacts):
    keras = facts.keras_classes()
    return [f for f in facts.functions if f.name == "__init__" and f.cls in keras] if keras else []


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


def _walk_all(node: cst.CSTNode):
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(children(current))


def _var_keyword(func: cst.FunctionDef) -> str | None:
    star = func.params.star_kwarg
    return star.name.value if isinstance(star, cst.Param) else None


def _super_init_calls(func: cst.FunctionDef, cls: ClassInfo) -> list[cst.Call]:
    base_names = tuple(b[6:] if b.startswith("local:") else b for b in cls.bases)
    module = cst.Module(body=[])
    local_base_names = tuple(module.code_for_node(a.value) for a in cls.node.bases if a.keyword is None)
    names = base_names + local_base_names
    return [n for n in _walk_body(func.body) if isinstance(n, cst.Call) and _is_super_method_call(n, "__init__", names)]


def _first_base_is_keras(ctx, cls: ClassInfo) -> bool:
    """Does `super().__init__` of this class reach Keras?  Only if the first base (the next class in the
    MRO) is a Keras class: `class T(Base, keras.Model)` sends `super().__init__(**kwargs)` to `Base`."""
    first = next((arg.value for arg in cls.node.bases if arg.keyword is None), None)
    if first is None:
        return False
    local = ctx.local_class(first.value) if isinstance(first, cst.Name) else None
    if local is not None:
        return ctx.class_is_keras(local)
    return ctx.keras_base_of(ctx.project_name(first)) is not None  # Keras, or a Keras class of another module


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


_BASE_LAYER_KEYWORDS = frozenset({"name", "dtype", "trainable", "dynamic", "autocast"})


def _extends_base_config(get_config: cst.FunctionDef) -> bool:
    """`get_config` builds on `super().get_config()` (so the config carries name, trainable, dtype)."""
    return any(isinstance(n, cst.Call) and _is_super_method_call(n, "get_config") for n in _walk_body(get_config.body))


def _init_of(cls: cst.ClassDef) -> cst.FunctionDef | None:
    return classdef_methods(cls).get("__init__")


def _named_params(func: cst.FunctionDef) -> list[str]:
    params = func.params
    return [p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)]


class _SerializationEvidence(_LayerRule):
    """Shared by TFN203/TFN205 (and their broad forms TFN902/TFN903): findings are collected during the
    traversal and judged in `finish()` against the module's proof that the failure happens: a call site of
    *this* class object (see analysis/instance_flow.py) where the layer is built with a keyword it drops, or a
    model holding it is saved, reloaded, cloned or rebuilt from its config.  The message names that line."""

    requires_evidence: ClassVar[bool] = True

    def __init__(self, ctx, sink):
        super().__init__(ctx, sink)
        self._pending: list = []

    def defer(self, cls: ClassInfo, node: cst.CSTNode, head: str, generic: str, advice: str, fix=None,
              **details) -> None:
        """`head: <consequence>; advice`, where the consequence is the proven failure or, for the broad
        forms without one, `generic`."""
        self._pending.append((cls, node, head, generic, advice, fix, details, self.ctx.current_top))

    def failure(self, cls: ClassInfo, details: dict) -> tuple[str, tuple] | None:
        """The failure this module will run into, as (text with {line0}.. placeholders, their nodes)."""
        raise NotImplementedError

    def finish(self) -> None:
        for cls, node, head, generic, advice, fix, details, top in self._pending:
            found = self.failure(cls, details)
            if found is None and self.requires_evidence:
                continue
            consequence, lines = found if found is not None else (generic, ())
            self.ctx.current_top = top
            self.report(node, f"{head}: {consequence}; {advice}", fix=fix, lines=lines)
        self.ctx.current_top = None

    # -- shared answers --

    def holders(self, flow, target: cst.ClassDef, receiver) -> set:
        """The module's classes whose instances hand their constructor arguments to `target`'s __init__
        (itself, and subclasses that inherit or forward to it), per `receiver` (see below)."""
        out = set()
        for cls in flow.all_classes():
            if receiver(flow, cls) is target:
                out.add(cls)
        return out

    @staticmethod
    def keyword_receiver(flow, cls: cst.ClassDef, _depth: int = 0) -> cst.ClassDef | None:
        """Which class's __init__ gets the keywords `cls(...)` is called with: the first one along the chain
        of first bases that does not pass **kwargs on; None when they reach Keras."""
        init = _init_of(cls)
        if init is not None:
            star = init.params.star_kwarg
            forwards = isinstance(star, cst.Param) and any(
                isinstance(n, cst.Call) and _is_super_method_call(n, "__init__")
                and any(a.star == "**" and isinstance(a.value, cst.Name) and a.value.value == star.name.value
                        for a in n.args)
                for n in _walk_body(init.body))
            if not forwards:
                return cls
        base = flow.first_base(cls)
        if base is None or _depth > 20:
            return None
        return _SerializationEvidence.keyword_receiver(flow, base, _depth + 1)

    @staticmethod
    def constructor_owner(flow, cls: cst.ClassDef, _depth: int = 0) -> cst.ClassDef | None:
        """The class whose __init__ signature Keras captures for `cls(...)`: the nearest one defining __init__."""
        if _init_of(cls) is not None:
            return cls
        base = flow.first_base(cls)
        if base is None or _depth > 20:
            return None
        return _SerializationEvidence.constructor_owner(flow, base, _depth + 1)


# -- what the AST shows of the evidence TFN203/TFN205 need (saving_sites.py, read by name) --

_SITE_FUNCTIONS = {
    "save_model": "save", "load_model": "load", "clone_model": "clone", "serialize": "config",
    "serialize_keras_object": "config", "model_from_json": "rebuild", "model_from_config": "rebuild",
    "model_from_yaml": "rebuild", "deserialize": "rebuild", "deserialize_keras_object": "rebuild",
}
_SITE_METHODS = {"save": "save", "get_config": "config", "to_json": "config", "to_yaml": "config",
                 "from_config": "rebuild", "from_json": "rebuild"}


def serialisation_sites(facts: FileFacts) -> set:
    """The kinds of serialisation site the file may hold ("save", "load", "clone", "config", "rebuild"): a
    superset of what saving_sites.py finds, by the callee's last name as written or imported."""
    found = facts.memo.get("serialisation sites")
    if found is None:
        found = set()
        for c in facts.calls:
            func = c.node.func
            leaves = {name.rsplit(".", 1)[-1] for name in facts.qualnames(func)}
            if type(func) is ast.Attribute:
                leaves.add(func.attr)
                method = _SITE_METHODS.get(func.attr)
                if method is not None:
                    found.add(method)
            elif type(func) is ast.Name:
                leaves.add(func.id)
            found.update(_SITE_FUNCTIONS[leaf] for leaf in leaves if leaf in _SITE_FUNCTIONS)
        facts.memo["serialisation sites"] = found
    return found


def constructed_with_base_keyword(facts: FileFacts) -> bool:
    """Is a class of the file called with name=, dtype=, trainable=, ... (TFN203's first evidence)?"""
    classes = facts.module_class_names()
    for c in facts.calls:
        func = c.node.func
        leaf = func.id if type(func) is ast.Name else func.attr if type(func) is ast.Attribute else None
        if leaf in classes and any(k.arg in _BASE_LAYER_KEYWORDS for k in c.node.keywords):
            return True
    return False

