"""A cheap screen on CPython's AST: can a rule possibly fire in this file?

Parsing with libcst is the price of every checked file (about 5x CPython's own parser). Most files of
a TF code base use TensorFlow without any of the patterns the rules look for, so before paying that
price the engine asks each active rule's `screen(facts)`; only if one says "maybe" is the file parsed
and walked, and only with the rules that said so.

A screen must over-approximate its rule: it may say "maybe" when the rule stays silent, never "no"
when the rule would fire. So the facts here are deliberately coarse: a name may resolve to every module
any import in the file binds it to (rebinding and shadowing are ignored), graph code is every function
that *could* be a graph root or be called from one (by name, through any class), and so on.
`tests/test_screen.py` checks the guarantee: every fixture, every property-test program and the
benchmark corpus (`bench/run.py --verify-screen`) give the same findings with and without screening.
"""

from __future__ import annotations

import ast
from typing import Iterable, Iterator

from tflint_notes.api import ApiView
from tflint_notes.analysis.names import (
    DATASET_CALLBACK_METHODS,
    KERAS_GRAPH_METHODS,
    TF_FUNCTION_NAMES,
    canonical,
    keras_flavour_of,
    is_keras_base,
)

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef)
_LEAVES = (ast.Name, ast.Constant, ast.Load, ast.Store, ast.Del)
# What the walk never descends into: leaf nodes, and the plain values some fields hold (Global.names are
# strings, a dict literal's `**x` has the key None, MatchSingleton.value is True, False or None).
_SKIPPED = frozenset({*_LEAVES, str, int, bool, type(None)})
# Fields that never hold a node: not even looked at.
_SCALAR_FIELDS = frozenset({"ctx", "id", "attr", "name", "arg", "module", "level", "kind", "type_comment",
                            "is_async", "conversion", "simple", "tag", "lineno"})


def _node_fields(kind: type) -> tuple[str, ...]:
    fields = _NODE_FIELDS[kind] = tuple(f for f in kind._fields if f not in _SCALAR_FIELDS)
    return fields


_NODE_FIELDS: dict[type, tuple[str, ...]] = {}
_NO_NAMES: frozenset[str] = frozenset()


class Func:
    """A def or lambda.  `cls`: the class whose body defines it directly (a method), else None."""

    # No list of children here: parent <-> children would make every file's facts (and, through `node`, its
    # whole AST) a reference cycle that only a full collection frees.  FileFacts.children_of has them.
    __slots__ = ("node", "name", "parent", "cls", "calls")

    def __init__(self, node, name: str | None, parent: "Func | None", cls: "Klass | None"):
        self.node = node
        self.name = name
        self.parent = parent
        self.cls = cls
        self.calls: list[ast.Call] = []

    def enclosing_def(self) -> "Func | None":
        """The innermost def (lambdas skipped), as the rules' `keras_method` sees it."""
        func: Func | None = self
        while func is not None and func.name is None:
            func = func.parent
        return func


class Klass:
    __slots__ = ("node", "name", "methods")

    def __init__(self, node: ast.ClassDef):
        self.node = node
        self.name = node.name
        self.methods: dict[str, Func] = {}


_LOOPS = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


class CallFact:
    __slots__ = ("node", "func", "in_loop")

    def __init__(self, node: ast.Call, func: Func | None, in_loop: bool):
        self.node = node
        self.func = func  # the innermost def or lambda, None at module/class level
        self.in_loop = in_loop  # inside a for/while statement or a comprehension of that same function


class FileFacts:
    """One walk over the module's AST; rules' screens query it."""

    def __init__(self, tree: ast.Module, view=None):
        self.tree = tree
        self.text: str | None = None  # the source, when the engine has it (a screen without it says "maybe")
        self._api_views: tuple | None = None  # see set_target
        # What the project index says of this module (project/view.py): Keras bases and graph callers in other
        # modules.  Relative imports are read only when it knows the module's package.
        self.view = None
        self._relative: list[ast.ImportFrom] = []  # read once the view says where the module's package is
        self.imports: dict[str, set[str]] = {}
        self.functions: list[Func] = []
        self.functions_named: dict[str, list[Func]] = {}
        self.methods_named: dict[str, list[Func]] = {}
        self.lambdas: dict[int, Func] = {}
        self._children: dict[int, list[Func]] = {}  # id(Func) -> the defs and lambdas directly inside it
        self.classes: list[Klass] = []
        self.calls: list[CallFact] = []
        self.assignments: list[tuple[ast.AST, Func | None]] = []  # Assign / AugAssign
        self.global_decls: list[Func | None] = []  # functions holding `global` / `nonlocal`
        self.import_nodes: list[ast.Import | ast.ImportFrom] = []
        self.attributes: list[ast.Attribute] = []  # every attribute node, in walk order
        self._attribute_names: set | None = None
        self._chains: list | None = None
        self.memo: dict = {}  # screens that share a costly question keep its answer here
        self._qualnames: dict[int, frozenset] = {}  # id(node) -> qualnames(node); the tree outlives the facts
        self._canonical: dict[int, frozenset] = {}
        self._calls_by_name: dict | None = None  # see calls_named
        self._graph: set | None = None
        self._keras: set | None = None
        self._visit_body(tree, None, None, False)
        self._add_aliases()
        self._qualnames.clear()  # asked while the aliases were being added: the imports have grown since
        if view is not None:
            self.attach_view(view)

    def attach_view(self, view) -> None:
        """Take the project index's view of this module (the walk does not depend on it, so the facts of one
        parse serve the index first and the screen after): relative imports resolve from its package."""
        self.view = view
        package = view.package if not view.trivial else None
        if package is None:
            return
        parts = package.split(".")
        for node in self._relative:
            if node.level - 1 > len(parts):
                continue
            base = parts[:len(parts) - (node.level - 1)]
            module = ".".join([*base, *([node.module] if node.module else [])])
            if module:
                for alias in node.names:
                    if alias.name != "*":
                        self.imports.setdefault(alias.asname or alias.name, set()).add(f"{module}.{alias.name}")
        self.memo.clear()
        self._qualnames.clear()
        self._canonical.clear()
        self._calls_by_name = None
        self._graph = self._keras = self._chains = None

    def children_of(self, func: Func) -> list[Func]:
        """The defs and lambdas directly inside `func`."""
        return self._children.get(id(func), [])

    def set_target(self, target, first_party: frozenset = frozenset()) -> None:
        """What the project targets (project/target.py): screens then judge names as the analysis will."""
        # the module itself may ask for legacy Keras (TF_USE_LEGACY_KERAS, imports.sets_legacy_keras)
        legacy = {target.tf_keras or (self.text is not None and "TF_USE_LEGACY_KERAS" in self.text
                                      and sets_legacy_keras(self.tree))}
        self._api_views = tuple(ApiView(flag, target.keras2, target.tf_newest, first_party) for flag in sorted(legacy))
        self.memo.clear()

    def api_views(self) -> tuple:
        """The ApiViews the analysis may judge this module's names with (both Keras flavours when the target is
        not known)."""
        if self._api_views is None:
                self._api_views = (ApiView(False), ApiView(True))
        return self._api_views

    def parameter_names(self) -> set:
        """Every parameter name of every def and lambda of the file."""
        found = self.memo.get("parameters")
        if found is None:
            found = self.memo["parameters"] = {a.arg for f in self.functions for a in (
                *f.node.args.posonlyargs, *f.node.args.args, *f.node.args.kwonlyargs)}
        return found

    def may_be_keras3(self) -> bool:
        """Can any Keras object of this module be Keras 3 (`tf.keras` or `keras` not both Keras 2)?"""
        return any(not (view.legacy_tf_keras and view.keras2) for view in self.api_views())

    def may_be_keras3_name(self, qualname: str) -> bool:
        """Can `keras_flavour(qualname)` be "keras3" under one of this module's ApiViews?"""
        return any(keras_flavour_of(qualname, view.legacy_tf_keras, view.keras2) == "keras3"
                   for view in self.api_views())

    def _add_aliases(self) -> None:
        """`tfk = tf.keras` at module level: `tfk` may stand for what `tf.keras` stands for (the analysis
        trusts such an alias only when the name is bound once; the screen takes every one)."""
        for node, func in self.assignments:
            if func is None and type(node) is ast.Assign and type(node.value) in (ast.Name, ast.Attribute):
                names = self.qualnames(node.value)
                if names:
                    for target in node.targets:
                        if type(target) is ast.Name:
                            self.imports.setdefault(target.id, set()).update(names)

    # -- the walk --

    def _visit_body(self, node: ast.AST, func: Func | None, cls: Klass | None, in_loop: bool) -> None:
        # ast.iter_child_nodes, without its two generators per node: this walk runs on every file
        visit = self._visit
        kind = type(node)
        for field in _NODE_FIELDS.get(kind) or _node_fields(kind):
            value = getattr(node, field, None)
            if type(value) is list:
                for child in value:
                    if type(child) not in _SKIPPED:
                        visit(child, func, cls, in_loop)
            elif type(value) not in _SKIPPED:
                visit(value, func, cls, in_loop)

    def _visit(self, node: ast.AST, func: Func | None, cls: Klass | None, in_loop: bool) -> None:
        kind = type(node)
        if kind is ast.Attribute:
            self.attributes.append(node)
        elif kind is ast.Call:
            fact = CallFact(node, func, in_loop)
            self.calls.append(fact)
            if func is not None:
                func.calls.append(node)
        elif kind is ast.FunctionDef or kind is ast.AsyncFunctionDef or kind is ast.Lambda:
            name = None if kind is ast.Lambda else node.name
            inner = Func(node, name, func, cls if name is not None else None)
            self.functions.append(inner)
            if func is not None:
                self._children.setdefault(id(func), []).append(inner)
            if name is None:
                self.lambdas[id(node)] = inner
            else:
                self.functions_named.setdefault(name, []).append(inner)
                if cls is not None:
                    self.methods_named.setdefault(name, []).append(inner)
                    cls.methods.setdefault(name, inner)
            self._visit_body(node, inner, None, False)
            return
        elif kind is ast.ClassDef:
            klass = Klass(node)
            self.classes.append(klass)
            self._visit_body(node, func, klass, in_loop)
            return
        elif kind in _LOOPS:
            self._visit_body(node, func, cls, True)
            return
        elif kind is ast.Assign or kind is ast.AugAssign:
            self.assignments.append((node, func))
        elif kind is ast.Import:
            self.import_nodes.append(node)
            for alias in node.names:
                if alias.asname:
                    self.imports.setdefault(alias.asname, set()).add(alias.name)
                else:
                    root = alias.name.split(".", 1)[0]
                    self.imports.setdefault(root, set()).add(root)
            return
        elif kind is ast.ImportFrom:
            self.import_nodes.append(node)
            module = node.module
            if node.level:
                self._relative.append(node)
                module = None
            if module:
                for alias in node.names:
                    if alias.name != "*":
                        self.imports.setdefault(alias.asname or alias.name, set()).add(f"{module}.{alias.name}")
            return
        elif kind is ast.Global or kind is ast.Nonlocal:
            self.global_decls.append(func)
            return
        self._visit_body(node, func, cls, in_loop)

    # -- names --

    def qualnames(self, expr: ast.AST) -> frozenset[str]:
        """Every qualified name `expr` (a dotted name) may stand for, through any import of the file (kept per
        node: the screens ask about the same callees again and again)."""
        known = self._qualnames.get(id(expr))
        if known is not None:
            return known
        node = expr
        attrs = []
        while type(node) is ast.Attribute:
            attrs.append(node.attr)
            node = node.value
        roots = self.imports.get(node.id) if type(node) is ast.Name else None
        if not roots:
            found = _NO_NAMES
        else:
            suffix = "".join("." + a for a in reversed(attrs))
            found = frozenset(root + suffix for root in roots)
        self._qualnames[id(expr)] = found
        return found

    def attribute_chains(self) -> list[tuple[ast.Attribute, set[str]]]:
        """Every maximal `name.attr.attr` chain whose root name is imported, with the qualified names it may
        stand for (computed once, on first use)."""
        if self._chains is None:
            attributes = self.attributes
            inner = {id(n.value) for n in attributes if type(n.value) is ast.Attribute}
            chains = []
            for node in attributes:
                if id(node) not in inner:
                    names = self.qualnames(node)
                    if names:
                        chains.append((node, names))
            self._chains = chains
        return self._chains

    def calls_named(self, names) -> list[CallFact]:
        """The calls whose callee may end in one of `names`: `x.save(...)` for "save", `load(...)` after
        `from keras.models import load_model as load` for "load_model" (in file order)."""
        index = self._calls_by_name
        if index is None:
            index = self._calls_by_name = {}
            for position, fact in enumerate(self.calls):
                func = fact.node.func
                if type(func) is ast.Attribute:
                    index.setdefault(func.attr, []).append(position)
                elif type(func) is ast.Name:
                    index.setdefault(func.id, []).append(position)
                    for target in self.imports.get(func.id, ()):
                        last = target.rpartition(".")[2]
                        if last != func.id:
                            index.setdefault(last, []).append(position)
        positions = sorted({p for name in names for p in index.get(name, ())})
        return [self.calls[p] for p in positions]

    def attribute_names(self) -> set[str]:
        """Every `.attr` name the file reads or writes."""
        if self._attribute_names is None:
            self._attribute_names = {n.attr for n in self.attributes}
        return self._attribute_names

    def canonical_names(self, expr: ast.AST) -> frozenset[str]:
        names = self.qualnames(expr)
        if not names:
            return names
        known = self._canonical.get(id(expr))
        if known is None:
            known = self._canonical[id(expr)] = frozenset(canonical(q) for q in names)
        return known

    def is_tf_function(self, expr: ast.AST) -> bool:
        return not self.qualnames(expr).isdisjoint(TF_FUNCTION_NAMES)

    def decorated_with_tf_function(self, func: Func) -> bool:
        return func.name is not None and any(
            self.is_tf_function(d.func if type(d) is ast.Call else d) for d in func.node.decorator_list)

    # -- Keras classes and graph code --

    def keras_classes(self) -> set[Klass]:
        """Classes with a Keras base, directly or through classes of this file (matched by name)."""
        if self._keras is None:
            keras: set[Klass] = set()
            pending = []
            for klass in self.classes:
                # `class A(*bases)` is nonsense at runtime, but the analysis reads the starred name too
                bases = [b.value if type(b) is ast.Starred else b for b in klass.node.bases]
                if any(is_keras_base(q) or self._project_keras(q) for b in bases for q in self.qualnames(b)):
                    keras.add(klass)
                else:
                    pending.append((klass, {b.id for b in bases if type(b) is ast.Name}))
            changed = True
            while changed:
                names = {k.name for k in keras}
                changed = False
                for klass, base_names in pending:
                    if klass not in keras and not base_names.isdisjoint(names):
                        keras.add(klass)
                        changed = True
            self._keras = keras
        return self._keras

    def _project_keras(self, qualname: str) -> bool:
        return self.view is not None and self.view.keras_base(qualname) is not None

    def keras_method(self, func: Func | None, name: str) -> bool:
        """`func` lies in method `name` of a Keras class (lambdas in between are fine)."""
        method = func.enclosing_def() if func is not None else None
        return method is not None and method.name == name and method.cls in self.keras_classes()

    def _targets(self, expr: ast.AST) -> Iterator[Func]:
        """Functions that a callback expression (`f`, `self.f`, a lambda) may denote."""
        kind = type(expr)
        if kind is ast.Lambda:
            yield self.lambdas[id(expr)]
        elif kind is ast.Name:
            yield from self.functions_named.get(expr.id, ())
        elif kind is ast.Attribute and type(expr.value) is ast.Name and expr.value.id == "self":
            yield from self.methods_named.get(expr.attr, ())

    def graph_functions(self) -> set[Func]:
        """Every function that may be graph code (a superset of what the analysis decides)."""
        if self._graph is not None:
            return self._graph
        roots: list[Func] = []
        keras = self.keras_classes()
        entries = self.view.entries if self.view is not None else ()
        called_elsewhere = {name for name, _ in entries}
        for func in self.functions:
            if (func.cls in keras and func.name in KERAS_GRAPH_METHODS) or self.decorated_with_tf_function(func):
                roots.append(func)
            elif called_elsewhere and func.name is not None and (
                    (func.cls is None and func.parent is None and func.name in called_elsewhere)
                    or (func.cls is not None and f"{func.cls.name}.{func.name}" in called_elsewhere)):
                roots.append(func)  # graph code of another module calls it (project index)
        for fact in self.calls:
            call = fact.node
            callee = call.func
            if (type(callee) is ast.Attribute and callee.attr in DATASET_CALLBACK_METHODS) or (
                    self.is_tf_function(callee)):
                for value in _argument_values(call):
                    roots.extend(self._targets(value))
        graph: set[Func] = set()
        todo = roots
        while todo:
            func = todo.pop()
            if func in graph:
                continue
            # the function, everything nested in it, and what they call by name
            stack = [func]
            while stack:
                current = stack.pop()
                if current in graph:
                    continue
                graph.add(current)
                stack.extend(self.children_of(current))
                for call in current.calls:
                    callee = call.func
                    if type(callee) is ast.Name or (type(callee) is ast.Attribute and type(callee.value) is ast.Name
                                                    and callee.value.id == "self"):
                        todo.extend(f for f in self._targets(callee) if f not in graph)
        self._graph = graph
        return graph

    def graph_calls(self) -> Iterator[CallFact]:
        graph = self.graph_functions()
        if not graph:
            return
        for fact in self.calls:
            if fact.func in graph:
                yield fact

    # -- module level --

    def module_mutables(self) -> set[str]:
        """Names bound at module level (plain statements) to a list/dict/set, as TFN107 counts them."""
        names: set[str] = set()
        for stmt in self.tree.body:
            if type(stmt) is not ast.Assign:
                continue
            value = stmt.value
            mutable = isinstance(value, (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)) or (
                type(value) is ast.Call and type(value.func) is ast.Name
                and value.func.id in ("list", "dict", "set", "defaultdict", "Counter", "deque"))
            if mutable:
                for target in stmt.targets:
                    names.update(names_bound(target))
        return names

    def module_class_names(self) -> set[str]:
        return {klass.name for klass in self.classes}

    def tf_function_names(self) -> set[str]:
        """Names of functions decorated with tf.function, wrapped by it, or bound to its result."""
        names = set()
        for func in self.functions:
            if self.decorated_with_tf_function(func):
                names.add(func.name)
        for node, _ in self.assignments:
            if type(node) is ast.Assign and type(node.value) is ast.Call and self.is_tf_function(node.value.func):
                for target in node.targets:
                    names.update(names_bound(target))
        for fact in self.calls:
            if self.is_tf_function(fact.node.func):
                for value in _argument_values(fact.node):  # tf.function(f), tf.function(self.f)
                    if type(value) is ast.Name:
                        names.add(value.id)
                    elif type(value) is ast.Attribute:
                        names.add(value.attr)
        return names


def _argument_values(call: ast.Call) -> Iterator[ast.AST]:
    for arg in call.args:
        yield arg.value if type(arg) is ast.Starred else arg
    for keyword in call.keywords:
        yield keyword.value


def keyword_names(call: ast.Call) -> Iterator[str]:
    for keyword in call.keywords:
        if keyword.arg is not None:
            yield keyword.arg


def names_bound(target: ast.AST) -> Iterator[str]:
    kind = type(target)
    if kind is ast.Name:
        yield target.id
    elif kind is ast.Tuple or kind is ast.List:
        for element in target.elts:
            yield from names_bound(element)
    elif kind is ast.Starred:
        yield from names_bound(target.value)


def walk_own_scope(nodes: Iterable[ast.AST]) -> Iterator[ast.AST]:
    """Every node under `nodes`, not descending into nested functions, classes or lambdas."""
    stack = list(nodes)
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, _SCOPES):
            stack.extend(ast.iter_child_nodes(node))


_TRUE_STRINGS = ("1", "true", "True", "TRUE", "yes")


def _module_level(body) -> Iterator[ast.AST]:
    """`imports.module_level_statements` on CPython's AST: statements run at module level, in order."""
    for stmt in body:
        kind = type(stmt)
        if kind is ast.If:
            yield from _module_level(stmt.body)
            yield from _module_level(stmt.orelse)
        elif kind is ast.Try or kind.__name__ == "TryStar":
            yield from _module_level(stmt.body)
            for handler in stmt.handlers:
                yield from _module_level(handler.body)
            yield from _module_level(stmt.orelse)
            yield from _module_level(stmt.finalbody)
        elif kind in (ast.With, ast.AsyncWith, ast.For, ast.AsyncFor, ast.While):
            if kind is ast.For or kind is ast.AsyncFor:
                yield stmt
            yield from _module_level(stmt.body)
        else:
            yield stmt


def _dotted(node: ast.AST) -> str | None:
    if type(node) is ast.Name:
        return node.id
    if type(node) is ast.Attribute:
        base = _dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def _string(node: ast.AST | None) -> str | None:
    return node.value if type(node) is ast.Constant and isinstance(node.value, str) else None


def sets_legacy_keras(tree: ast.Module) -> bool:
    """`imports.sets_legacy_keras` on CPython's AST: TF_USE_LEGACY_KERAS set true at module level before the
    first import of TensorFlow."""
    for stmt in _module_level(tree.body):
        kind = type(stmt)
        if kind is ast.Import or kind is ast.ImportFrom:
            names = ([a.name for a in stmt.names] if kind is ast.Import else
                     [f"{stmt.module}.{a.name}" for a in stmt.names if a.name != "*"]
                     if stmt.module and not stmt.level else [])
            if any(name.split(".", 1)[0] == "tensorflow" for name in names):
                return False
        elif kind is ast.Assign and len(stmt.targets) == 1:
            target = stmt.targets[0]
            if (type(target) is ast.Subscript and _dotted(target.value) in ("os.environ", "environ")
                    and _string(target.slice) == "TF_USE_LEGACY_KERAS"):
                return _string(stmt.value) in _TRUE_STRINGS
        elif kind is ast.Expr and type(stmt.value) is ast.Call:
            call = stmt.value
            func = _dotted(call.func)
            if func in ("os.environ.setdefault", "environ.setdefault", "os.putenv") and len(call.args) == 2 and (
                    not call.keywords and _string(call.args[0]) == "TF_USE_LEGACY_KERAS"):
                return _string(call.args[1]) in _TRUE_STRINGS
            if func in ("os.environ.update", "environ.update") and (call.args or call.keywords):
                for keyword in call.keywords:
                    if keyword.arg == "TF_USE_LEGACY_KERAS":
                        return _string(keyword.value) in _TRUE_STRINGS
                for arg in call.args:
                    if type(arg) is ast.Dict:
                        for key, value in zip(arg.keys, arg.values):
                            if _string(key) == "TF_USE_LEGACY_KERAS":
                                return _string(value) in _TRUE_STRINGS
    return False

