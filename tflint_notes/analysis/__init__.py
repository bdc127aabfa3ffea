"""Shared analysis for all rules: import resolution, scopes, graph context, tensor-valued expressions.

Everything here is collected during the single traversal that also runs the rules.  Questions whose
answer depends on code that comes later in the file (is this function ever wrapped by
`tf.function(f)`?  is this helper called from graph code?) are answered in `finalize()`; rules
report such findings as *candidates* that the engine keeps or drops after the traversal.

`Analysis` is the one object rules see (`self.ctx`).  Each concern lives in its own module as a mixin:
imports.py (names to qualified names), scopes.py (functions, classes, bindings), calls.py (call sites),
regions.py (loops, expected failures), graph.py (graph code), tensors.py (tensor evidence),
keras_objects.py and keras_classes.py (Keras values, classes and flavours); names.py holds the qualified-name
tables they share with the screen and the project index.  Mixins rather than separate objects because the
engine calls the `visit_<Node>`/`leave_<Node>` methods of this object for every node and the concerns ask each
other questions all the time (`resolve` reads the scopes, `keras_object` reads the classes): one object keeps
those calls direct.  Where two concerns handle the same node, the handler below calls both, in order.
"""

from __future__ import annotations

import libcst as cst

from tflint_notes.analysis.calls import CallGraph, CallSite, argument_keys, call_argument
from tflint_notes.analysis.graph import GraphContext
from tflint_notes.analysis.imports import ImportResolution, module_level_statements
from tflint_notes.analysis.keras_classes import KerasClasses
from tflint_notes.analysis.keras_objects import KERAS_MODEL_ATTRIBUTES, NOT_KERAS, KerasObject, KerasObjects
from tflint_notes.analysis.names import canonical, is_keras_base, is_model_factory, is_tf_function, tf_call_returns_tensor
from tflint_notes.analysis.project import ProjectFacts
from tflint_notes.analysis.regions import LoopsAndRegions
from tflint_notes.analysis.saving_sites import literal_dict_keys
from tflint_notes.analysis.scopes import (
    MODULE,
    ClassInfo,
    FunctionInfo,
    ScopeTracking,
    class_methods,
    classdef_methods,
    names_bound_by_target,
)
from tflint_notes.analysis.tensors import DEFINITELY_TENSOR, TENSOR_ATTRIBUTES, Evidence, TensorEvidence, merge

__all__ = [
    "Analysis", "CallSite", "ClassInfo", "call_argument", "classdef_methods", "literal_dict_keys", "DEFINITELY_TENSOR", "Evidence", "FunctionInfo", "KerasObject", "MODULE",
    "NOT_KERAS", "TENSOR_ATTRIBUTES", "argument_keys", "canonical", "class_methods", "is_keras_base", "is_model_factory",
    "is_tf_function", "merge", "module_level_statements", "names_bound_by_target", "tf_call_returns_tensor",
]


class Analysis(ScopeTracking, ImportResolution, CallGraph, LoopsAndRegions, GraphContext, TensorEvidence,
               KerasObjects, KerasClasses, ProjectFacts):
    """Per-file facts, built during the one traversal; rules query it through `self.ctx`."""

    def __init__(self, module: cst.Module):
        self.module = module
        self.current_top: cst.CSTNode | None = None  # set by the walker: the module-level statement
        self._init_scopes()
        self._init_imports(module)
        self._init_calls()
        self._init_regions()
        self._init_graph()
        self._init_tensors()
        self._init_keras_objects()
        self._init_keras_classes(module)
        self._init_project()
        self._instance_flow = None

    def instance_flow(self):
        """Where the instances of the module's classes go (see instance_flow.py); built on first use, after
        the traversal."""
        if self._instance_flow is None:
            from tflint_notes.analysis.instance_flow import InstanceFlow

            self._instance_flow = InstanceFlow(self)
        return self._instance_flow

    # -- nodes more than one concern handles (called by the engine's walker, before the rules on visit,
    # after them on leave); the other handlers are the mixins' own --

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        info = self._define_function(node)  # scopes
        self._note_decorators(info, node)  # graph: @tf.function, @tf.py_function (in the enclosing scope)
        self._func_stack.append(info)

    def visit_Lambda(self, node: cst.Lambda) -> None:
        info = self._new_function(node, None, self.current_function, None)  # scopes
        self._note_lambda(info, node)  # graph: a lambda handed to tf.function or a tf.data method
        self._func_stack.append(info)

    def visit_Call(self, node: cst.Call) -> None:
        for arg in node.args:
            if type(arg.value) is cst.Call:
                self._argument_of[arg.value] = node  # tensors: see needs_array
            elif arg.keyword is not None and arg.keyword.value == "run_eagerly":
                self.sees_run_eagerly = True  # graph: a model compiled to run eagerly
        qual = self.resolve(node.func)
        self._note_callbacks(node, qual)  # graph: tf.function(f), tf.py_function(f), dataset.map(f)
        if qual is None:
            self._note_call_site(node)  # calls: maybe a function of this module

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if type(node.value) is cst.Call:
            self._attribute_of[node.value] = node.attr.value  # tensors: see needs_array
        elif type(node.value) is cst.Name and node.attr.value in KERAS_MODEL_ATTRIBUTES:
            self._note_model_use(node.value)  # Keras objects: `model.compile` makes `model` a Keras model

    def leave_Assign(self, node: cst.Assign) -> None:
        names = [n for t in node.targets for n in names_bound_by_target(t.target)]
        self._bind(names, node.value)  # tensors and datasets
        self._note_keras_assignment(node)  # Keras objects

    def _visit_comprehension(self, node) -> None:
        self._enter_comprehension(node)  # loops, and the comprehension's variables
        self._track_comprehension(node)  # Keras objects: [... for layer in model.layers]

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _visit_comprehension

    def visit_For(self, node: cst.For) -> None:
        self._enter_loop(node)  # loops
        self._bound(node.target)  # scopes
        self._track_loop(node.target, node.iter)  # Keras objects: for layer in model.layers

    def leave_For(self, node: cst.For) -> None:
        self._leave_loop(node)  # loops
        self._forget_tensors(node.target)  # tensors
