"""TFN604 removed-model-method."""

from __future__ import annotations

import ast


import libcst as cst

from tflint_notes.analysis import class_methods
from tflint_notes.cstwalk import walk
from tflint_notes.rule import PendingFix, Replacement
from tflint_notes.rules.keywords import own_method
from tflint_notes.rules.migration._shared import GuardedRule, dotted_text, keras_bound_names
from tflint_notes.screen import FileFacts

# method -> (Keras 3 replacement, fix: "safe" | "unsafe" | None, note)
_METHODS = {
    "fit_generator": ("fit", "safe", "fit takes generators and tf.data datasets"),
    "evaluate_generator": ("evaluate", "safe", "evaluate takes generators and tf.data datasets"),
    "predict_generator": ("predict", "unsafe", "Keras 3's predict needs the generator to yield tuples; Keras 2 also "
                                              "took bare arrays"),
    "predict_proba": ("predict", "safe", "predict returns the probabilities of a softmax/sigmoid output"),
    "predict_classes": (None, None, "use np.argmax(model.predict(x), axis=-1) for a softmax output, "
                                    "(model.predict(x) > 0.5).astype(\"int32\") for a sigmoid one"),
    "to_yaml": (None, None, "YAML was removed for safety: use model.to_json() or model.save(\"model.keras\")"),
    "reset_states": (None, None, "reset the states of the stateful RNN layers: layer.reset_state() (Keras 3)"),
}
# Attributes Keras 3 objects lost: attribute -> (the objects that lost it: "layer" (a model kept it), "model" or
# "any", what to write instead).
_ATTRIBUTES = {
    "output_shape": ("layer", "use the layer's output.shape (in a functional model) or compute_output_shape(input_shape)"),
    "input_shape": ("layer", "use the layer's input.shape (in a functional model) or the shape build() receives"),
    "updates": ("any", "Keras 3 applies state updates itself (no update ops to run or collect)"),
    "state_updates": ("model", "Keras 3 applies state updates itself (no update ops to run or collect)"),
}
_LOST = frozenset(_ATTRIBUTES) - {"output_shape"}
# Read, not removed: Keras 3 gives one name for all compiled metrics.
_METRICS_NAMES = "metrics_names"
# Keyword arguments fit_generator/evaluate_generator took that Keras 3's fit/evaluate reject.
_GENERATOR_ONLY = frozenset({"workers", "use_multiprocessing", "max_queue_size", "nb_epoch", "samples_per_epoch",
                             "nb_val_samples", "pickle_safe", "nb_worker"})


class RemovedModelMethod(GuardedRule):
    """## What it does
    Flags, on a Keras 3 model or layer that the analysis knows (built in the module from `keras.*` or
    `tf.keras.*`, loaded with `load_model`, an instance of a model class of the module, or a parameter the
    module shows to be a model: annotation, call sites, Keras-only attributes — the same resolution
    TFN301 uses), the methods Keras 3 removed: `fit_generator`, `evaluate_generator`, `predict_generator`,
    `predict_classes`, `predict_proba`, `reset_states()` on a model, `to_yaml()`; the attributes Keras 3
    layers lost, `output_shape` and `input_shape` (on a layer, `self` in a layer class, `model.layers[i]`,
    `model.get_layer(...)` or a loop over `model.layers`), `updates` (layers and models) and
    `state_updates` (models); and `model.metrics_names` on a model the module compiles with `metrics=`:
    Keras 3 returns `['loss', 'compile_metrics']` there, one name for all compiled metrics. Not flagged:
    `input_shape`/`output_shape` of a Sequential or functional model (Keras 3 kept them), `metrics_names`
    of a model compiled without metrics (`['loss']`, as before), a class that defines such a method or
    assigns such an attribute itself, other libraries' objects with a `fit_generator` method or an
    `updates` attribute, and legacy-Keras (tf_keras) targets.

    ## Why is this bad?
    `AttributeError: 'Sequential' object has no attribute 'fit_generator'` — raised when the line runs,
    which for `predict_classes` or `output_shape` in a report at the end of training means after the
    training itself. `metrics_names` fails silently: `dict(zip(model.metrics_names, model.evaluate(...)))`
    labels the first metric `compile_metrics` and drops the others.

    ## Example
    ```python
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.fit_generator(batches, steps_per_epoch=10, epochs=2)
    probabilities = model.predict_proba(x)
    ```

    ## Use instead
    ```python
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.fit(batches, steps_per_epoch=10, epochs=2)
    probabilities = model.predict(x)
    ```

    ## Fix safety
    **Safe**: `fit_generator` → `fit` and `evaluate_generator` → `evaluate` when no argument Keras 3 lacks is
    passed (`workers=`, `use_multiprocessing=`, `max_queue_size=`: TFN605), `predict_proba` → `predict`.
    **Unsafe**: `predict_generator` → `predict` (Keras 3 needs the generator to yield tuples). No fix for
    `predict_classes`, `to_yaml`, `reset_states`, the removed attributes and `metrics_names`
    (`evaluate(..., return_dict=True)` names every result): the message says what to write.

    ## Proof
    [`fixtures/TFN604/`](../fixtures/TFN604/): `before.py` raises the AttributeError under Keras 3 (the
    `metrics_names` program fails its own assertion on the labels) and runs under tf_keras; the fixed and
    corrected programs train, predict and report under both.
    """

    code = "TFN604"
    fix_kind = "safe/unsafe"
    name = "removed-model-method"
    summary = "Keras 2 model method or attribute that Keras 3 removed or changed (fit_generator, input_shape, metrics_names, ...)"
    triggers = tuple(_METHODS) + tuple(_ATTRIBUTES) + (_METRICS_NAMES,)
    expected_errors = ("AttributeError",)

    @staticmethod
    def screen(facts: FileFacts) -> bool:
        if not facts.may_be_keras3():
            return False  # Keras 3 only, and the project's tf.keras and keras are both Keras 2
        names = facts.attribute_names()
        if names.isdisjoint(_METHODS) and names.isdisjoint(_ATTRIBUTES) and _METRICS_NAMES not in names:
            return False
        return _lost_attribute_on_possible_keras_object(facts)

    def __init__(self, ctx, sink):
        super().__init__(ctx, sink)
        self._called: set = set()  # attribute nodes that are called (judged with their call)
        self._metrics_names: list = []  # (attribute node, receiver text, condition on a parameter, top statement)
        self._compiled_with_metrics: set = set()  # receivers (as written) of compile(..., metrics=[...])

    def _receiver(self, node: cst.Attribute):
        """The Keras 3 object whose removed attribute `node` reads, or None."""
        attr = node.attr.value
        if self.guarded:
            return None
        self._requires = None
        obj = self.ctx.keras_object(node.value)
        lost_by = _ATTRIBUTES[attr][0] if attr in _ATTRIBUTES else "model"
        if obj is None and lost_by != "layer":
            # a model that arrives as a parameter: decided once the module's call sites are known
            param = self.ctx.keras_param(node.value)
            if param is None:
                return None
            ctx = self.ctx
            self._requires = (*param, lambda found: found.kind == "model" and found.flavour == "keras3" and own_method(
                ctx, found.cls, attr) is None and attr not in _assigned_attrs(ctx, found.cls))
            return param
        if obj is None or obj.flavour != "keras3":
            return None
        if own_method(self.ctx, obj.cls, attr) is not None or attr in _assigned_attrs(self.ctx, obj.cls):
            return None  # the class defines it
        if obj.project is not None and (lost_by == "layer" or attr in (self.ctx.project_methods(obj.project) or ())):
            return None  # a class of another project module: it defines the method, or may set the attribute
        if lost_by == "layer":
            # Keras 3 keeps input_shape/output_shape on Sequential and functional models; layers lost them
            return obj if obj.kind == "layer" else None
        if lost_by == "any":
            return obj if obj.kind in ("layer", "model") else None
        return obj if obj.kind == "model" else None

    def _visit_method_call(self, node: cst.Call) -> None:
        func = node.func
        if not (isinstance(func, cst.Attribute) and func.attr.value in _METHODS):
            return
        self._called.add(func)
        if self._receiver(func) is None:
            return
        new, safety, note = _METHODS[func.attr.value]
        fix = None
        keywords = {a.keyword.value for a in node.args if a.keyword is not None}
        if new is not None and safety is not None and not keywords & _GENERATOR_ONLY:
            fix = PendingFix([Replacement(func.attr, new)], safe=safety == "safe", description=f"use {new}")
        advice = f"use {new}(): {note}" if new else note
        self.report(node, f"{dotted_text(func)}() does not exist in Keras 3 (AttributeError when it runs); {advice}",
                    fix=fix, requires_keras=self._requires)

    def visit_Call(self, node: cst.Call) -> None:
        self._note_compile(node)
        self._visit_method_call(node)

    def _note_compile(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "compile" and any(
                a.keyword is not None and a.keyword.value == "metrics" and not _empty(a.value) for a in node.args):
            self._compiled_with_metrics.add(dotted_text(func.value))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        attr = node.attr.value
        if node in self._called or (attr not in _METHODS and attr not in _ATTRIBUTES and attr != _METRICS_NAMES):
            return
        if self._receiver(node) is None:
            return
        if attr == _METRICS_NAMES:
            self._metrics_names.append((node, dotted_text(node.value), self._requires, self.ctx.current_top))
        elif attr in _ATTRIBUTES:
            lost_by, advice = _ATTRIBUTES[attr]
            owner = {"layer": "layers", "model": "models"}.get(lost_by, "layers and models")
            self.report(node, f"`{dotted_text(node)}`: Keras 3 {owner} have no {attr} (AttributeError); {advice}",
                        requires_keras=self._requires)
        else:
            self.report(node, f"`{dotted_text(node)}` does not exist in Keras 3 (AttributeError)",
                        requires_keras=self._requires)

    def finish(self) -> None:
        for node, receiver, requires, top in self._metrics_names:
            if receiver not in self._compiled_with_metrics:
                continue  # compiled without metrics (or elsewhere): ['loss'] as in Keras 2
            self.report(node, f"`{receiver}.metrics_names` is ['loss', 'compile_metrics'] in Keras 3 (one name for all "
                              f"compiled metrics), not one name per metric: labels zipped with evaluate()'s results "
                              f"come out wrong; use evaluate(..., return_dict=True) for the names",
                        requires_keras=requires, top=top)


def _lost_attribute_on_possible_keras_object(facts: FileFacts) -> bool:
    """A removed method or lost attribute read on something that may be a Keras object (what
    `keras_object`/`keras_param` can know): `self` in a Keras class, a name bound to a call or another name (a
    constructor, `load_model`, `get_layer`, a function of the module, `m2 = model`) or to a loop over
    `.layers`, `<x>.layers[i]`, a call; a parameter only for what models lost (a layer's input_shape and
    output_shape are judged only on a known layer).  `metrics_names` only where the file compiles with metrics."""
    keras_self = bool(facts.keras_classes()) or (facts.view is not None and bool(facts.view.keras))
    metrics = any(type(c.node.func) is ast.Attribute and c.node.func.attr == "compile" and any(
        k.arg == "metrics" and not _ast_empty(k.value) for k in c.node.keywords) for c in facts.calls)
    bound = keras_bound_names(facts)
    params = facts.parameter_names()
    for node in facts.attributes:
        attr = node.attr
        if attr == _METRICS_NAMES:
            if not metrics:
                continue
        elif attr not in _METHODS and attr not in _ATTRIBUTES:
            continue
        lost_by = _ATTRIBUTES[attr][0] if attr in _ATTRIBUTES else "model"
        value = node.value
        if type(value) is ast.Name:
            if value.id == "self":
                if keras_self:
                    return True
                continue
            kinds = bound.get(value.id, ())
            if "any" in kinds or (lost_by == "any" and kinds) or lost_by in kinds or (
                    lost_by != "layer" and value.id in params):
                return True
        elif type(value) in (ast.Call, ast.Subscript):
            return True
    return False


def _ast_empty(value: ast.AST) -> bool:
    return (type(value) in (ast.List, ast.Tuple) and not value.elts) or (
        type(value) is ast.Constant and value.value is None)


def _empty(value: cst.BaseExpression) -> bool:
    return (isinstance(value, (cst.List, cst.Tuple)) and not value.elements) or (
        isinstance(value, cst.Name) and value.value == "None")


def _assigned_attrs(ctx, cls) -> set:
    """Attributes a class of this module (or its local bases) binds: in its body (`fit_generator = fit`) or
    on `self` in its methods (`self.output_shape = ...`)."""
    out: set = set()
    if cls is None:
        return out
    for info in (cls, *ctx.local_bases(cls)):
        body = info.node.body.body if isinstance(info.node.body, cst.IndentedBlock) else ()
        for stmt in body:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.Assign):
                        out.update(t.target.value for t in small.targets if isinstance(t.target, cst.Name))
        for method in class_methods(info).values():
            for node in walk(method.body):
                targets = ()
                if isinstance(node, cst.Assign):
                    targets = [t.target for t in node.targets]
                elif isinstance(node, (cst.AnnAssign, cst.AugAssign)):
                    targets = [node.target]
                for target in targets:
                    if (isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name)
                            and target.value.value == "self"):
                        out.add(target.attr.value)
    return out

