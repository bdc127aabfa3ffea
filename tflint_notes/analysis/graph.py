"""Graph context: which functions run as TensorFlow graph code, and why.

Many findings are bugs only in graph code (a Python side effect runs once while tracing, `.numpy()` fails on a
symbolic tensor) and fine eagerly.  Whether a function is graph code often depends on code later in the file:
`f = tf.function(g)`, `dataset.map(parse)`, a helper called from a Keras `call`.  So the traversal records the
evidence and `finalize` decides, once, after it; findings that need graph code wait until then as candidates.
"""

from __future__ import annotations

import libcst as cst

from tflint_notes.analysis.names import (
    DATASET_CALLBACK_METHODS,
    EAGER_CALLBACK_WRAPPERS,
    KERAS_GRAPH_METHODS,
    canonical,
    is_tf_function,
)
from tflint_notes.analysis.scopes import ClassInfo, FunctionInfo


class GraphContext:
    """Graph roots (tf.function, Keras graph methods, tf.data callbacks), eager callbacks (tf.py_function)
    and the functions they reach.  Reads the scopes, the call sites and function lookup (CallGraph),
    `class_is_keras` (KerasClasses) and `is_dataset` (TensorEvidence)."""

    def _init_graph(self) -> None:
        self.sees_run_eagerly = False  # some call passes run_eagerly= (set by Analysis.visit_Call)
        self._eager_models: dict = {}
        self.tf_function_wraps: list[tuple[FunctionInfo | None, ClassInfo | None, cst.BaseExpression]] = []
        self.eager_callback_refs: list[tuple[FunctionInfo | None, ClassInfo | None, str]] = []
        self.dataset_callback_refs: list[tuple[FunctionInfo | None, ClassInfo | None, str]] = []
        self._eager_lambda_nodes: set = set()
        self._graph_lambda_nodes: dict = {}  # lambda node -> why it is graph code
        self._graph: dict | None = None

    def _note_decorators(self, info: FunctionInfo, node: cst.FunctionDef) -> None:
        """`@tf.function` makes a graph root, `@tf.py_function(...)` an eager callback (read in the enclosing
        scope, before the function is entered)."""
        for decorator in node.decorators:
            expr = decorator.decorator
            if isinstance(expr, cst.Call):
                expr = expr.func
            qual = self.resolve(expr)
            if is_tf_function(qual):
                info.graph_root = True
                info.graph_reason = "@tf.function"
            elif qual is not None and canonical(qual) in EAGER_CALLBACK_WRAPPERS:
                info.eager_callback = True  # @tf.py_function(Tout=...): runs eagerly, as Python

    def _note_lambda(self, info: FunctionInfo, node: cst.Lambda) -> None:
        """A lambda handed to tf.function, tf.py_function or a tf.data method (seen at the call, before it)."""
        if node in self._eager_lambda_nodes:
            info.eager_callback = True
        if node in self._graph_lambda_nodes:
            info.graph_root = True
            info.graph_reason = self._graph_lambda_nodes[node]
            info.tensor_param_candidates = set(info.params)

    def _note_callbacks(self, node: cst.Call, qual: str | None) -> None:
        """`tf.function(f)`, `tf.py_function(f, ...)`, `dataset.map(f)`: what runs as graph code or eagerly,
        resolved in `finalize` (`qual`: the called name, resolved)."""
        if qual is not None:
            if is_tf_function(qual) and node.args:
                target = node.args[0].value
                if isinstance(target, cst.Lambda):
                    self._graph_lambda_nodes[target] = "a tf.function-wrapped lambda"
                else:
                    self.tf_function_wraps.append((self.current_function, self.current_class, target))
            elif qual in EAGER_CALLBACK_WRAPPERS and node.args:
                target = node.args[0].value
                for arg in node.args:
                    if arg.keyword is not None and arg.keyword.value in ("func", "py_func"):
                        target = arg.value
                self._mark_callback(target, self._eager_lambda_nodes, self.eager_callback_refs)
            return
        func = node.func
        if (isinstance(func, cst.Attribute) and func.attr.value in DATASET_CALLBACK_METHODS and node.args
                and self.is_dataset(func.value)):
            target = node.args[0].value
            for arg in node.args:
                if arg.keyword is not None and arg.keyword.value in ("map_func", "predicate"):
                    target = arg.value
            if isinstance(target, cst.Lambda):
                self._graph_lambda_nodes[target] = "a tf.data callback"
            else:
                self._mark_callback(target, set(), self.dataset_callback_refs)

    def _mark_callback(self, target: cst.BaseExpression, lambda_nodes: set, refs: list) -> None:
        if isinstance(target, cst.Lambda):
            lambda_nodes.add(target)
        elif isinstance(target, cst.Name):
            refs.append((self.current_function, self.current_class, target.value))
        elif (isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name)
              and target.value.value == "self"):
            refs.append((self.current_function, self.current_class, "self." + target.attr.value))

    # -- after the traversal --

    def _compiled_eagerly(self, cls) -> bool:
        """Is every `compile` of this model class in the module given `run_eagerly=True`?  Then `fit` runs its
        train_step (and call) eagerly: a print there prints every step, NumPy works.  A class that is never
        compiled here keeps the default, graph code."""
        if not self.sees_run_eagerly or not self.class_is_model(cls):
            return False
        cache = self._eager_models
        if cls not in cache:
            flow = self.instance_flow()
            compiles = [call for call, scope in flow.method_calls("compile")
                        if flow.receiver_holds(call, scope, cls.node)]
            cache[cls] = bool(compiles) and all(any(
                a.keyword is not None and a.keyword.value == "run_eagerly" and isinstance(a.value, cst.Name)
                and a.value.value == "True" for a in call.args) for call in compiles)
        return cache[cls]

    def finalize(self) -> None:
        """Work out which functions are graph code and which parameters receive tensors."""
        if self._graph is not None:
            return
        for info in self.functions:
            cls = info.cls
            if (cls is not None and info.name in KERAS_GRAPH_METHODS and self.class_is_keras(cls)
                    and not self.has_project_call_protocol(cls) and not self._compiled_eagerly(cls)):
                info.graph_root = True
                info.graph_reason = f"Keras {cls.name}.{info.name}"
        self._mark_called_from_other_modules()  # graph code of another module calls these (project index)
        for func, cls, target in self.tf_function_wraps:
            resolved = self._function_for_expr(func, cls, target)
            if resolved is not None and not resolved.graph_root:
                resolved.graph_root = True
                resolved.graph_reason = "a tf.function-wrapped function"
        for func, cls, name in self.dataset_callback_refs:
            resolved = self._function_named(func, cls, name)
            if resolved is not None:
                resolved.graph_root = True
                resolved.graph_reason = "a tf.data callback"
                resolved.tensor_param_candidates = set(resolved.params[1:] if resolved.cls else resolved.params)
        for func, cls, name in self.eager_callback_refs:
            resolved = self._function_named(func, cls, name)
            if resolved is not None:
                resolved.eager_callback = True

        in_graph: dict[FunctionInfo, bool] = {}
        for info in self.functions:
            in_graph[info] = self._lexically_graph(info)
        # same-module helpers called from graph code, transitively
        changed = True
        while changed:
            changed = False
            for site in self.call_sites:
                if site.caller is None or not in_graph.get(site.caller):
                    continue
                callee = self._function_named(site.caller, site.caller.cls if site.via_self else None,
                                              ("self." if site.via_self else "") + site.callee_name)
                if callee is None or callee.eager_callback or in_graph.get(callee):
                    continue
                in_graph[callee] = True
                changed = True
                for nested in self.functions:
                    if not in_graph[nested] and self._has_ancestor(nested, callee):
                        in_graph[nested] = self._lexically_graph(nested, extra=callee)
        self._graph = in_graph

    def _lexically_graph(self, info: FunctionInfo, extra: FunctionInfo | None = None) -> bool:
        func: FunctionInfo | None = info
        while func is not None:
            if func.eager_callback:
                return False
            if func.graph_root or func is extra:
                return True
            func = func.parent
        return False

    @staticmethod
    def _has_ancestor(info: FunctionInfo, ancestor: FunctionInfo) -> bool:
        func = info.parent
        while func is not None:
            if func is ancestor:
                return True
            func = func.parent
        return False

    def graph_label(self, func: FunctionInfo | None) -> str:
        """Words for messages: where the graph context comes from."""
        while func is not None:
            if func.graph_root:
                return func.graph_reason or "graph code"
            func = func.parent
        return "a helper called from graph code"

    def in_graph(self, func: FunctionInfo | None) -> bool:
        self.finalize()
        return func is not None and bool(self._graph.get(func))

    def graph_root_reason(self, func: FunctionInfo) -> str | None:
        """How `func` itself became graph code ("@tf.function", "Keras M.call", "a tf.data callback", ...), once
        the whole module is known; None if it is no graph root (it may still be called from one)."""
        self.finalize()
        return func.graph_reason if func.graph_root else None
