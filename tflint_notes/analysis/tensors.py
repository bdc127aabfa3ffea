"""Tensor evidence: why an expression may hold a tf.Tensor, and whether it does once the module is known.

Rules about NumPy or Python on tensors (`np.exp(x)`, `float(t)`, `if t > 0:`) must not fire on plain
numbers, and inside graph code most values are tensors only because a parameter receives one.  So an
expression's evidence is a set of reasons (see DEFINITELY_TENSOR), kept per name as the traversal assigns it
(flow-sensitive, in source order); `evidence_holds` decides after the traversal, from the call sites in graph
code, whether a (function, parameter) reason holds.  Datasets are tracked the same way, for tf.data callbacks.
"""

from __future__ import annotations

from typing import Iterable

import libcst as cst

from tflint_notes.analysis.names import canonical, is_keras_base, tf_call_returns_tensor
from tflint_notes.analysis.scopes import FunctionInfo, is_self_param, names_bound_by_target

# An expression's evidence is the set of reasons it may be a tensor: DEFINITELY_TENSOR (a tf.* call,
# a layer call) or (function, parameter) pairs, which hold only if that parameter receives a tensor.
# Which parameters do is known only after the whole module has been seen (see `Analysis.finalize`).

DEFINITELY_TENSOR = "<tensor>"
Evidence = frozenset
# What a symbolic tf.Tensor has (TF 2.21, `dir(SymbolicTensor)`); `.numpy()` is eager-only.
TENSOR_ATTRIBUTES = frozenset({
    "dtype", "shape", "ndim", "get_shape", "set_shape", "name", "ref", "experimental_ref", "eval",
    "consumers", "device", "graph", "op", "value_index",
})
# Calls that need a concrete value and raise on a symbolic tensor while tracing.
_NEEDS_CONCRETE_VALUE = frozenset({"tensorflow.constant", "tensorflow.compat.v1.constant"})
_ELEMENTWISE_COMPARISONS = (cst.LessThan, cst.GreaterThan, cst.LessThanEqual, cst.GreaterThanEqual, cst.Equal,
                            cst.NotEqual)


def merge(evidences: Iterable[Evidence | None]) -> Evidence | None:
    out: set = set()
    for ev in evidences:
        if ev:
            if DEFINITELY_TENSOR in ev:
                return frozenset({DEFINITELY_TENSOR})
            out |= ev
    return frozenset(out) if out else None


class TensorEvidence:
    """Which names hold tensors or datasets so far, the evidence of an expression, and how the results of
    calls are used (for `needs_array`).  Reads the scopes, `resolve` (ImportResolution), the call sites and
    `_callee_of` (CallGraph) and `finalize`/`in_graph` (GraphContext)."""

    def _init_tensors(self) -> None:
        self.module_dataset_names: set = set()
        self._attribute_of: dict = {}  # call node -> the attribute read from its result (`f(x).astype`)
        self._argument_of: dict = {}  # call node -> the call that takes its result as an argument

    # Flow-sensitive tensor / dataset tracking: update after the statement's value was analysed.

    def leave_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._bind(list(names_bound_by_target(node.target)), node.value)

    def leave_AugAssign(self, node: cst.AugAssign) -> None:
        func = self.current_function
        if func is not None and isinstance(node.target, cst.Name):
            ev = merge([self.evidence(node.target), self.evidence(node.value)])
            self._set_tensor(func, node.target.value, ev)

    def _forget_tensors(self, target: cst.BaseExpression) -> None:
        """After a `for` loop: what its variables hold is not known."""
        func = self.current_function
        if func is not None:
            for name in names_bound_by_target(target):
                func.tensor_names.pop(name, None)

    def _bind(self, names: list, value: cst.BaseExpression) -> None:
        func = self.current_function
        is_dataset = self.is_dataset(value)
        datasets = func.dataset_names if func is not None else self.module_dataset_names
        for name in names:
            if is_dataset:
                datasets.add(name)
            else:
                datasets.discard(name)
        if func is None:
            return
        ev = self.evidence(value)
        for name in names:
            self._set_tensor(func, name, ev)

    @staticmethod
    def _set_tensor(func: FunctionInfo, name: str, ev: Evidence | None) -> None:
        # Only a plain `name = value` with one target is precise; tuple unpacking keeps the evidence.
        func.tensor_names[name] = ev

    # -- queries --

    def evidence(self, node: cst.BaseExpression) -> Evidence | None:
        """Why `node` may be tensor-valued (see DEFINITELY_TENSOR), or None if there is no reason to think so."""
        if isinstance(node, cst.Name):
            func = self.current_function
            while func is not None:
                if node.value in func.tensor_names:
                    return func.tensor_names[node.value]
                if node.value in func.params:
                    return None if is_self_param(func, node.value) else frozenset({(func, node.value)})
                func = func.parent
            return None
        if isinstance(node, cst.Call):
            qual = self.resolve(node.func)
            if qual is not None:
                if qual.startswith("numpy."):
                    # np.exp(t) is a tensor once fixed: report np.log(1 + np.exp(t)) too
                    return merge(self.evidence(a.value) for a in node.args)
                return frozenset({DEFINITELY_TENSOR}) if tf_call_returns_tensor(qual) else None
            func_expr = node.func
            if isinstance(func_expr, cst.Call) and is_keras_base(self.resolve(func_expr.func)):
                # keras.layers.Dense(3)(x): a layer built and called inline
                return merge(self.evidence(a.value) for a in node.args)
            if (isinstance(func_expr, cst.Attribute) and isinstance(func_expr.value, cst.Name)
                    and func_expr.value.value == "self"):
                return merge(self.evidence(a.value) for a in node.args)  # layer/helper call on tensors
            return None
        if isinstance(node, cst.BinaryOperation):
            return merge([self.evidence(node.left), self.evidence(node.right)])
        if isinstance(node, cst.Comparison):
            # `widths > 0` on a tensor is a boolean tensor; `x is None` and `k in d` are Python bools
            if any(not isinstance(c.operator, _ELEMENTWISE_COMPARISONS) for c in node.comparisons):
                return None
            return merge([self.evidence(node.left), *(self.evidence(c.comparator) for c in node.comparisons)])
        if isinstance(node, cst.UnaryOperation):
            return self.evidence(node.expression)
        if isinstance(node, cst.Subscript):
            return self.evidence(node.value)
        if isinstance(node, (cst.List, cst.Tuple)):
            return merge(self.evidence(e.value) for e in node.elements)
        if isinstance(node, cst.IfExp):
            return merge([self.evidence(node.body), self.evidence(node.orelse)])
        if isinstance(node, cst.Attribute) and node.attr.value == "T":
            return self.evidence(node.value)
        return None

    def is_dataset(self, node: cst.BaseExpression) -> bool:
        """True for expressions whose value starts from `tf.data.*` (a chain or a tracked name)."""
        while True:
            if isinstance(node, cst.Call):
                node = node.func
            elif isinstance(node, cst.Attribute):
                q = self.resolve(node)
                if q is not None:
                    return canonical(q).startswith("tensorflow.data.")
                node = node.value
            elif isinstance(node, cst.Name):
                func = self.current_function
                while func is not None:
                    if node.value in func.dataset_names:
                        return True
                    func = func.parent
                return node.value in self.module_dataset_names
            else:
                return False

    def needs_array(self, call: cst.Call) -> str | None:
        """Why the result of `call` must stay a NumPy value (so rewriting it into a TF op would break the
        code that uses it), or None.  Known when `call` itself is visited (parents are visited first)."""
        attribute = self._attribute_of.get(call)
        if attribute is not None and attribute not in TENSOR_ATTRIBUTES:
            return f"its result is used as a NumPy array (`.{attribute}`), which a tensor is not"
        consumer = self._argument_of.get(call)
        if consumer is not None:
            qual = self.resolve(consumer.func)
            if qual is not None and canonical(qual) in _NEEDS_CONCRETE_VALUE:
                return "its result goes to tf.constant(), which cannot take a symbolic tensor"
        return None

    # -- after the traversal --

    def evidence_holds(self, ev: Evidence | None, _seen: set | None = None) -> bool:
        """Does the evidence make the expression a tensor, now that the whole module is known?"""
        if not ev:
            return False
        if DEFINITELY_TENSOR in ev:
            return True
        self.finalize()
        seen = _seen if _seen is not None else set()
        for func, param in ev:
            if (func, param) in seen:
                continue
            seen.add((func, param))
            if self._param_receives_tensor(func, param, seen):
                return True
        return False

    def _param_receives_tensor(self, func: FunctionInfo, param: str, seen: set) -> bool:
        if func.graph_root and not func.eager_callback:
            return param in func.tensor_param_candidates
        sites = [s for s in self.call_sites if self._callee_of(s) is func]
        if not sites:
            # a nested function of graph code never called directly is handed to tf.map_fn,
            # tf.while_loop, tf.cond ...: those pass tensors.
            return func.parent is not None and param in func.tensor_param_candidates
        index = func.params.index(param) if param in func.params else None
        if func.cls is not None and index is not None:
            index -= 1  # `self` is not passed explicitly
        for site in sites:
            if not self.in_graph(site.caller):
                continue
            for key, ev in site.args:
                if key == param or key == index:
                    if self.evidence_holds(ev, seen):
                        return True
        return False
