"""TFN202: see the class docstring (the rule pages are generated from it)."""

from __future__ import annotations

import ast
import re

import libcst as cst

from tflint_notes.analysis import ClassInfo, FunctionInfo, canonical, is_keras_base
from tflint_notes.results import Edit
from tflint_notes.rule import PendingFix
from tflint_notes.screen import FileFacts
from tflint_notes.rules.layers._shared import (
    _GENERIC_BASES, _LayerRule, _bound_in, _is_self_attr, _method_insertion, _movable, _self_attrs_assigned,
    _statements, _walk_all, creates_once,
)


# Layers without weights: constructing one in call() costs time but loses nothing.
_WEIGHTLESS_LAYERS = frozenset({
    "Activation", "ReLU", "LeakyReLU", "ELU", "Softmax", "ThresholdedReLU", "Flatten", "Reshape",
    "Permute", "RepeatVector", "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
    "GaussianNoise", "GaussianDropout", "AlphaDropout", "ActivityRegularization", "Masking", "Identity",
    "Lambda", "Concatenate", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Dot",
    "Cropping1D", "Cropping2D", "Cropping3D", "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D",
    "UpSampling1D", "UpSampling2D", "UpSampling3D", "Rescaling", "Resizing", "CenterCrop",
    "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D",
    "AveragePooling3D", "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D",
    "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D", "MaxPool1D", "MaxPool2D", "MaxPool3D",
    "AvgPool1D", "AvgPool2D", "AvgPool3D", "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalAvgPool3D",
    "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPool3D",
})


def _snake(name: str) -> str:
    name = re.sub(r"(?<=[a-z])([A-Z])", r"_\1", name)
    name = re.sub(r"(?<=[A-Z])([A-Z][a-z])", r"_\1", name)
    return name.lower()


class SublayerInCall(_LayerRule):
    """## What it does
    Flags a Keras layer constructed inside `call` of a Keras `Layer`/`Model` subclass, such as
    `tf.keras.layers.Dense(4)(inputs)`.

    A sublayer created once, behind `if self._dense is None:` / `if not self._dense:`, and kept on `self`
    works on legacy tf_keras (it is tracked on the first call) and is not flagged there; Keras 3 locks
    the layer's state when it is built, before `call` runs, and refuses it with `ValueError: You cannot
    add new elements of state` (measured under TF 2.21): flagged, with that message and no fix.

    ## Why is this bad?
    A new layer, with new random weights, is built on every call. The outer layer does not track
    it (`layer.weights` stays empty), so the optimizer never trains it, checkpoints do not save it,
    and two calls on the same input give different outputs. Neither Keras 3 nor tf_keras raises an
    error: the model just never learns.

    ## Example
    ```python
    class Head(keras.layers.Layer):
        def call(self, inputs):
            return keras.layers.Dense(4)(inputs)
    ```

    ## Use instead
    ```python
    class Head(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = keras.layers.Dense(4)
        def call(self, inputs):
            return self.dense(inputs)
    ```

    ## Fix safety
    **Unsafe** (`--unsafe-fixes`): the construction moves to the end of `__init__` as
    `self.<snake_case_name>` (an `__init__` forwarding `**kwargs` is created if there is none), and the
    call uses the attribute. This changes which weights exist, their names and the saved format, and
    it is only offered when the construction is not in a loop and its arguments do not depend on
    values computed in `call`.

    ## Proof
    [`fixtures/TFN202/`](../fixtures/TFN202/): `before.py` shows an untracked, non-deterministic layer under both Keras
    flavours; `after_unsafe.py` has tracked weights and stable outputs.
    """

    code = "TFN202"
    fix_kind = "unsafe"
    name = "sublayer-in-call"
    summary = "Keras layer constructed inside Layer.call"

    @staticmethod
    def screen(facts: FileFacts) -> bool:
        keras = facts.keras_classes()
        if not keras:
            return False
        names = {k.name for k in keras}
        for c in facts.calls:
            func = c.node.func
            if ((type(func) is ast.Name and func.id in names) or any(is_keras_base(q) for q in facts.qualnames(func))) and (
                    facts.keras_method(c.func, "call")):
                return True
        return False
    triggers = ("call",)

    def __init__(self, ctx, sink):
        super().__init__(ctx, sink)
        self._loop_depth = 0
        self._loops: list[int] = []
        self._guards: list = []  # enclosing `if self._dense is None:` / `if not self._dense:` tests

    def visit_If(self, node: cst.If) -> None:
        self._guards.append(creates_once(node.test, truthiness=True))

    def leave_If(self, node: cst.If) -> None:
        self._guards.pop()

    def visit_FunctionDef(self, node) -> None:
        self._loops.append(self._loop_depth)
        self._loop_depth = 0

    def leave_FunctionDef(self, node) -> None:
        self._loop_depth = self._loops.pop()

    def _enter(self, node) -> None:
        self._loop_depth += 1

    def _leave(self, node) -> None:
        self._loop_depth -= 1

    visit_For = visit_While = visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _enter
    leave_For = leave_While = leave_ListComp = leave_SetComp = leave_DictComp = leave_GeneratorExp = _leave

    def visit_Call(self, node: cst.Call) -> None:
        layer_class = self._layer_class(node.func)
        if layer_class is None:
            return
        found = self.keras_method("call")
        if found is None:
            return
        method, cls = found
        if isinstance(method.node, cst.FunctionDef) and any(
                "track_tf1_style_variables" in self.ctx.module.code_for_node(d.decorator) for d in method.node.decorators):
            return  # tf_keras's variable-scope shim reuses the TF1-style layer's variables by name on every call
        if any(self._guards):
            if self.ctx.class_keras_flavour(cls) == "tf_keras":
                return  # legacy Keras tracks a sublayer created once, on the first call; Keras 3 refuses it
            self.report(node, f"{layer_class}(...) in {cls.name}.call creates a sublayer after the layer is built "
                              f"(Keras 3: ValueError 'cannot add new elements of state' on the first call, guard or "
                              f"not); create it in __init__ and call self.<name>(...)")
            return
        fix = None
        locals_ = (set(method.params) | _bound_in(method.node)) - {"self"}
        assigned = _self_attrs_assigned(method.node.body)
        ok, shapes = _movable(node, "\0", locals_, assigned)
        if ok and not shapes and self._loop_depth == 0:
            fix = self._fix(node, cls, method, layer_class)
        self.report(node, f"{layer_class}(...) is constructed on every {cls.name}.call: its weights are new, "
                          f"untracked and never trained; create it in __init__ and call self.<name>(...)",
                    fix=fix)

    def _layer_class(self, func: cst.BaseExpression) -> str | None:
        qual = self.ctx.resolve(func)
        if qual is not None:
            q = canonical(qual)
            last = q.rsplit(".", 1)[-1]
            if is_keras_base(qual) and ".layers." in q + "." and last[:1].isupper() and last not in _WEIGHTLESS_LAYERS:
                return last
            return None
        info = self.ctx.local_class(func.value) if isinstance(func, cst.Name) else None
        if info is not None:
            if self.ctx.class_is_keras(info) and _creates_weights(self.ctx, info, set()):
                return func.value
        return None

    def _fix(self, node: cst.Call, cls: ClassInfo, method: FunctionInfo, layer_class: str) -> PendingFix:
        init = cls.methods.get("__init__")
        class_node = cls.node
        taken = {n.attr.value for n in _walk_all(class_node) if _is_self_attr(n)}
        base = _snake(layer_class)
        attr = base
        counter = 0
        while attr in taken:
            counter += 1
            attr = f"{base}_{counter}"
        call_node = method.node

        def edits(loc) -> list[Edit] | None:
            start, end = loc.span(node)
            ctor = loc.text[start:end]
            out = [Edit(start, end, f"self.{attr}")]
            if init is not None:
                body = _statements(init.node)
                if not body:
                    return None
                last = body[-1]
                indent = loc.indent_of(loc.first_line(last))
                at = loc.line_start(loc.last_line(last) + 1)
                out.append(Edit(at, at, f"{indent}self.{attr} = {ctor}{loc.newline}"))
            else:
                offset, indent, blanks = _method_insertion(loc, call_node)
                inner = loc.indent_of(loc.first_line(_statements(call_node)[0])) if _statements(call_node) else None
                if inner is None:
                    return None
                nl = loc.newline
                out.append(Edit(offset, offset, f"{indent}def __init__(self, **kwargs):{nl}"
                                                f"{inner}super().__init__(**kwargs){nl}"
                                                f"{inner}self.{attr} = {ctor}{nl}" + nl * blanks))
            return out

        return PendingFix([], safe=False, description=f"create the layer in __init__ as self.{attr}",
                          build_edits=edits)


def _creates_weights(ctx, cls: ClassInfo, seen: set) -> bool:
    """Does a layer class of this module own weights: `add_weight`, `tf.Variable`, a sublayer with weights,
    or a concrete Keras base such as `Dense`?  A weightless layer built in `call` costs time, loses nothing."""
    for info in (cls, *ctx.local_bases(cls)):
        if id(info) in seen:
            continue
        seen.add(id(info))
        if any(not b.startswith("local:") and b.rsplit(".", 1)[-1] not in _GENERIC_BASES for b in info.bases):
            return True
        for node in _walk_all(info.node):
            if not isinstance(node, cst.Call):
                continue
            func = node.func
            if isinstance(func, cst.Attribute) and func.attr.value in ("add_weight", "add_variable"):
                return True
            qual = ctx.resolve(func)
            if qual is not None:
                q = canonical(qual)
                last = q.rsplit(".", 1)[-1]
                if q == "tensorflow.Variable" or (is_keras_base(qual) and ".layers." in q + "."
                                                   and last not in _WEIGHTLESS_LAYERS and last not in _GENERIC_BASES):
                    return True
            elif isinstance(func, cst.Name) and (other := ctx.local_class(func.value)) is not None:
                if other is not info and ctx.class_is_keras(other) and _creates_weights(ctx, other, seen):
                    return True
    return False
