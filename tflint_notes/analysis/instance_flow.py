"""Where the instances of a module's own classes go: which calls build them, with which keywords, into which
models, and whether those models are saved, reloaded, cloned or rebuilt from their config.

TFN203/TFN205 report a layer only on a path that fails, and that path must be about *this* class object, not
another class of the same name: a name is resolved in its lexical scope, and a class defined twice in one
scope (or also assigned there) is unknown.  Values flow, flow-insensitively within a scope, through
assignments, `model.add(...)`, `self.<attr> = ...`, the returns of the module's functions and methods, and
any call that takes them as an argument (`keras.Model(inputs, outputs)` contains what `outputs` contains).
That over-approximates "may contain", which is what a save needs; what it saves to is proven separately.

Computed once per file, after the traversal, and only when a rule asks (most files never do).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from tflint_notes.analysis import saving_sites
from tflint_notes.analysis.scopes import is_self, names_bound_by_target
from tflint_notes.cstwalk import children

_ADDING_METHODS = frozenset({"add", "append", "extend", "insert"})  # model.add(layer): the receiver holds it


@dataclass(eq=False)
class _Scope:
    """A module, function or lambda: what it binds, and to what."""

    node: cst.CSTNode
    parent: "_Scope | None"
    info: object = None  # the analysis's FunctionInfo (its import aliases), None for the module
    owner: cst.ClassDef | None = None  # the class whose method this is
    classes: dict = field(default_factory=dict)  # name -> [ClassDef]
    functions: dict = field(default_factory=dict)  # name -> [_Scope]
    values: dict = field(default_factory=dict)  # name -> [expression]
    opaque: set = field(default_factory=set)  # names bound by imports, parameters, loops of unknown values
    returns: list = field(default_factory=list)

    def bind_import(self, node: cst.Import | cst.ImportFrom) -> None:
        if isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            bound = alias.asname.name if alias.asname is not None else alias.name
            while isinstance(bound, cst.Attribute):
                bound = bound.value
            if isinstance(bound, cst.Name):
                self.opaque.add(bound.value)

    def lookup(self, name: str):
        """("class", ClassDef) | ("function", _Scope) | ("values", (scope, [expr])) | ("unknown", None)."""
        current = self
        while current is not None:
            defs = current.classes.get(name)
            funcs = current.functions.get(name)
            values = current.values.get(name)
            if defs or funcs or values or name in current.opaque:
                if defs:
                    if len(defs) == 1 and not funcs and not values and name not in current.opaque:
                        return "class", defs[0]
                    return "unknown", None  # defined twice, or also assigned: which one is not provable
                if funcs:
                    if len(funcs) == 1 and not values and name not in current.opaque:
                        return "function", funcs[0]
                    return "unknown", None
                if values:
                    return "values", (current, values)
                return "unknown", None
            current = current.parent
        return "unknown", None


class _Walk:
    """One pass over the module that records, per scope, what each name is bound to, the calls, the
    classes and their methods, and the source order of reads and bindings (see InstanceFlow)."""

    def __init__(self, function_info: dict):
        self.function_info = function_info
        self.class_scope: dict = {}  # ClassDef -> the scope its name is bound in
        self.methods: dict = {}  # ClassDef -> {name: _Scope}
        self.attr_values: dict = {}  # (ClassDef, attr) -> [(expression, scope)]
        self.super_calls: dict = {}  # ClassDef -> [(call, scope)]: super().__init__(...) and the like
        self.calls: list = []  # (call, scope)
        self.expr_scope: dict = {}
        # Source order of names read and values bound: a name read at a point holds what its last assignment
        # before that point gave it (plus what `.add(...)` added since), not every value it ever had.
        self.order: dict = {}
        self.additive: set = set()


    def block(self, statements, scope: _Scope, owner: cst.ClassDef | None) -> None:
        for stmt in statements:
            self._node(stmt, scope, owner)

    def _node(self, node: cst.CSTNode, scope: _Scope, owner) -> None:
        kind = type(node)
        if kind is cst.Name:
            self.order[node] = len(self.order)
            return
        if kind is cst.FunctionDef:
            for decorator in node.decorators:
                self._node(decorator, scope, None)
            for param in _every_param(node.params):
                if param.default is not None:
                    self._node(param.default, scope, None)
            inner = _Scope(node, scope, self.function_info.get(node), owner)
            if owner is not None:
                self.methods.setdefault(owner, {})[node.name.value] = inner
            else:
                scope.functions.setdefault(node.name.value, []).append(inner)
            inner.opaque.update(p.name.value for p in _every_param(node.params))
            self._node(node.body, inner, None)
            return
        if kind is cst.ClassDef:
            for part in (*node.decorators, *node.bases, *node.keywords):
                self._node(part, scope, None)
            if owner is None:  # a class in a class body is never resolved: no scope binds it for us
                scope.classes.setdefault(node.name.value, []).append(node)
                self.class_scope[node] = scope
            body = node.body.body if isinstance(node.body, cst.IndentedBlock) else (node.body,)
            self.block(body, scope, node)
            return
        if kind is cst.Lambda:
            inner = _Scope(node, scope, self.function_info.get(node))
            inner.opaque.update(p.name.value for p in _every_param(node.params))
            self._node(node.body, inner, None)
            return
        if kind in (cst.Assign, cst.AnnAssign, cst.AugAssign, cst.NamedExpr):
            walked = owner if kind is not cst.NamedExpr else None
            for child in children(node):  # the value first: `model = wrap(model)` reads the earlier model
                self._node(child, scope, walked)
            if node.value is not None:
                for target in (t.target for t in node.targets) if kind is cst.Assign else (node.target,):
                    self._bind(target, node.value, scope, owner)
            return
        if kind is cst.For or kind is cst.CompFor:
            self._bind(node.target, node.iter, scope, owner)  # an element holds what the iterable holds
        elif kind is cst.WithItem:
            if node.asname is not None:
                self._bind(node.asname.name, node.item, scope, owner)
        elif kind is cst.Import or kind is cst.ImportFrom:
            scope.bind_import(node)
            return
        elif kind is cst.ExceptHandler:
            if node.name is not None:
                scope.opaque.update(names_bound_by_target(node.name.name))
        elif kind is cst.Return:
            if node.value is not None:
                scope.returns.append(node.value)
        elif kind is cst.Call:
            self.calls.append((node, scope))
            self._note_call(node, scope)
        if owner is not None and kind is not cst.SimpleStatementLine and isinstance(node, cst.BaseExpression):
            owner = None  # expressions in a class body are read in the enclosing scope
        for child in children(node):
            self._node(child, scope, owner)

    def _bind(self, target: cst.BaseExpression, value: cst.BaseExpression, scope: _Scope, owner,
              additive: bool = False) -> None:
        if isinstance(target, cst.Name):
            if owner is None:  # a class-body variable is not visible in the methods
                scope.values.setdefault(target.value, []).append(value)
                self.expr_scope[value] = scope
                self.order.setdefault(value, len(self.order))
                if additive:
                    self.additive.add(value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._bind(element.value, value, scope, owner)
        elif isinstance(target, cst.StarredElement):
            self._bind(target.value, value, scope, owner)
        elif isinstance(target, cst.Attribute) and is_self(target.value) and scope.owner is not None:
            self.attr_values.setdefault((scope.owner, target.attr.value), []).append((value, scope))
        elif isinstance(target, cst.Subscript):  # d["k"] = layer: d holds it
            self._bind(target.value, value, scope, owner, additive=True)

    def _note_call(self, call: cst.Call, scope: _Scope) -> None:
        func = call.func
        if not isinstance(func, cst.Attribute):
            return
        if func.attr.value in _ADDING_METHODS:  # model.add(layer), layers.append(layer): the receiver holds it
            for arg in call.args:
                self._bind(func.value, arg.value, scope, None, additive=True)
        elif (func.attr.value == "__init__" and isinstance(func.value, cst.Call)
              and isinstance(func.value.func, cst.Name) and func.value.func.value == "super"
              and scope.owner is not None):
            # a functional subclass: super().__init__(inputs, outputs) holds what outputs holds
            self.super_calls.setdefault(scope.owner, []).append((call, scope))


class InstanceFlow:
    """Per module.  `classes_in(expr)` and the sites below answer in terms of ClassDef nodes."""

    def __init__(self, ctx):
        self.ctx = ctx
        walk = _Walk({f.node: f for f in ctx.functions})
        self.module_scope = _Scope(ctx.module, None)
        walk.block(ctx.module.body, self.module_scope, None)
        self._class_scope = walk.class_scope
        self._methods = walk.methods
        self._attr_values = walk.attr_values
        self._super_calls = walk.super_calls
        self._calls = walk.calls
        self._expr_scope = walk.expr_scope
        self._order = walk.order
        self._additive = walk.additive
        self._memo: dict = {}
        self._local_bases: dict = {}
        self.sites: list = [site for call, scope in self._calls for site in saving_sites.sites_of(self, call, scope)]

    # -- names and values --

    def lookup(self, name: str, scope: _Scope):
        return scope.lookup(name)

    def resolve_class(self, expr: cst.BaseExpression, scope: _Scope) -> cst.ClassDef | None:
        if isinstance(expr, cst.Name):
            kind, found = self.lookup(expr.value, scope)
            return found if kind == "class" else None
        return None

    def classes_in(self, expr: cst.BaseExpression | None, scope: _Scope) -> frozenset:
        """The module's classes whose instances the value of `expr` may hold (ClassDef nodes)."""
        if expr is None:
            return frozenset()
        key = (expr, id(scope))
        found = self._memo.get(key)
        if found is None:
            self._memo[key] = frozenset()  # a cycle through assignments adds nothing
            found = self._memo[key] = frozenset(self._classes_in(expr, scope))
        return found

    def _classes_in(self, expr, scope) -> set:
        kind = type(expr)
        if kind is cst.Name:
            what, found = self.lookup(expr.value, scope)
            if what != "values":
                return set()
            bound_in, values = found
            if bound_in is scope:
                values = self._reaching(expr, values)
            out = set()
            for value in values:
                out |= self.classes_in(value, self._expr_scope.get(value, bound_in))
            return out
        if kind is cst.Call:
            out = set()
            for arg in expr.args:
                out |= self.classes_in(arg.value, scope)
            func = expr.func
            if isinstance(func, cst.Name):
                what, found = self.lookup(func.value, scope)
                if what == "class":
                    out.add(found)
                    out |= self.class_contents(found)
                elif what == "function":
                    out |= self._returns(found)
                elif what == "values":
                    out |= self.classes_in(func, scope)
            elif isinstance(func, cst.Attribute):
                if is_self(func.value) and scope.owner is not None:
                    method = self._method(scope.owner, func.attr.value)
                    if method is not None:
                        out |= self._returns(method)
                out |= self.classes_in(func.value, scope)
            else:
                out |= self.classes_in(func, scope)
            return out
        if kind is cst.Attribute:
            if is_self(expr.value) and scope.owner is not None:
                return set(self.attribute_contents(scope.owner, expr.attr.value))
            return set(self.classes_in(expr.value, scope))
        if kind in (cst.Lambda, cst.SimpleString, cst.Integer, cst.Float, cst.FormattedString):
            return set()
        out = set()
        for child in children(expr):
            if isinstance(child, cst.BaseExpression):
                out |= self.classes_in(child, scope)
            else:
                for grandchild in children(child):  # Element, Arg, DictElement, CompFor, ...
                    if isinstance(grandchild, cst.BaseExpression):
                        out |= self.classes_in(grandchild, scope)
        return out

    def _reaching(self, name: cst.Name, values: list) -> list:
        """The values of a name read in its own scope that reach the read: the last assignment before it and
        what was added after that.  All of them when none comes before (a loop's back edge, a later def)."""
        at = self._order.get(name)
        before = [v for v in values if at is not None and self._order.get(v, at) < at]
        if not before:
            return values
        kills = [self._order[v] for v in before if v not in self._additive]
        last = max(kills) if kills else -1
        return [v for v in before if self._order[v] >= last]

    def _returns(self, function: _Scope) -> set:
        out = set()
        for value in function.returns:
            out |= self.classes_in(value, function)
        return out

    def _method(self, cls: cst.ClassDef, name: str) -> _Scope | None:
        for info in (cls, *self.local_bases(cls)):
            method = self._methods.get(info, {}).get(name)
            if method is not None:
                return method
        return None

    def attribute_contents(self, cls: cst.ClassDef, attr: str) -> frozenset:
        key = (cls, attr)
        found = self._memo.get(key)
        if found is None:
            self._memo[key] = frozenset()
            out = set()
            for info in (cls, *self.local_bases(cls)):
                for value, scope in self._attr_values.get((info, attr), ()):
                    out |= self.classes_in(value, scope)
            found = self._memo[key] = frozenset(out)
        return found

    def class_contents(self, cls: cst.ClassDef) -> frozenset:
        """What an instance of `cls` holds: its `self.<attr>` values and what its super().__init__ gets."""
        key = ("contents", cls)
        found = self._memo.get(key)
        if found is None:
            self._memo[key] = frozenset()
            out = set()
            for info in (cls, *self.local_bases(cls)):
                for (owner, attr) in list(self._attr_values):
                    if owner is info:
                        out |= self.attribute_contents(cls, attr)
                for call, scope in self._super_calls.get(info, ()):
                    for arg in call.args:
                        out |= self.classes_in(arg.value, scope)
            found = self._memo[key] = frozenset(out)
        return found

    def local_bases(self, cls: cst.ClassDef) -> list:
        """The module's classes `cls` derives from (resolved in its scope), nearest first."""
        found = self._local_bases.get(cls)
        if found is None:
            self._local_bases[cls] = []
            found = []
            todo = [cls]
            while todo:
                current = todo.pop(0)
                scope = self._class_scope.get(current)
                if scope is None:
                    continue
                for arg in current.bases:
                    base = self.resolve_class(arg.value, scope) if arg.keyword is None else None
                    if base is not None and base is not cls and base not in found:
                        found.append(base)
                        todo.append(base)
            self._local_bases[cls] = found
        return found

    def first_base(self, cls: cst.ClassDef) -> cst.ClassDef | None:
        """The module class `super().__init__` of `cls` reaches: its first base, if that is one of ours."""
        scope = self._class_scope.get(cls)
        first = next((arg.value for arg in cls.bases if arg.keyword is None), None)
        return self.resolve_class(first, scope) if first is not None and scope is not None else None

    def all_classes(self) -> list:
        """Every class of the module a scope binds (not classes nested in class bodies)."""
        return list(self._class_scope)

    def constructions(self) -> list:
        """(call, scope, ClassDef) for every call that builds an instance of one of the module's classes."""
        out = []
        for call, scope in self._calls:
            cls = self.resolve_class(call.func, scope)
            if cls is not None:
                out.append((call, scope, cls))
        return out

    def method_calls(self, method: str) -> list:
        """(call, scope) for every `<receiver>.<method>(...)` of the module."""
        return [(call, scope) for call, scope in self._calls
                if isinstance(call.func, cst.Attribute) and call.func.attr.value == method]

    def receiver_holds(self, call: cst.Call, scope: _Scope, cls: cst.ClassDef) -> bool:
        """May the receiver of this method call be (or hold) an instance of `cls`?  `self` in a method of
        `cls` or of a subclass is one."""
        receiver = call.func.value
        if is_self(receiver) and scope.owner is not None:
            return scope.owner is cls or cls in self.local_bases(scope.owner)
        return cls in self.classes_in(receiver, scope)

    def value_scope(self, value: cst.BaseExpression, default: _Scope) -> _Scope:
        """The scope an assigned value is evaluated in (a name's values are read where they were bound)."""
        return self._expr_scope.get(value, default)

    def path_key(self, path: cst.BaseExpression, scope: _Scope):
        return saving_sites.path_key(self, path, scope)

    def path_format(self, path: cst.BaseExpression, scope: _Scope) -> str | None:
        return saving_sites.path_format(self, path, scope)


def _every_param(params: cst.Parameters) -> list:
    every = [*params.posonly_params, *params.params, *params.kwonly_params]
    every += [star for star in (params.star_arg, params.star_kwarg) if isinstance(star, cst.Param)]
    return every
