"""The facts the project index keeps of one module, read from CPython's AST (see index.py).

A module's facts are a small JSON-ready dict, cached on disk by the module's contents:

    {"path": "pkg/train.py", "package": false,
     "imports": {bound name: qualified name},          # module level, relative imports made absolute
     "classes": {name: {"line": n, "bases": [qualified name or None]}},
     "functions": {"name" or "Class.method": {
         "line": n, "params": [...], "kwonly": [...], "kwargs": bool,
         "cand": [parameters that may hold tensors: not self, no literal default, no int/str annotation],
         "root": "@tf.function" or "", "eager": bool (a tf.py_function callback),
         "calls": [[callee, line, [[position or keyword, evidence], ...]]],
         "model": the Keras model factory every return calls (module functions only, absent if none)}},
     "wraps": [[qualified name, "a tf.function-wrapped function" | "a tf.data callback", line]]}

Evidence is the list of reasons an argument may be a tensor: "T" (a tf.* op, a layer call) or "P:<param>"
(holds when that parameter of the caller receives a tensor); None when there is no reason to think so.
Only names of the module and imports that may be the project's own are kept as callees (not TensorFlow,
NumPy, the standard library...); the index decides which of them are project functions.  "refs" lists every
such name the module uses as a class base or calls: the only names the module's view answers for.

The facts are derived from the screen's `FileFacts` walk (screen.py), so a file the linter parses anyway costs
no second walk; function-local imports and loop/`with` targets are not followed (a name they bind is read as
an ordinary local or parameter).
"""

from __future__ import annotations

import ast
import warnings

from tflint_notes.analysis.names import canonical, is_keras_base, is_model_factory, is_tf_function, tf_call_returns_tensor
from tflint_notes.screen import FileFacts

_EAGER_WRAPPERS = frozenset({
    "tensorflow.py_function", "tensorflow.numpy_function", "tensorflow.compat.v1.py_func",
    "tensorflow.compat.v1.numpy_function", "tensorflow.compat.v1.py_function", "tensorflow.py_func",
})
_DATASET_METHODS = frozenset({"map", "filter", "flat_map", "interleave"})
_BASIC_ANNOTATIONS = frozenset({"int", "float", "bool", "str", "bytes"})
_ELEMENTWISE = (ast.Lt, ast.Gt, ast.LtE, ast.GtE, ast.Eq, ast.NotEq)
# Callees that are never the project's own functions.
_EXTERNAL_ROOTS = frozenset({
    "tensorflow", "numpy", "keras", "tf_keras", "jax", "torch", "scipy", "pandas", "sklearn", "os", "sys",
    "math", "random", "re", "json", "logging", "absl", "functools", "itertools", "collections", "typing",
    "tensorflow_probability", "tensorflow_datasets", "tensorflow_hub", "tensorflow_addons", "PIL", "cv2",
})
TENSOR = "T"


def collect_module_facts(data: bytes, name: str, is_package: bool, path: str) -> dict | None:
    """The facts of a module read from disk, or None when it does not parse."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = compile(data, path, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
        return module_facts(FileFacts(tree), name, is_package, path)
    except (SyntaxError, ValueError, RecursionError, MemoryError, UnicodeDecodeError):
        return None


def module_facts(file_facts: FileFacts, name: str, is_package: bool, path: str) -> dict:
    """The facts of a module from the screen's walk of its AST."""
    package = name if is_package else name.rpartition(".")[0]
    collector = _Collector(name, package)
    collector.module(file_facts)
    return {"path": path, "package": is_package, "imports": collector.imports, "classes": collector.classes,
            "functions": collector.functions, "wraps": collector.wraps, "refs": sorted(collector.refs)}


def _module_statements(body, depth: int = 0):
    """Statements run at module level: through if/try/with blocks, not into defs."""
    for stmt in body:
        if isinstance(stmt, (ast.If, ast.With, ast.AsyncWith, ast.For, ast.While)) and depth < 20:
            yield from _module_statements(stmt.body, depth + 1)
            yield from _module_statements(getattr(stmt, "orelse", ()), depth + 1)
        elif isinstance(stmt, ast.Try) and depth < 20:
            for block in (stmt.body, *(h.body for h in stmt.handlers), stmt.orelse, stmt.finalbody):
                yield from _module_statements(block, depth + 1)
        else:
            yield stmt


class _Collector:
    def __init__(self, name: str, package: str):
        self.name = name
        self.package = package
        self.imports: dict[str, str | None] = {}
        self.classes: dict = {}
        self.functions: dict = {}
        self.wraps: list = []
        self.local: set = set()  # names the module defines (def/class)
        self.refs: set = set()

    # -- names --

    def absolute(self, node: ast.ImportFrom) -> str | None:
        if not node.level:
            return node.module
        parts = self.package.split(".") if self.package else []
        if node.level - 1 > len(parts):
            return None  # beyond the top of the project: unknown
        base = parts[:len(parts) - (node.level - 1)]
        if node.module:
            base.append(node.module)
        return ".".join(base) if base else None

    def import_pairs(self, stmt) -> list[tuple[str, str | None]]:
        pairs = []
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.asname:
                    pairs.append((alias.asname, alias.name))
                else:
                    root = alias.name.split(".")[0]
                    pairs.append((root, root))
        else:
            module = self.absolute(stmt)
            for alias in stmt.names:
                if alias.name == "*":
                    continue
                pairs.append((alias.asname or alias.name, f"{module}.{alias.name}" if module else None))
        return pairs

    def resolve(self, node: ast.AST) -> str | None:
        root = node
        while type(root) is ast.Attribute:
            root = root.value
        if type(root) is not ast.Name:
            return None
        head = root.id
        qual = f"{self.name}.{head}" if head in self.local else self.imports.get(head)
        if qual is None or root is node:
            return qual
        parts = []
        while type(node) is ast.Attribute:
            parts.append(node.attr)
            node = node.value
        return ".".join([qual, *reversed(parts)])

    # -- the module --

    def module(self, facts: FileFacts) -> None:
        statements = list(_module_statements(facts.tree.body))
        bound: dict[str, int] = {}
        aliases = []
        relative: set = set()
        for stmt in statements:
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                if isinstance(stmt, ast.ImportFrom) and stmt.level:
                    relative.update(alias.asname or alias.name for alias in stmt.names)
                for bound_name, qual in self.import_pairs(stmt):
                    if bound_name in self.imports and self.imports[bound_name] != qual:
                        qual = None  # bound to two things (try: import a except: import b): unknown
                    self.imports[bound_name] = qual
                    bound[bound_name] = bound.get(bound_name, 0) + 1
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.local.add(stmt.name)
                bound[stmt.name] = bound.get(stmt.name, 0) + 1
            elif isinstance(stmt, ast.Assign):
                for target in stmt.targets:
                    for name in _target_names(target):
                        bound[name] = bound.get(name, 0) + 1
                if len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name) and isinstance(
                        stmt.value, (ast.Name, ast.Attribute)):
                    aliases.append((stmt.targets[0].id, stmt.value))
            elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign)) and isinstance(stmt.target, ast.Name):
                bound[stmt.target.id] = bound.get(stmt.target.id, 0) + 2
        for name, count in bound.items():
            if count > 1 and name in self.imports and name not in self.local:
                self.imports[name] = None  # rebound: unknown
        if any(_changes_sys_path(stmt) for stmt in statements):
            # `sys.path.insert(0, "vendor")`: an absolute import may then find another module of the same name
            for name, qual in self.imports.items():
                if qual is not None and name not in relative and qual.split(".")[0] not in _EXTERNAL_ROOTS:
                    self.imports[name] = None
        self.local = {n for n in self.local if bound.get(n) == 1}
        for name, value in aliases:  # `tfk = tf.keras`: an alias bound once
            if bound.get(name) == 1:
                self.imports[name] = self.resolve(value)
        self.imports = {k: v for k, v in self.imports.items() if v is not None}
        top = {id(stmt) for stmt in statements}
        for klass in facts.classes:
            bases = [self.resolve(b) for b in klass.node.bases]
            self.refs.update(b for b in bases if b is not None and b.split(".")[0] not in _EXTERNAL_ROOTS)
            if id(klass.node) in top and klass.name in self.local:
                self.classes[klass.name] = {"line": klass.node.lineno, "bases": bases}
        assigned: dict = {}
        for node, func in facts.assignments:
            if func is not None:
                assigned.setdefault(func, []).append(node)
        for func in facts.functions:
            if func.name is None:
                continue
            if func.cls is not None and id(func.cls.node) in top and func.cls.name in self.local:
                self.function(func, f"{func.cls.name}.{func.name}", not _is_static(func.node),
                              assigned.get(func, ()))
            elif func.parent is None and func.cls is None and id(func.node) in top and func.name in self.local:
                self.function(func, func.name, False, assigned.get(func, ()))
        self.find_wraps(facts)

    def function(self, info, key: str, method: bool, assignments) -> None:
        node = info.node
        args = node.args
        ordered = [*args.posonlyargs, *args.args]
        defaults = [None] * (len(ordered) - len(args.defaults)) + list(args.defaults)
        candidates = []
        for index, (arg, default) in enumerate([*zip(ordered, defaults), *zip(args.kwonlyargs, args.kw_defaults)]):
            if index == 0 and method:
                continue
            if default is not None and _is_literal(default):
                continue
            if isinstance(arg.annotation, ast.Name) and arg.annotation.id in _BASIC_ANNOTATIONS:
                continue
            candidates.append(arg.arg)
        root, eager = "", False
        for decorator in node.decorator_list:
            expr = decorator.func if isinstance(decorator, ast.Call) else decorator
            qual = self.resolve(expr)
            if is_tf_function(qual):
                root = "@tf.function"
            elif qual is not None and canonical(qual) in _EAGER_WRAPPERS:
                eager = True
        facts = {"line": node.lineno, "params": [a.arg for a in ordered], "kwonly": [a.arg for a in args.kwonlyargs],
                 "kwargs": args.kwarg is not None, "cand": candidates, "root": root, "eager": eager, "calls": []}
        evidence = None
        receiver = ordered[0].arg if method and ordered else None
        for call in info.calls:
            callee = None
            func = call.func
            if receiver is not None and type(func) is ast.Attribute and type(func.value) is ast.Name and (
                    func.value.id == receiver):
                callee = f"self.{func.attr}"
            else:
                qual = self.resolve(func)
                if qual is not None and qual.split(".")[0] not in _EXTERNAL_ROOTS:
                    callee = qual
            if callee is None:
                continue
            if evidence is None:
                evidence = _Evidence(self, set(candidates), assignments)
            passed = []
            position = 0
            for arg in call.args:
                if isinstance(arg, ast.Starred):
                    break
                passed.append([position, evidence.of(arg)])
                position += 1
            for keyword in call.keywords:
                if keyword.arg is not None:
                    passed.append([keyword.arg, evidence.of(keyword.value)])
            facts["calls"].append([callee, call.lineno, passed])
        if not method and any(is_model_factory(self.resolve(call.func)) for call in info.calls):
            factory = self.returned_model(node)  # a second walk only for functions that build a model
            if factory is not None:
                facts["model"] = factory
        self.functions[key] = facts

    def returned_model(self, node) -> str | None:
        """The Keras model factory (`tensorflow.keras.Sequential`) whose result every `return` of the function
        gives back, directly or through a local name bound only to such calls; None otherwise."""
        returns, bound = [], {}
        for child in _own_nodes(node):
            if isinstance(child, ast.Return):
                returns.append(child.value)
            elif isinstance(child, ast.Assign):
                for target in child.targets:
                    for name in _target_names(target):
                        bound.setdefault(name, []).append(child.value if isinstance(target, ast.Name) else None)
            elif isinstance(child, (ast.AugAssign, ast.AnnAssign, ast.For, ast.With, ast.NamedExpr)):
                targets = [child.target] if not isinstance(child, ast.With) else [
                    item.optional_vars for item in child.items if item.optional_vars is not None]
                for target in targets:
                    for name in _target_names(target):
                        bound.setdefault(name, []).append(None)
        if not returns:
            return None
        factory = None
        for value in returns:
            values = bound.get(value.id, [None]) if isinstance(value, ast.Name) else [value]
            for item in values:
                if not isinstance(item, ast.Call):
                    return None
                qual = self.resolve(item.func)
                if not is_model_factory(qual):
                    return None
                factory = factory or qual
        return factory

    def find_wraps(self, facts: FileFacts) -> None:
        """`tf.function(f)` and `<dataset>.map(f)` anywhere in the module, with `f` a name it can resolve; and
        the names the module calls that may be the project's own (`refs`)."""
        datasets = None
        for fact in facts.calls:
            node = fact.node
            func = node.func
            qual = self.resolve(func)
            if qual is not None and qual.split(".")[0] not in _EXTERNAL_ROOTS:
                self.refs.add(qual)
            if not node.args:
                continue
            target = node.args[0]
            if type(func) is ast.Attribute and func.attr in _DATASET_METHODS:
                if datasets is None:
                    datasets = _dataset_names(self, facts.assignments)
                if not _is_dataset(self, func.value, datasets):
                    continue
                why = "a tf.data callback"
                for keyword in node.keywords:
                    if keyword.arg in ("map_func", "predicate"):
                        target = keyword.value
            elif is_tf_function(qual):
                why = "a tf.function-wrapped function"
            else:
                continue
            target_qual = self.resolve(target)
            if target_qual is not None and target_qual.split(".")[0] not in _EXTERNAL_ROOTS:
                self.wraps.append([target_qual, why, node.lineno])


class _Evidence:
    """Why an expression of one function may be a tensor (flow-insensitive: a local name counts only if
    every assignment to it gives it evidence)."""

    def __init__(self, collector: _Collector, candidates: set, assignments):
        self.c = collector
        self.candidates = candidates
        assigned: dict[str, list] = {}
        for stmt in assignments:
            if type(stmt) is ast.Assign:
                for target in stmt.targets:
                    for name in _target_names(target):
                        assigned.setdefault(name, []).append(stmt.value)
            elif type(stmt.target) is ast.Name:  # AugAssign
                assigned.setdefault(stmt.target.id, []).append(stmt.value)
        self.assigned = assigned
        self.names: dict[str, list | None] = {}

    def name(self, name: str) -> list | None:
        """Evidence of a local name: every assignment to it must give some (a parameter's own counts too)."""
        if name in self.names:
            return self.names[name]
        self.names[name] = None  # `x = x + 1`: the name's own value is not evidence of itself
        found = [self.of(value) for value in self.assigned[name]]
        if any(f is None for f in found):
            return None
        start = [[f"P:{name}"]] if name in self.candidates else []
        self.names[name] = result = _merge([*start, *found])
        return result

    def of(self, node) -> list | None:
        if isinstance(node, ast.Name):
            if node.id in self.assigned:
                return self.name(node.id)
            return [f"P:{node.id}"] if node.id in self.candidates else None
        if isinstance(node, ast.Call):
            qual = self.c.resolve(node.func)
            if qual is not None:
                if qual.startswith("numpy."):
                    return _merge(self.of(a) for a in node.args)
                return [TENSOR] if tf_call_returns_tensor(qual) else None
            func = node.func
            if isinstance(func, ast.Call) and is_keras_base(self.c.resolve(func.func)):
                return _merge(self.of(a) for a in node.args)
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self":
                return _merge(self.of(a) for a in node.args)
            return None
        if isinstance(node, ast.BinOp):
            return _merge([self.of(node.left), self.of(node.right)])
        if isinstance(node, ast.UnaryOp):
            return self.of(node.operand)
        if isinstance(node, ast.Subscript):
            return self.of(node.value)
        if isinstance(node, ast.Compare):
            if not all(isinstance(op, _ELEMENTWISE) for op in node.ops):
                return None
            return _merge([self.of(node.left), *(self.of(c) for c in node.comparators)])
        if isinstance(node, (ast.List, ast.Tuple)):
            return _merge(self.of(e) for e in node.elts)
        if isinstance(node, ast.IfExp):
            return _merge([self.of(node.body), self.of(node.orelse)])
        if isinstance(node, ast.Attribute) and node.attr == "T":
            return self.of(node.value)
        return None


def _own_nodes(function):
    """The nodes of a function's body, not those of functions, lambdas and classes defined inside it."""
    todo = list(function.body)
    while todo:
        node = todo.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                todo.append(child)


def _merge(evidences) -> list | None:
    out: set = set()
    for ev in evidences:
        if ev:
            if TENSOR in ev:
                return [TENSOR]
            out.update(ev)
    return sorted(out) if out else None


def _target_names(target):
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            yield from _target_names(element)
    elif isinstance(target, ast.Starred):
        yield from _target_names(target.value)


def _dataset_names(collector: _Collector, assignments: list) -> set:
    names: set = set()
    for _ in range(2):
        for node, _func in assignments:
            if type(node) is ast.Assign and _is_dataset(collector, node.value, names):
                for target in node.targets:
                    names.update(_target_names(target))
    return names


def _is_dataset(collector: _Collector, node, names: set) -> bool:
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            qual = collector.resolve(node)
            if qual is not None:
                return canonical(qual).startswith("tensorflow.data.")
            node = node.value
        elif isinstance(node, ast.Name):
            return node.id in names
        else:
            return False


def _changes_sys_path(stmt) -> bool:
    """`sys.path.insert/append/extend(...)`, `sys.path = ...`, `sys.path += ...`, `site.addsitedir(...)`."""
    node = stmt.value if isinstance(stmt, ast.Expr) else None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        func = node.func
        if func.attr in ("insert", "append", "extend") and isinstance(func.value, ast.Attribute) and (
                func.value.attr == "path" and isinstance(func.value.value, ast.Name) and func.value.value.id == "sys"):
            return True
        if func.attr == "addsitedir" and isinstance(func.value, ast.Name) and func.value.id == "site":
            return True
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if isinstance(
        stmt, ast.AugAssign) else []
    return any(isinstance(t, ast.Attribute) and t.attr == "path" and isinstance(t.value, ast.Name)
               and t.value.id == "sys" for t in targets)


def _is_literal(node) -> bool:
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.UnaryOp):
        return _is_literal(node.operand)
    if isinstance(node, (ast.Tuple, ast.List)):
        return all(_is_literal(e) for e in node.elts)
    return False


def _is_static(node) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in node.decorator_list)
