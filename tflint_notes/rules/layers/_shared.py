"""Helpers shared by the rules of this family (split from layers.py)."""

from __future__ import annotations

import re
from typing import ClassVar

import libcst as cst

from tflint_notes.analysis import ClassInfo, FunctionInfo, canonical, class_methods, names_bound_by_target
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
        names = {cls.name} | {info.name for info in self.ctx.local_classes() if cls in self.ctx.local_bases(info)}
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
        # the first saving scope in source order (a set's order would make the message vary between runs)
        return next((reason for scope, reason in self._saving.items() if scope in scopes), None)

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
