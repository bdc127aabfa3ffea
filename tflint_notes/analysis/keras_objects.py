"""Keras objects: which values are Keras models, layers or optimizers, as far as this module shows.

The Keras rules (a removed `Model` method, a renamed argument, the Keras 3 save path) must know that
`model.fit_generator(...)` is called on a Keras model and not on a scikit-learn estimator with the same method
name.  The evidence is what a reviewer would use: the constructor or factory the value came from, the loop
over `model.layers`, the function that returned it, and for parameters their annotation, the Keras-only
attributes used on them and the arguments the module's call sites pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from tflint_notes.analysis.names import canonical, is_keras_base, is_model_factory
from tflint_notes.analysis.scopes import ClassInfo, FunctionInfo, is_self_param, is_staticmethod, names_bound_by_target

# Expressions that are never a Keras object.
NEVER_KERAS = (cst.Lambda, cst.BaseNumber, cst.BaseString, cst.List, cst.Dict, cst.Tuple)
# Attributes only a Keras model has (not scikit-learn estimators, statsmodels results, torch modules' common
# ones): a parameter used with one of them is a Keras model.
KERAS_MODEL_ATTRIBUTES = frozenset({
    "compile", "layers", "get_layer", "save_weights", "load_weights", "train_on_batch", "test_on_batch",
    "predict_on_batch", "count_params", "trainable_weights", "non_trainable_weights", "compiled_loss",
    "compiled_metrics", "make_train_function", "stop_training",
})


@dataclass(frozen=True)
class KerasObject:
    """What the analysis knows of a value that is a Keras object."""

    kind: str  # "model", "layer" or "optimizer"
    cls: "ClassInfo | None" = None  # the class of this module it is an instance of
    flavour: str | None = None  # "keras3" or "tf_keras", when the constructor tells
    project: str | None = None  # the Keras class of another project module it is an instance of (qualified)


# An argument known not to be a Keras object (an instance of a non-Keras class of the module, a literal).
NOT_KERAS = KerasObject("none")


class KerasObjects:
    """The Keras objects names hold so far (flow-sensitive), those module functions return, and the parameters
    used as Keras models.  Reads the scopes, `resolve` (ImportResolution), the call sites (CallGraph) and the
    class and flavour questions of KerasClasses."""

    def _init_keras_objects(self) -> None:
        self._keras_names: dict = {}  # (function or None, name) -> KerasObject
        self._keras_functions: dict = {}  # module function name -> the KerasObject it returns
        self._param_keras_uses: set = set()  # (function, parameter) used as a Keras model (`model.compile`)
        self._param_keras_cache: dict = {}

    # -- during the traversal --

    def _track_loop(self, target: cst.BaseExpression, iterator: cst.BaseExpression) -> None:
        node_target = target
        if isinstance(node_target, cst.Name):
            key = (self.current_function, node_target.value)
            if isinstance(iterator, cst.Subscript) and all(isinstance(e.slice, cst.Slice) for e in iterator.slice):
                iterator = iterator.value  # for layer in model.layers[1:]:
            owner = (self.keras_object(iterator.value) if isinstance(iterator, cst.Attribute)
                     and iterator.attr.value == "layers" else None)
            if owner is not None and owner.kind == "model":  # for layer in model.layers:
                self._keras_names[key] = KerasObject("layer", None, owner.flavour)
            else:
                self._keras_names.pop(key, None)

    def _track_comprehension(self, node) -> None:
        clause = node.for_in
        while clause is not None:
            self._track_loop(clause.target, clause.iter)  # [layer.output_shape for layer in model.layers]
            clause = clause.inner_for_in

    def _note_model_use(self, name: cst.Name) -> None:
        """`<name>.compile`, `<name>.layers` ...: a parameter used so is a Keras model."""
        ref = self.keras_param(name)
        if ref is not None:
            self._param_keras_uses.add(ref)

    def _note_keras_assignment(self, node: cst.Assign) -> None:
        """`model = keras.Sequential(...)`: the name holds that Keras object from here on (or no longer one)."""
        found = self.keras_object(node.value)
        for target in node.targets:
            if isinstance(target.target, cst.Name):
                key = (self.current_function, target.target.value)
                if found is None:
                    self._keras_names.pop(key, None)
                else:
                    self._keras_names[key] = found
            else:
                for name in names_bound_by_target(target.target):
                    self._keras_names.pop((self.current_function, name), None)

    def leave_Return(self, node: cst.Return) -> None:
        func = self.current_function
        if func is not None and func.parent is None and func.cls is None and node.value is not None:
            found = self.keras_object(node.value)
            if found is not None:
                self._keras_functions.setdefault(func.name, found)

    # -- queries --

    def keras_object(self, node: cst.BaseExpression) -> KerasObject | None:
        """The Keras model, layer or optimizer `node` evaluates to, as far as this module shows."""
        if isinstance(node, cst.Name):
            if node.value == "self":
                cls = self.current_class
                if cls is not None and self.class_is_keras(cls):
                    return KerasObject("model" if self.class_is_model(cls) else "layer", cls,
                                       self.class_keras_flavour(cls))
                return None
            func = self.current_function
            while True:
                found = self._keras_names.get((func, node.value))
                if found is not None or func is None:
                    return found
                if node.value in func.bound and (func, node.value) not in self._keras_names:
                    return None  # a local of that name, not a Keras object we know
                func = func.parent
        if isinstance(node, cst.Subscript) and isinstance(node.value, cst.Attribute) and node.value.attr.value == "layers":
            owner = self.keras_object(node.value.value)  # model.layers[-1]
            return KerasObject("layer", None, owner.flavour) if owner is not None and owner.kind == "model" else None
        if not isinstance(node, cst.Call):
            return None
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "get_layer":
            owner = self.keras_object(func.value)
            return KerasObject("layer", None, owner.flavour) if owner is not None and owner.kind == "model" else None
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Call) and isinstance(
                func.value.func, cst.Name) and func.value.func.value == "super":
            return None
        qual = self.resolve(func)
        if qual is not None:
            q = canonical(qual)
            flavour = self.keras_flavour(qual)
            if is_model_factory(qual):
                return KerasObject("model", None, flavour)
            if q.startswith("keras.optimizers.") and q.rsplit(".", 1)[-1][:1].isupper():
                return KerasObject("optimizer", None, flavour)
            if is_keras_base(qual):
                return KerasObject("model" if q.rsplit(".", 1)[-1] in ("Model", "Sequential", "Functional") else "layer", None,
                                   flavour)
            return self._project_keras_object(qual)
        if self.view.keras or self.view.models:
            found = self._project_keras_object(self.project_name(func))  # from .layers import Gate; Gate(4)
            if found is not None:
                return found
        if isinstance(func, cst.Name):
            info = self.classes.get(func.value)
            if info is not None and self.class_is_keras(info):
                return KerasObject("model" if self.class_is_model(info) else "layer", info,
                                   self.class_keras_flavour(info))
            if func.value in self._keras_functions and self.resolve(func) is None:
                return self._keras_functions[func.value]
        return None

    def _project_keras_object(self, qualname: str | None) -> KerasObject | None:
        """An instance of a Keras class of another module of the project (through the project index)."""
        base = self.view.keras_base(qualname) if qualname is not None else None
        if base is None:
            factory = self.view.model_factory(qualname) if qualname is not None else None
            # `model = build_model()` with `build_model` in another module returning `keras.Sequential(...)`
            return KerasObject("model", None, self.keras_flavour(factory)) if factory is not None else None
        kind = "model" if self.is_model_base(base) else "layer"
        return KerasObject(kind, None, self.keras_flavour(base), qualname)

    def keras_param(self, node: cst.BaseExpression) -> tuple | None:
        """(function, parameter) when `node` names a parameter of the current or an enclosing function that
        has not been rebound so far and is not a Keras object already known here: what it holds is decided
        after the traversal (`param_keras_object`)."""
        if not isinstance(node, cst.Name) or node.value == "self" or self._comprehension_variable(node.value):
            return None
        func = self.current_function
        while func is not None:
            if node.value in func.rebound or (func, node.value) in self._keras_names:
                return None
            if node.value in func.params:
                return None if is_self_param(func, node.value) else (func, node.value)
            if node.value in func.bound:
                return None
            func = func.parent
        return None

    def param_keras_object(self, func: FunctionInfo, param: str, _seen: set | None = None) -> KerasObject | None:
        """The Keras model or layer a parameter holds, from evidence a reviewer would use: its annotation
        (`model: keras.Model`), Keras-only attributes used on it in the function (`model.compile`,
        `model.layers`, `model.save_weights`), or the arguments the module's call sites pass to it."""
        key = (func, param)
        if key in self._param_keras_cache:
            return self._param_keras_cache[key]
        top_level = _seen is None
        seen = _seen if _seen is not None else set()
        if key in seen:
            return None
        seen.add(key)
        annotated = self._annotated_keras(func, param)
        if annotated is False:
            found = None  # annotated with something else: trust the annotation
        elif annotated is not None:
            found = annotated
        else:
            # call sites first: they know the class (`setup(GAN())` with GAN's own compile()), or that
            # the argument is something else (`setup(RunningMean())`, a lambda, a literal)
            found = self._keras_from_call_sites(func, param, seen)
            if found is NOT_KERAS:
                found = None
            elif found is None and key in self._param_keras_uses:
                # `compile`/`layers` exist on torch modules too: only in a module that works with Keras alone
                flavour = self._module_keras_flavour()
                if flavour is not None and not any(q.split(".")[0] == "torch" for q in self.module_imports.values()):
                    found = KerasObject("model", None, flavour)
        if top_level:  # a result computed under a cycle cut depends on where the cycle was entered
            self._param_keras_cache[key] = found
        return found

    def _annotated_keras(self, func: FunctionInfo, param: str):
        """KerasObject for a Keras annotation, False for any other annotation, None without one."""
        params = func.node.params
        for p in (*params.posonly_params, *params.params, *params.kwonly_params):
            if p.name.value == param:
                if p.annotation is None:
                    return None
                options = [p.annotation.annotation]
                found = None
                while options:
                    ann = options.pop()
                    if isinstance(ann, cst.BinaryOperation):
                        options += [ann.left, ann.right]  # keras.Model | None
                        continue
                    if isinstance(ann, cst.Subscript):  # Optional[keras.Model], Union[...]
                        options += [e.slice.value for e in ann.slice if isinstance(e.slice, cst.Index)]
                        continue
                    if isinstance(ann, cst.Name) and ann.value in self.classes:
                        cls = self.classes[ann.value]
                        if self.class_is_keras(cls):
                            found = KerasObject("model" if self.class_is_model(cls) else "layer", cls,
                                                self.class_keras_flavour(cls))
                        continue
                    qual = self.resolve(ann)
                    if qual is not None and is_keras_base(qual):
                        found = KerasObject("model" if canonical(qual).rsplit(".", 1)[-1] in (
                            "Model", "Sequential", "Functional") else "layer", None, self.keras_flavour(qual))
                return found if found is not None else False
        return None

    def _keras_from_call_sites(self, func: FunctionInfo, param: str, seen: set) -> KerasObject | None:
        params = func.node.params
        positional = [p.name.value for p in (*params.posonly_params, *params.params)]
        index = positional.index(param) if param in positional else None
        if func.cls is not None and index is not None and not is_staticmethod(func.node):
            index -= 1
        passed = []
        for site in self.call_sites:
            if not site.keras_args or self._callee_of(site) is not func:
                continue
            for key, obj, ref in site.keras_args:
                if key != param and (index is None or key != index):
                    continue
                if obj is NOT_KERAS:
                    return NOT_KERAS
                passed.append((obj, ref))
        found = None
        for obj, ref in passed:
            if obj is None and ref is not None:
                obj = self.param_keras_object(ref[0], ref[1], seen)
            if obj is not None and obj.kind in ("model", "layer"):
                if found is not None and found != obj:
                    # different classes at different sites: keep only what they share
                    found = KerasObject(found.kind if found.kind == obj.kind else "layer", None,
                                        found.flavour if found.flavour == obj.flavour else None)
                else:
                    found = obj
        return found
