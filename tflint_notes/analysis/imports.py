"""Imports and aliases: what qualified name a name or an attribute chain stands for.

Every rule matches qualified names (`tensorflow.function`, `keras.layers.Layer`), never the spelling in the
file: `tf.function`, `from tensorflow import function as tf_function` and `tfk = tf.keras` must all be
recognised, and a name the code rebinds must not be.  The module-level imports are read once, before the
traversal, from the statements that run at module level; function-local imports and bindings are read as
the traversal meets them.
"""

from __future__ import annotations

from typing import Iterable, Iterator

import libcst as cst

from tflint_notes.analysis.scopes import names_bound_by_target

_TRUE_STRINGS = ("1", "true", "True", "TRUE", "yes")


def module_level_statements(body: Iterable[cst.CSTNode], in_except: bool = False
                            ) -> Iterator[tuple[cst.CSTNode, bool]]:
    """Statements executed at module level (through if/try/with/for blocks, not into defs)."""
    for stmt in body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                yield small, in_except
        elif isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            yield stmt, in_except
        elif isinstance(stmt, cst.If):
            yield from module_level_statements(stmt.body.body, in_except)
            orelse = stmt.orelse
            while orelse is not None:
                yield from module_level_statements(orelse.body.body, in_except)
                orelse = getattr(orelse, "orelse", None)
        elif isinstance(stmt, (cst.Try, cst.TryStar)):
            yield from module_level_statements(stmt.body.body, in_except)
            for handler in stmt.handlers:
                yield from module_level_statements(handler.body.body, True)
            if stmt.orelse is not None:
                yield from module_level_statements(stmt.orelse.body.body, in_except)
            if stmt.finalbody is not None:
                yield from module_level_statements(stmt.finalbody.body.body, in_except)
        elif isinstance(stmt, (cst.With, cst.For, cst.While)):
            if isinstance(stmt, cst.For):
                yield stmt, in_except
            yield from module_level_statements(stmt.body.body, in_except)


def _import_aliases(node: cst.Import | cst.ImportFrom) -> Iterator[tuple[str, str]]:
    """(bound name, qualified name) pairs bound by an import statement."""
    if isinstance(node, cst.Import):
        for alias in node.names:
            dotted = _dotted(alias.name)
            if dotted is None:
                continue
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                yield alias.asname.name.value, dotted
            else:
                root = dotted.split(".", 1)[0]
                yield root, root
        return
    if node.relative or node.module is None or isinstance(node.names, cst.ImportStar):
        return
    module = _dotted(node.module)
    if module is None:
        return
    for alias in node.names:
        name = _dotted(alias.name)
        if name is None:
            continue
        bound = name
        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
            bound = alias.asname.name.value
        yield bound, f"{module}.{name}"


def _dotted(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = _dotted(node.value)
        return None if base is None else f"{base}.{node.attr.value}"
    return None


def _scan_module_imports(module: cst.Module) -> dict:
    """{bound name: qualified name} of the imports at module level, without names the module rebinds,
    with plain aliases of them (`tfk = tf.keras`)."""
    imports: dict[str, str] = {}
    rebound: set = set()
    aliases: list = []  # (name, expression): `tfk = tf.keras`, `layers = keras.layers`
    assigned: dict = {}  # name -> how many module-level statements bind it
    for stmt, in_except in module_level_statements(module.body):
        if isinstance(stmt, (cst.Import, cst.ImportFrom)):
            for bound, qual in _import_aliases(stmt):
                assigned[bound] = 2  # an import elsewhere: `if ...: import tf_keras as keras else: keras = tf.keras`
                if bound in imports and imports[bound] != qual and not in_except:
                    rebound.add(bound)
                imports.setdefault(bound, qual)
            continue
        if in_except:
            continue  # `except ImportError: np = None` must not hide the import
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            rebound.add(stmt.name.value)
        elif isinstance(stmt, cst.Assign):
            for target in stmt.targets:
                names = list(names_bound_by_target(target.target))
                rebound.update(names)
                for name in names:
                    assigned[name] = assigned.get(name, 0) + 1
            if (len(stmt.targets) == 1 and isinstance(stmt.targets[0].target, cst.Name)
                    and isinstance(stmt.value, (cst.Name, cst.Attribute))):
                aliases.append((stmt.targets[0].target.value, stmt.value))
        elif isinstance(stmt, (cst.AnnAssign, cst.AugAssign, cst.For)):
            for name in names_bound_by_target(stmt.target):
                rebound.add(name)
                assigned[name] = 2  # not a plain alias
    for name in rebound:
        imports.pop(name, None)
    # A name bound once, to a module or attribute path of an import, is that import: `tfk = tf.keras`,
    # `tfkl = tfk.layers` (in order, so aliases of aliases resolve).
    for name, value in aliases:
        if assigned.get(name) != 1:
            continue
        parts = []
        node = value
        while isinstance(node, cst.Attribute):
            parts.append(node.attr.value)
            node = node.value
        head = imports.get(node.value) if isinstance(node, cst.Name) else None
        if head is not None:
            imports[name] = ".".join([head, *reversed(parts)])
    return imports


def sets_legacy_keras(module: cst.Module) -> bool:
    """`os.environ["TF_USE_LEGACY_KERAS"] = "1"` (or `.setdefault`/`.update`) at module level, before the
    first import of TensorFlow."""
    for stmt, _ in module_level_statements(module.body):
        if isinstance(stmt, (cst.Import, cst.ImportFrom)):
            names = [q for _, q in _import_aliases(stmt)]
            if any(q.split(".", 1)[0] == "tensorflow" for q in names):
                return False
            continue
        if isinstance(stmt, cst.Assign) and len(stmt.targets) == 1:
            target = stmt.targets[0].target
            if (isinstance(target, cst.Subscript) and _dotted(target.value) in ("os.environ", "environ")
                    and len(target.slice) == 1 and _string_value(target.slice[0].slice) == "TF_USE_LEGACY_KERAS"):
                return _string_value(stmt.value) in _TRUE_STRINGS
        elif isinstance(stmt, cst.Expr) and isinstance(stmt.value, cst.Call):
            call = stmt.value
            if _dotted(call.func) in ("os.environ.setdefault", "environ.setdefault", "os.putenv") and (
                    len(call.args) == 2 and _string_value(call.args[0].value) == "TF_USE_LEGACY_KERAS"):
                return _string_value(call.args[1].value) in _TRUE_STRINGS
            if _dotted(call.func) in ("os.environ.update", "environ.update") and call.args:
                for arg in call.args:
                    if arg.keyword is not None and arg.keyword.value == "TF_USE_LEGACY_KERAS":
                        return _string_value(arg.value) in _TRUE_STRINGS
                    if isinstance(arg.value, cst.Dict):
                        for element in arg.value.elements:
                            if isinstance(element, cst.DictElement) and _string_value(element.key) == "TF_USE_LEGACY_KERAS":
                                return _string_value(element.value) in _TRUE_STRINGS
    return False


def _string_value(node) -> str | None:
    if isinstance(node, cst.BaseSlice) and hasattr(node, "value"):
        node = node.value
    if isinstance(node, cst.SimpleString):
        return node.evaluated_value if isinstance(node.evaluated_value, str) else None
    return None


class ImportResolution:
    """The module's import table (prescanned) and name resolution through it and the function-local imports.
    Reads the function stack and the module's classes and functions (ScopeTracking)."""

    def _init_imports(self, module: cst.Module) -> None:
        self.module_imports = _scan_module_imports(module)

    def visit_Import(self, node: cst.Import) -> None:
        if self.current_function is not None:
            self.current_function.imports.update(_import_aliases(node))

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if self.current_function is not None:
            self.current_function.imports.update(_import_aliases(node))

    def resolve(self, node: cst.BaseExpression) -> str | None:
        """Qualified name of a Name/Attribute chain through the import table, or None."""
        return self._resolve_in(node, self._func_stack)

    def resolve_at(self, node: cst.BaseExpression, function) -> str | None:
        """`resolve` as seen inside `function` (a FunctionInfo, None: module level), after the traversal."""
        stack = []
        while function is not None:
            stack.append(function)
            function = function.parent
        return self._resolve_in(node, stack[::-1])

    def _resolve_in(self, node: cst.BaseExpression, stack: list) -> str | None:
        if isinstance(node, cst.Attribute):
            base = self._resolve_in(node.value, stack)
            return None if base is None else f"{base}.{node.attr.value}"
        if not isinstance(node, cst.Name):
            return None
        name = node.value
        for depth in range(len(stack) - 1, -1, -1):
            if name in stack[depth].imports:
                qual, inner = stack[depth].imports[name], stack[depth + 1:]
                break
        else:
            qual = self.module_imports.get(name)
            if qual is None:
                return None
            inner = stack
        # An assignment to the name in an enclosing function shadows the import.  Assignments seen
        # so far suffice: reading a local before its assignment is an UnboundLocalError anyway.
        for func in inner:
            if name in func.bound:
                return None
        return qual

    def module_alias(self, module: str) -> str | None:
        """The name under which `module` itself is imported at module level (`import tensorflow as tf`)."""
        for bound, qual in self.module_imports.items():
            if qual == module:
                return bound
        return None

    def imports(self, qualname: str) -> bool:
        """Does a module-level import (or an alias of one) bind `qualname`?  `from __future__ import annotations`
        binds `__future__.annotations`."""
        return qualname in self.module_imports.values()

    def name_is_free(self, name: str) -> bool:
        """True if `name` is not bound anywhere at module level (safe to add `import ... as name`)."""
        if name in self.module_imports or name in self.module_functions or name in self.classes:
            return False
        for stmt, _ in module_level_statements(self.module.body):
            if isinstance(stmt, cst.Assign):
                if any(name in names_bound_by_target(t.target) for t in stmt.targets):
                    return False
            elif isinstance(stmt, (cst.Import, cst.ImportFrom)):
                if any(bound == name for bound, _ in _import_aliases(stmt)):
                    return False
        return True
