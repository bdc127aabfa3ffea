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
from tflint_notes.analysis.imports import ImportResolution, module_level_statements
from tflint_notes.analysis.regions import LoopsAndRegions
from tflint_notes.analysis.keras_classes import KerasClasses
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


class Analysis(ScopeTracking, ImportResolution, LoopsAndRegions, GraphContext, TensorEvidence, KerasObjects,
               KerasClasses):
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
        self._init_imports(module)
        self._init_keras_classes(module)

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
