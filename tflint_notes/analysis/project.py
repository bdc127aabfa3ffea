"""What the other modules of the project say about this one: the project index's view (project/view.py).

A Keras base class in another module of the project (`from .base import BaseBlock`), a layer class of the
project constructed or called here, a helper of this module that graph code of another module calls with
tensors: the per-file analysis cannot see these, the project index can.  The engine hands the analysis the
module's view; this mixin turns it into the answers the other concerns ask for.  A view that knows nothing
(`NO_VIEW`: no project, stdin, a module outside the index) changes nothing, so a file linted alone is analysed
exactly as before.
"""

from __future__ import annotations

import libcst as cst

from tflint_notes.analysis.imports import module_level_statements
from tflint_notes.analysis.names import is_keras_base
from tflint_notes.project.view import NO_VIEW, ModuleView

_MODEL_BASES = ("Model", "Functional", "Sequential")


class ProjectFacts:
    """Names through relative imports, Keras bases of project classes, and graph callers in other modules.
    Reads the module's statements, the scopes (ScopeTracking) and the import table (ImportResolution)."""

    def _init_project(self) -> None:
        self.view: ModuleView = NO_VIEW  # set by the engine
        self._relative: dict | None = None

    def _relative_imports(self) -> dict:
        """{bound name: qualified name} of the module-level relative imports, read only when the view knows the
        module's package and has something to say (a trivial view never changes a result)."""
        if self._relative is None:
            table: dict = {}
            package = self.view.package
            if package is not None and not self.view.trivial:
                parts = package.split(".")
                for stmt, _ in module_level_statements(self.module.body):
                    if not isinstance(stmt, cst.ImportFrom) or not stmt.relative or isinstance(
                            stmt.names, cst.ImportStar):
                        continue
                    level = len(stmt.relative)
                    if level - 1 > len(parts):
                        continue
                    base = parts[:len(parts) - (level - 1)]
                    if stmt.module is not None:
                        base = [*base, *cst.helpers.get_full_name_for_node(stmt.module).split(".")]
                    for alias in stmt.names:
                        name = cst.helpers.get_full_name_for_node(alias.name)
                        bound = alias.asname.name.value if alias.asname is not None and isinstance(
                            alias.asname.name, cst.Name) else name
                        if name and base:
                            table[bound] = ".".join([*base, name])
            self._relative = table
        return self._relative

    def project_name(self, node: cst.BaseExpression) -> str | None:
        """`resolve`, and also through the module's relative imports (`from .layers import Gate`): the
        qualified name to ask the project index about."""
        found = self.resolve(node)
        if found is not None or not self.view.keras and not self.view.entries:
            return found
        parts = []
        while isinstance(node, cst.Attribute):
            parts.append(node.attr.value)
            node = node.value
        if not isinstance(node, cst.Name):
            return None
        head = self._relative_imports().get(node.value)
        if head is None or any(node.value in func.bound for func in self._func_stack):
            return None
        return ".".join([head, *reversed(parts)])

    def keras_base_of(self, qualname: str | None) -> str | None:
        """The Keras class a base class name stands for: itself for a Keras name, the Keras base of a project
        class of another module (through the project index), else None."""
        if qualname is None:
            return None
        if is_keras_base(qualname):
            return qualname
        return self.view.keras_base(qualname)

    def project_class_keywords(self, qualname: str, method: str) -> frozenset | None:
        """Keywords `method` (`__init__`, `call`) of a Keras class of another project module accepts ("**" if it
        takes **kwargs), from its own definition or its nearest project base; None when unknown."""
        return self.view.keywords_of(qualname, method)

    def project_methods(self, qualname: str) -> frozenset | None:
        """Methods that the project classes behind a base of another module define (None: not known)."""
        return self.view.project_methods(qualname)

    def is_model_base(self, qualname: str | None) -> bool:
        base = self.keras_base_of(qualname)
        return base is not None and base.rsplit(".", 1)[-1] in _MODEL_BASES

    def has_project_call_protocol(self, cls) -> bool:
        """A base of another project module defines `__call__` (see ProjectIndex.own_call_protocol): the Keras
        `call` of this class is not taken for graph code."""
        if not self.view.keras:
            return False
        for info in (cls, *self.local_bases(cls)):
            for base in info.bases:
                if not base.startswith("local:") and "__call__" in (self.view.project_methods(base) or ()):
                    return True
        return False

    def _mark_called_from_other_modules(self) -> None:
        """Functions of this module that graph code of another module calls with tensors become graph roots,
        named in messages by that caller; only the parameters that receive tensors hold them."""
        if not self.view.entries:
            return
        for info in self.functions:
            if info.graph_root or info.name is None or info.parent is not None:
                continue
            cls = info.cls
            if cls is None:
                key = info.name
            elif cls.parent is None and self.classes.get(cls.name) is cls:
                key = f"{cls.name}.{info.name}"
            else:
                continue
            entry = self.view.entry(key)
            if entry is not None:
                info.graph_root = True
                info.graph_reason = f"`{key}` ({entry.reason})"
                info.tensor_param_candidates = set(info.tensor_param_candidates) & set(entry.tensor_params)
