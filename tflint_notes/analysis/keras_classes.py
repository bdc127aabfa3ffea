"""Keras classes and flavours: which classes of the module are Keras layers or models, and which Keras.

Keras 3 and legacy Keras 2 (tf_keras) differ in what fails (a removed method, a renamed argument, the save
format), and `tf.keras` is either, depending on the TensorFlow release, the environment and the project.  A
rule must know both what a class is (a Layer subclass, through the module's own base classes) and which Keras
it is built on; the target comes from the configuration and the project (set by the engine) or from the module
itself (`TF_USE_LEGACY_KERAS=1` before TensorFlow is imported).
"""

from __future__ import annotations

import libcst as cst

from tflint_notes.analysis.names import keras_flavour_of
from tflint_notes.analysis.imports import sets_legacy_keras
from tflint_notes.analysis.keras_objects import NEVER_KERAS
from tflint_notes.analysis.scopes import ClassInfo, class_methods
from tflint_notes.cstwalk import walk


class KerasClasses:
    """Keras base classes of the module's classes, the Keras flavour of names and classes, and what
    `self.<attr>` holds.  Reads the module's classes and functions and `local_bases` (ScopeTracking) and the
    import table (ImportResolution)."""

    def _init_keras_classes(self, module: cst.Module) -> None:
        # `tf.keras` is legacy Keras 2 here: the configuration says so (set by the engine), or the module sets
        # TF_USE_LEGACY_KERAS=1 before it imports TensorFlow.
        self.tf_keras_target = sets_legacy_keras(module)
        # The project's target (set by the engine): `keras` is Keras 2 there, its own top-level packages, the
        # newest TensorFlow it allows.
        self.keras2_target = False
        self.first_party: frozenset = frozenset()
        self.tf_newest: tuple = (99, 0)
        self._api_view = None
        self._self_assignment_cache: dict = {}

    def class_is_keras(self, cls: ClassInfo, _depth: int = 0) -> bool:
        if _depth > 50:
            return False
        for base in cls.bases:
            if base.startswith("local:"):
                local = self.classes.get(base[6:])
                if local is not None and local is not cls and self.class_is_keras(local, _depth + 1):
                    return True
            elif self.keras_base_of(base) is not None:  # a Keras class, or a project class built on one
                return True
        return False

    def class_is_model(self, cls: ClassInfo) -> bool:
        """A subclass of keras Model (directly or through classes of this module)."""
        for info in (cls, *self.local_bases(cls)):
            for base in info.bases:
                if not base.startswith("local:") and self.is_model_base(base):
                    return True
        return False

    def class_keras_flavour(self, cls: ClassInfo) -> str | None:
        """The Keras flavour a Layer/Model class is built on, from its bases (through local classes)."""
        for info in (cls, *self.local_bases(cls)):
            for base in info.bases:
                keras_base = self.keras_base_of(base) if not base.startswith("local:") else None
                if keras_base is not None:
                    return self.keras_flavour(keras_base)
        return None

    def keras_flavour(self, qualname: str) -> str:
        """"tf_keras" (legacy Keras 2) or "keras3" for a qualified Keras name: `keras.*` is Keras 3 unless the
        project's `keras` is Keras 2 (`keras2_target`), `tf_keras.*` Keras 2, `tf.keras.*` is Keras 3 in TF 2.21
        unless the module, the project or the configuration asks for legacy Keras (`tf_keras_target`)."""
        return keras_flavour_of(qualname, self.tf_keras_target, self.keras2_target)

    def _module_keras_flavour(self) -> str | None:
        """The Keras a module without other evidence works with: tf_keras if it imports it or asks for it,
        Keras 3 if it imports keras or TensorFlow, None if it imports both flavours or neither."""
        flavours = set()
        for qual in self.module_imports.values():
            root = qual.split(".")[0]
            if root == "tf_keras" or qual.startswith("tensorflow.python.keras"):  # TF's own copy of Keras 2
                flavours.add("tf_keras")
            elif root == "keras":
                flavours.add("tf_keras" if self.keras2_target else "keras3")
            elif root == "tensorflow":
                flavours.add("tf_keras" if self.tf_keras_target else "keras3")
        # both flavours, or a Keras reached through another package's wrapper: unknown
        return flavours.pop() if len(flavours) == 1 else None

    @property
    def api_view(self):
        """How this module's names are judged against the API tables (see api.ApiView)."""
        if self._api_view is None:
            from tflint_notes.api import ApiView

            self._api_view = ApiView(self.tf_keras_target, self.keras2_target, self.tf_newest, self.first_party)
        return self._api_view

    def self_attribute_classes(self, cls: ClassInfo, attr: str) -> set | None:
        """What `self.<attr>` holds in a class of this module, from its assignments in the class's methods:
        the set of Keras classes of this module it is an instance of (ClassInfo; the qualified name for a Keras
        class of another project module; empty: a Keras built-in layer or unknown), or None if some assignment makes it something else (an instance of a non-Keras class of
        this module, a function, a literal)."""
        values = self._self_assignments(cls).get(attr, ())
        found: set = set()
        for value in values:
            if isinstance(value, cst.Call) and isinstance(value.func, cst.Name):
                local = self.classes.get(value.func.value)
                if local is not None:
                    if not self.class_is_keras(local):
                        return None
                    found.add(local)
                    continue
                if value.func.value in self.module_functions:
                    return None
                project = self.project_name(value.func) if self.view.keras else None
                if project is not None and self.view.keras_base(project) is not None:
                    found.add(project)  # a Keras class of another module of the project
                continue
            if isinstance(value, NEVER_KERAS):
                return None
            if isinstance(value, cst.Name) and (value.value in self.module_functions or value.value in self.classes):
                return None  # self.act = gelu (a function of this module), self.factory = SomeClass
            if (isinstance(value, cst.Attribute) and isinstance(value.value, cst.Name) and value.value.value == "self"
                    and any(value.attr.value in class_methods(c) for c in (cls, *self.local_bases(cls)))):
                return None  # self.act = self._gelu
        return found

    def _self_assignments(self, cls: ClassInfo) -> dict:
        cached = self._self_assignment_cache.get(cls)
        if cached is None:
            cached = {}
            for info in (cls, *self.local_bases(cls)):
                for method in class_methods(info).values():
                    for node in walk(method.body):
                        if isinstance(node, cst.Assign):
                            pairs = [(target.target, node.value) for target in node.targets]
                        elif isinstance(node, cst.AnnAssign) and node.value is not None:
                            pairs = [(node.target, node.value)]
                        else:
                            continue
                        while pairs:
                            t, value = pairs.pop()
                            if isinstance(t, (cst.Tuple, cst.List)):
                                if isinstance(value, (cst.Tuple, cst.List)) and len(value.elements) == len(t.elements):
                                    pairs += [(a.value, b.value) for a, b in zip(t.elements, value.elements)]
                                else:  # self.a, self.b = make_pair(): unknown values
                                    pairs += [(a.value, cst.Name("None")) for a in t.elements]
                            elif (isinstance(t, cst.Attribute) and isinstance(t.value, cst.Name)
                                  and t.value.value == "self"):
                                cached.setdefault(t.attr.value, []).append(value)
            self._self_assignment_cache[cls] = cached
        return cached
