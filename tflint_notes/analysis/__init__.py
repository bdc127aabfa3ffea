"""Shared analysis for all rules: import resolution, scopes, graph context, tensor-valued expressions.

Everything here is collected during the single traversal that also runs the rules.  Questions whose
answer depends on code that comes later in the file (is this function ever wrapped by
`tf.function(f)`?  is this helper called from graph code?) are answered in `finalize()`; rules
report such findings as *candidates* that the engine keeps or drops after the traversal.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from tflint_notes.analysis.graph import GraphContext
from tflint_notes.analysis.imports import ImportResolution, module_level_statements, sets_legacy_keras
from tflint_notes.analysis.regions import LoopsAndRegions
from tflint_notes.analysis.keras_objects import (
    KERAS_MODEL_ATTRIBUTES,
    NEVER_KERAS,
    NOT_KERAS,
    KerasObject,
    KerasObjects,
)
from tflint_notes.analysis.names import canonical, is_keras_base, is_tf_function, tf_call_returns_tensor
from tflint_notes.analysis.tensors import DEFINITELY_TENSOR, TENSOR_ATTRIBUTES, Evidence, TensorEvidence, merge
from tflint_notes.analysis.scopes import (
    MODULE,
    ClassInfo,
    FunctionInfo,
    ScopeTracking,
    class_methods,
    is_self_param,
    is_staticmethod,
    names_bound_by_target,
)
from tflint_notes.cstwalk import walk

@dataclass(eq=False)
class CallSite:
    caller: FunctionInfo | None
    callee_name: str
    via_self: bool
    args: list  # (position or keyword, Evidence | None)
    # (position or keyword, KerasObject | None, (function, parameter) | None): the Keras object an argument
    # is, or the caller's parameter it passes on (`def train(model): _fit(model)`)
    keras_args: list = field(default_factory=list)


class Analysis(ScopeTracking, ImportResolution, LoopsAndRegions, GraphContext, TensorEvidence, KerasObjects):
    """Per-file facts, built during the one traversal; rules query it through `self.ctx`."""

    def __init__(self, module: cst.Module):
        self.module = module
        self._init_scopes()
        self.call_sites: list[CallSite] = []
        self._init_graph()
        self.current_top: cst.CSTNode | None = None  # set by the walker: the module-level statement
        self._init_regions()
        self._init_keras_objects()
        self._init_tensors()
        self._self_assignment_cache: dict = {}
        self._init_imports(module)
        # `tf.keras` is legacy Keras 2 here: the configuration says so (set by the engine), or the module sets
        # TF_USE_LEGACY_KERAS=1 before it imports TensorFlow.
        self.tf_keras_target = sets_legacy_keras(module)
        # The project's target (set by the engine): `keras` is Keras 2 there, its own top-level packages, the
        # newest TensorFlow it allows.
        self.keras2_target = False
        self.first_party: frozenset = frozenset()
        self.tf_newest: tuple = (99, 0)
        self._api_view = None

    # -- scope tracking (called by the engine's walker, before rules on visit, after on leave) --

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        info = self._define_function(node)
        self._note_decorators(info, node)
        self._func_stack.append(info)

    def visit_Lambda(self, node: cst.Lambda) -> None:
        info = self._new_function(node, None, self.current_function, None)
        self._note_lambda(info, node)
        self._func_stack.append(info)

    def visit_Call(self, node: cst.Call) -> None:
        for arg in node.args:
            if type(arg.value) is cst.Call:
                self._argument_of[arg.value] = node
        qual = self.resolve(node.func)
        self._note_callbacks(node, qual)
        if qual is None:
            self._note_call_site(node)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if type(node.value) is cst.Call:
            self._attribute_of[node.value] = node.attr.value
        elif type(node.value) is cst.Name and node.attr.value in KERAS_MODEL_ATTRIBUTES:
            self._note_model_use(node.value)

    def leave_Assign(self, node: cst.Assign) -> None:
        names = [n for t in node.targets for n in names_bound_by_target(t.target)]
        self._bind(names, node.value)
        self._note_keras_assignment(node)

    def _note_call_site(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute):
            if isinstance(func.value, cst.Name) and func.value.value == "self" and self.current_class is not None:
                self._record_call_site(node, func.attr.value, via_self=True)
        elif isinstance(func, cst.Name):
            self._record_call_site(node, func.value, via_self=False)

    def _visit_comprehension(self, node) -> None:
        self._enter_comprehension(node)
        clause = node.for_in
        while clause is not None:
            self._track_loop(clause.target, clause.iter)  # [layer.output_shape for layer in model.layers]
            clause = clause.inner_for_in

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _visit_comprehension

    def visit_For(self, node: cst.For) -> None:
        self._enter_loop(node)
        self._bound(node.target)
        self._track_loop(node.target, node.iter)

    def leave_For(self, node: cst.For) -> None:
        self._leave_loop(node)
        self._forget_tensors(node.target)

    def _record_call_site(self, node: cst.Call, name: str, via_self: bool) -> None:
        args = []
        keras_args = []
        position = 0
        for arg in node.args:
            if arg.star:
                break
            key = arg.keyword.value if arg.keyword is not None else position
            if arg.keyword is None:
                position += 1
            args.append((key, self.evidence(arg.value)))
            value = arg.value
            if isinstance(value, (cst.Name, cst.Call, cst.Subscript)):
                obj = self.keras_object(value)
                ref = self.keras_param(value) if obj is None else None
                if obj is None and ref is None and isinstance(value, cst.Call) and isinstance(value.func, cst.Name) \
                        and value.func.value in self.classes:
                    obj = NOT_KERAS  # an instance of a class of this module that is no Keras class
                if obj is not None or ref is not None:
                    keras_args.append((key, obj, ref))
            elif isinstance(value, NEVER_KERAS):
                keras_args.append((key, NOT_KERAS, None))
        self.call_sites.append(CallSite(self.current_function, name, via_self, args, keras_args))

    # -- queries for rules --

    def _module_keras_flavour(self) -> str | None:
        """The Keras a module without other evidence works with: tf_keras if it imports it or asks for it,
        Keras 3 if it imports keras or TensorFlow, None if it imports both flavours or neither."""
        flavours = set()
        for qual in self.module_imports.values():
            root = qual.split(".")[0]
            if root == "tf_keras":
                flavours.add("tf_keras")
            elif root == "keras":
                flavours.add("tf_keras" if self.keras2_target else "keras3")
            elif root == "tensorflow":
                flavours.add("tf_keras" if self.tf_keras_target else "keras3")
        # both flavours, or a Keras reached through another package's wrapper: unknown
        return flavours.pop() if len(flavours) == 1 else None

    def self_attribute_classes(self, cls: ClassInfo, attr: str) -> set | None:
        """What `self.<attr>` holds in a class of this module, from its assignments in the class's methods:
        the set of Keras classes of this module it is an instance of (empty: a Keras built-in layer or
        unknown), or None if some assignment makes it something else (an instance of a non-Keras class of
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

    # -- after the traversal --

    def _callee_of(self, site: CallSite) -> FunctionInfo | None:
        if site.caller is None:
            return self.module_functions.get(site.callee_name) if not site.via_self else None
        return self._function_named(site.caller, site.caller.cls if site.via_self else None,
                                    ("self." if site.via_self else "") + site.callee_name)

    def _function_for_expr(self, func, cls, target: cst.BaseExpression) -> FunctionInfo | None:
        if isinstance(target, cst.Name):
            return self._function_named(func, cls, target.value)
        if isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name) and target.value.value == "self":
            return self._function_named(func, cls, "self." + target.attr.value)
        return None

    def _function_named(self, func: FunctionInfo | None, cls: ClassInfo | None, name: str) -> FunctionInfo | None:
        if name.startswith("self."):
            method = name[5:]
            seen = set()
            while cls is not None and id(cls) not in seen:  # redefined names can make base chains cycle
                seen.add(id(cls))
                if method in cls.methods:
                    return cls.methods[method]
                cls = next((self.classes[b[6:]] for b in cls.bases if b.startswith("local:")
                            and b[6:] in self.classes), None)
            return None
        scope = func
        while scope is not None:
            if name in scope.local_functions:
                return scope.local_functions[name]
            scope = scope.parent
        return self.module_functions.get(name)

    def class_is_model(self, cls: ClassInfo) -> bool:
        """A subclass of keras Model (directly or through classes of this module)."""
        for info in (cls, *self.local_bases(cls)):
            for base in info.bases:
                if not base.startswith("local:") and is_keras_base(base) and base.rsplit(".", 1)[-1] in (
                        "Model", "Functional", "Sequential"):
                    return True
        return False

    @property
    def api_view(self):
        """How this module's names are judged against the API tables (see api.ApiView)."""
        if self._api_view is None:
            from tflint_notes.api import ApiView

            self._api_view = ApiView(self.tf_keras_target, self.keras2_target, self.tf_newest, self.first_party)
        return self._api_view

    def keras_flavour(self, qualname: str) -> str:
        """"tf_keras" (legacy Keras 2) or "keras3" for a qualified Keras name: `keras.*` is Keras 3 unless the
        project's `keras` is Keras 2 (`keras2_target`), `tf_keras.*` Keras 2, `tf.keras.*` is Keras 3 in TF 2.21
        unless the module, the project or the configuration asks for legacy Keras (`tf_keras_target`)."""
        if qualname.startswith(("tf_keras.", "tensorflow.python.keras.")):
            return "tf_keras"
        if qualname.startswith(("tensorflow.keras.", "tensorflow.compat.")):
            return "tf_keras" if self.tf_keras_target else "keras3"
        if qualname.startswith("keras.") and self.keras2_target:
            return "tf_keras"
        return "keras3"

    def class_keras_flavour(self, cls: ClassInfo) -> str | None:
        """The Keras flavour a Layer/Model class is built on, from its bases (through local classes)."""
        for info in (cls, *self.local_bases(cls)):
            for base in info.bases:
                if not base.startswith("local:") and is_keras_base(base):
                    return self.keras_flavour(base)
        return None

    def class_is_keras(self, cls: ClassInfo, _depth: int = 0) -> bool:
        if _depth > 50:
            return False
        for base in cls.bases:
            if base.startswith("local:"):
                local = self.classes.get(base[6:])
                if local is not None and local is not cls and self.class_is_keras(local, _depth + 1):
                    return True
            elif is_keras_base(base):
                return True
        return False


