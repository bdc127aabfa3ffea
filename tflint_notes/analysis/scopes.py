"""Scopes and bindings: which function or class encloses the current point, and what it has bound so far.

Almost every question a rule asks depends on where it is asked: a name is an import unless the enclosing
function assigned it, `self` is a Keras layer inside a Layer subclass, a call is graph code inside a
tf.function.  The scope stack is kept here, during the one traversal, in source order, so the answers are
those of the code seen so far: reading a local before its assignment is an UnboundLocalError anyway.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterator

import libcst as cst

from tflint_notes.cstwalk import children

MODULE = "<module>"  # the module scope, for `binding_scope`
_BASIC_ANNOTATIONS = frozenset({"int", "float", "bool", "str", "bytes"})
_OWN_SCOPE = (cst.Lambda, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)


@dataclass(eq=False)
class ClassInfo:
    node: cst.ClassDef
    name: str
    bases: list  # qualified names (str) or local ClassInfo names prefixed with "local:"
    methods: dict = field(default_factory=dict)  # name -> FunctionInfo
    parent: "FunctionInfo | None" = None


def class_methods(cls: ClassInfo) -> dict[str, cst.FunctionDef]:
    """The methods a class body defines, all of them (`ClassInfo.methods` grows during the traversal)."""
    return classdef_methods(cls.node)


def classdef_methods(node: cst.ClassDef) -> dict[str, cst.FunctionDef]:
    body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
    return {stmt.name.value: stmt for stmt in body if isinstance(stmt, cst.FunctionDef)}


def is_self(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "self"


@dataclass(eq=False)
class FunctionInfo:
    """A `def` or a `lambda`."""

    node: cst.FunctionDef | cst.Lambda
    name: str | None
    parent: "FunctionInfo | None"  # lexically enclosing function
    cls: ClassInfo | None  # the class whose body defines this method
    params: list  # parameter names in order
    tensor_param_candidates: set  # parameters that may receive tensors when this is a graph root
    imports: dict = field(default_factory=dict)  # function-local `import` aliases
    local_functions: dict = field(default_factory=dict)
    tensor_names: dict = field(default_factory=dict)  # flow state: name -> Evidence
    dataset_names: set = field(default_factory=set)
    bound: set = field(default_factory=set)  # names assigned so far in the traversal (shadow imports)
    rebound: set = field(default_factory=set)  # names (parameters too) assigned so far in the traversal
    graph_root: bool = False
    graph_reason: str = ""  # how it became graph code, for messages: "@tf.function", "MyLayer.call"
    eager_callback: bool = False
    _bindings: set | None = None

    def bindings(self) -> set:
        """Names assigned anywhere in this function (a full scan; only for fixes, which must be sure)."""
        if self._bindings is None:
            self._bindings = _collect_bindings(self.node)
        return self._bindings


def names_bound_by_target(target: cst.BaseExpression) -> Iterator[str]:
    if isinstance(target, cst.Name):
        yield target.value
    elif isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from names_bound_by_target(element.value)
    elif isinstance(target, cst.StarredElement):
        yield from names_bound_by_target(target.value)


def is_self_param(func: FunctionInfo, name: str) -> bool:
    """`name` is the `self`/`cls` parameter of a method."""
    return func.cls is not None and bool(func.params) and func.params[0] == name and not is_staticmethod(func.node)


def is_staticmethod(node: cst.FunctionDef | cst.Lambda) -> bool:
    if isinstance(node, cst.Lambda):
        return True
    return any(isinstance(d.decorator, cst.Name) and d.decorator.value == "staticmethod" for d in node.decorators)


def _is_literal(node: cst.BaseExpression) -> bool:
    if isinstance(node, (cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString,
                         cst.ConcatenatedString, cst.FormattedString)):
        return True
    if isinstance(node, cst.Name) and node.value in ("None", "True", "False"):
        return True
    if isinstance(node, cst.UnaryOperation):
        return _is_literal(node.expression)
    if isinstance(node, (cst.Tuple, cst.List)):
        return all(_is_literal(e.value) for e in node.elements)
    return False


# `dft_length (int): ...`, `dft_length (int, optional) - ...`, `dft_length: int`, `dft_length : int` (numpy style)
_DOCUMENTED_TYPE = re.compile(r"^[ \t]*\*{0,2}(\w+)[ \t]*(?:\([ \t]*(\w+)[^)\n]*\)|:[ \t]*(\w+)\b)", re.MULTILINE)
_SCALAR_TYPES = frozenset({"int", "float", "bool", "str", "integer", "boolean", "string"})


def _documented_as_python_scalars(node: cst.FunctionDef) -> set:
    """Parameters the docstring types as a Python int/float/bool/str: a tf.function traces them as Python values,
    so NumPy on them is fine (the author says what they pass)."""
    body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
    first = body[0] if body else None
    if not (isinstance(first, cst.SimpleStatementLine) and isinstance(first.body[0], cst.Expr)
            and isinstance(first.body[0].value, (cst.SimpleString, cst.ConcatenatedString))):
        return set()
    text = first.body[0].value.evaluated_value
    if not isinstance(text, str):
        return set()
    return {m.group(1) for m in _DOCUMENTED_TYPE.finditer(text)
            if (m.group(2) or m.group(3) or "").lower() in _SCALAR_TYPES}


def _collect_bindings_params(params: cst.Parameters) -> set:
    names = {p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)}
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            names.add(star.name.value)
    return names


def _collect_bindings(func: cst.FunctionDef | cst.Lambda) -> set:
    names = _collect_bindings_params(func.params)
    if isinstance(func, cst.Lambda):
        return names
    declared_global: set = set()
    stack = list(children(func.body))
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind is cst.FunctionDef or kind is cst.ClassDef:
            names.add(node.name.value)
            continue  # a scope of its own
        if kind in _OWN_SCOPE:
            continue
        if kind is cst.AssignTarget:
            names.update(names_bound_by_target(node.target))
        elif kind is cst.AnnAssign or kind is cst.AugAssign or kind is cst.For:
            names.update(names_bound_by_target(node.target))
        elif kind is cst.AsName:
            names.update(names_bound_by_target(node.name))
        elif kind is cst.NamedExpr:
            names.update(names_bound_by_target(node.target))
        elif kind is cst.Global or kind is cst.Nonlocal:
            declared_global.update(item.name.value for item in node.names)
        stack.extend(children(node))
    return names - declared_global


class ScopeTracking:
    """The stacks of enclosing functions and classes, every def/lambda/class of the module, and the names
    each function has bound so far.  Reads `resolve` (class bases) and `_comprehension_variable` (loops)."""

    def _init_scopes(self) -> None:
        self.functions: list[FunctionInfo] = []
        self.classes: dict[str, ClassInfo] = {}
        self.module_functions: dict[str, FunctionInfo] = {}
        self._func_stack: list[FunctionInfo] = []
        self._class_stack: list[ClassInfo] = []

    @property
    def function_stack(self) -> list[FunctionInfo]:
        return self._func_stack

    @property
    def current_function(self) -> FunctionInfo | None:
        return self._func_stack[-1] if self._func_stack else None

    @property
    def current_class(self) -> ClassInfo | None:
        """The class whose body directly encloses the current point (or the current method)."""
        func = self.current_function
        if func is not None:
            return func.cls
        return self._class_stack[-1] if self._class_stack else None

    @property
    def innermost_class(self) -> ClassInfo | None:
        """The innermost class statement being walked (in a rule's visit_ClassDef: that class), also when it
        is defined inside a function."""
        return self._class_stack[-1] if self._class_stack else None

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        if self._func_stack:
            self._func_stack[-1].bound.add(node.name.value)
        bases = []
        for arg in node.bases:
            if arg.keyword is not None:
                continue
            if isinstance(arg.value, cst.Name) and arg.value.value in self.classes:
                bases.append("local:" + arg.value.value)
            else:
                q = self.project_name(arg.value)  # resolve, and relative imports of project classes
                if q is not None:
                    bases.append(q)
        info = ClassInfo(node, node.name.value, bases, parent=self.current_function)
        if self.current_function is None and not self._class_stack:
            self.classes[info.name] = info
        self._class_stack.append(info)

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        self._class_stack.pop()

    def _define_function(self, node: cst.FunctionDef) -> FunctionInfo:
        """The FunctionInfo of a `def`, registered with its class, enclosing function or module (not yet
        entered: its decorators are read in the enclosing scope)."""
        parent = self.current_function
        if parent is not None:
            parent.bound.add(node.name.value)
        cls = self._class_stack[-1] if self._class_stack and (
            parent is None or self._class_stack[-1].parent is parent) else None
        info = self._new_function(node, node.name.value, parent, cls)
        if cls is not None:
            cls.methods.setdefault(info.name, info)
        elif parent is not None:
            parent.local_functions[info.name] = info
        elif not self._class_stack:
            self.module_functions.setdefault(info.name, info)
        return info

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._func_stack.pop()

    def leave_Lambda(self, node: cst.Lambda) -> None:
        self._func_stack.pop()

    def _new_function(self, node, name, parent, cls) -> FunctionInfo:
        params_node = node.params
        ordered = [*params_node.posonly_params, *params_node.params]
        names = [p.name.value for p in ordered]
        candidates = set()
        for index, p in enumerate([*ordered, *params_node.kwonly_params]):
            if index == 0 and cls is not None and not is_staticmethod(node):
                continue  # self / cls
            if p.default is not None and _is_literal(p.default):
                continue
            ann = p.annotation
            if ann is not None and isinstance(ann.annotation, cst.Name) and ann.annotation.value in _BASIC_ANNOTATIONS:
                continue
            candidates.add(p.name.value)
        names += [p.name.value for p in params_node.kwonly_params]
        if candidates and isinstance(node, cst.FunctionDef):
            candidates -= _documented_as_python_scalars(node)
        info = FunctionInfo(node, name, parent, cls, names, candidates)
        info.bound.update(_collect_bindings_params(params_node))
        self.functions.append(info)
        return info

    # Local bindings, in traversal order (see `resolve`).

    def _bound(self, target: cst.BaseExpression) -> None:
        if self._func_stack:
            names = list(names_bound_by_target(target))
            self._func_stack[-1].bound.update(names)
            self._func_stack[-1].rebound.update(names)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._bound(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._bound(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._bound(node.target)

    def visit_AsName(self, node: cst.AsName) -> None:
        self._bound(node.name)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bound(node.target)

    def binding_scope(self, name: str):
        """The scope whose binding of `name` the current point reads: the current or an enclosing
        FunctionInfo, or MODULE when no enclosing function binds it (seen so far)."""
        func = self.current_function
        if self._comprehension_variable(name):
            return func  # [... for x in ...]: the comprehension's own variable
        while func is not None:
            if name in func.bound:
                return func
            func = func.parent
        return MODULE

    # The module's own classes and functions, by name: of a class defined twice the last definition (seen so
    # far) counts, of a function the first.

    def local_class(self, name: str) -> ClassInfo | None:
        """The module-level class `name` of this module, or None."""
        return self.classes.get(name)

    def local_classes(self) -> list[ClassInfo]:
        """The module-level classes of this module, one per name, in the order the names were first defined."""
        return list(self.classes.values())

    def module_function(self, name: str) -> FunctionInfo | None:
        """The module-level function `name` of this module, or None."""
        return self.module_functions.get(name)

    def defined_functions(self) -> list[FunctionInfo]:
        """Every def and lambda of the module seen so far, in source order."""
        return list(self.functions)

    def local_bases(self, cls: ClassInfo) -> list[ClassInfo]:
        """Classes of this module that `cls` derives from, nearest first (no cycles)."""
        out: list[ClassInfo] = []
        todo = [cls]
        while todo:
            current = todo.pop(0)
            for base in current.bases:
                local = self.classes.get(base[6:]) if base.startswith("local:") else None
                if local is not None and local is not cls and local not in out:
                    out.append(local)
                    todo.append(local)
        return out
