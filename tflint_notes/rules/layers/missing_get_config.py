"""TFN205 and TFN903: see the class docstrings (the rule pages are generated from them)."""

from __future__ import annotations

import ast

import libcst as cst

from tflint_notes.analysis import ClassInfo, classdef_methods
from tflint_notes.screen import FileFacts, walk_own_scope
from tflint_notes.rules.layers._shared import (
    _GENERIC_BASES, _SerializationEvidence, _is_self_attr, _names_read, _walk_all, _walk_body, serialisation_sites,
)


_BASIC_TYPE_NAMES = frozenset({
    "int", "float", "str", "bool", "bytes", "None", "list", "tuple", "dict", "set", "frozenset",
    "Optional", "Union", "List", "Tuple", "Dict", "Set", "FrozenSet", "Sequence", "Literal", "Text", "AnyStr",
    "Mapping", "MutableMapping",
})
_BASIC_CONSTRUCTORS = frozenset({"tuple", "list", "dict", "set", "frozenset", "int", "float", "str", "bool"})


def _maybe_not_basic(default: ast.AST | None, annotation: ast.AST | None) -> bool:
    """Could MissingGetConfig._non_basic call this parameter non-basic?  (Over-approximates it.)"""
    if default is not None:
        kind = type(default)
        if kind is ast.Call and not (type(default.func) is ast.Name and default.func.id in _BASIC_CONSTRUCTORS):
            return True
        if kind in (ast.Lambda, ast.Attribute, ast.Name):
            return True
    if annotation is not None:
        if type(annotation) is ast.Constant and isinstance(annotation.value, str):
            return False
        return not (type(annotation) is ast.Name and annotation.id in _BASIC_TYPE_NAMES)
    return False


def _keeps_non_basic_argument(facts: FileFacts) -> bool:
    """A Keras class without get_config whose constructor takes a layer, callable or object."""
    for klass in facts.keras_classes():
        init = klass.methods.get("__init__")
        if init is None or "get_config" in klass.methods:
            continue
        args = init.node.args
        positional = [*args.posonlyargs, *args.args]
        defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
        params = list(zip(positional, defaults))[1:] + list(zip(args.kwonlyargs, args.kw_defaults))
        if not params:
            continue
        if any(_maybe_not_basic(default, param.annotation) for param, default in params):
            return True
        names = {param.arg for param, _ in params}
        stored = set()
        for node in walk_own_scope(init.node.body):
            if type(node) is ast.Call and type(node.func) is ast.Name and node.func.id in names:
                return True  # a parameter called like a function
            if type(node) is ast.Assign and type(node.value) is ast.Name and node.value.id in names:
                stored.update(t.attr for t in node.targets if type(t) is ast.Attribute)
        if stored and any(type(n) is ast.Call and type(n.func) is ast.Attribute and n.func.attr in stored
                          for n in ast.walk(klass.node)):
            return True  # stored as self.<attr> and called as self.<attr>(...)
    return False


class MissingGetConfig(_SerializationEvidence):
    """## What it does
    Flags a Keras `Layer`/`Model` subclass whose `__init__` takes an argument that is not a basic
    literal type — a layer, a callable, an initializer or other object, recognised by its default
    (`activation=tf.nn.relu`, `inner=Dense(4)`), its annotation (`inner: keras.layers.Layer`,
    `fn: Callable`) or its use (`self.fn = fn` and later `self.fn(...)`) — when the class defines no
    `get_config` and the module contains a call that asks for its config, and names that call's line:
    a model holding an instance (reached as for TFN203) is saved to a `.keras`/`.h5` file, passed to
    `clone_model`, or asked for `get_config()`/`to_json()`, or the layer is passed to
    `keras.layers.serialize`. Measured under TF 2.21: Keras 3 fails there even when the default was
    not overridden (it captures defaults too); tf_keras fails only when the object was given at
    construction, and not for a SavedModel directory. The class is identified by scope, not by name.
    A layer that is never saved loses nothing: TFN903 (off by default) flags every such class, for
    library authors.

    Arguments whose values are ints, floats, strings, bools, `None` or lists/tuples/dicts of those are
    captured automatically by Keras 3 and tf_keras 2.21: such layers are not flagged.

    ## Why is this bad?
    Saving needs every constructor argument in the layer's config. Keras can only capture basic
    values on its own; for anything else `model.save(...)` or `load_model` fails with
    `NotImplementedError: ... was created by passing non-serializable argument values in __init__(),
    and therefore ... must override get_config()`.

    ## Example
    ```python
    class Gated(keras.layers.Layer):
        def __init__(self, gate=tf.nn.sigmoid, **kwargs):
            super().__init__(**kwargs)
            self.gate = gate
        def call(self, x):
            return x * self.gate(x)

    model = keras.Sequential([keras.Input((4,)), Gated()])
    model.save("gated.keras")
    ```

    ## Use instead
    ```python
    class Gated(keras.layers.Layer):
        def __init__(self, gate="sigmoid", **kwargs):
            super().__init__(**kwargs)
            self.gate = keras.activations.get(gate)
        def call(self, x):
            return x * self.gate(x)
        def get_config(self):
            config = super().get_config()
            config["gate"] = keras.activations.serialize(self.gate)
            return config

    model = keras.Sequential([keras.Input((4,)), Gated()])
    model.save("gated.keras")
    ```

    ## Fix safety
    No automatic fix: how to serialise an object depends on the object. The message names the
    arguments and the `get_config`/`from_config` pattern to use.

    ## Proof
    [`fixtures/TFN205/`](../fixtures/TFN205/): `before.py` fails to save or load under both Keras flavours;
    `corrected.py` adds `get_config` and round-trips with identical outputs.
    """

    code = "TFN205"
    expected_errors = ('NotImplementedError', 'TypeError')
    name = "missing-get-config"
    summary = "Layer with non-basic constructor arguments and no get_config"

    @staticmethod
    def screen(facts: FileFacts) -> bool:
        # the failure this module runs into: a save, clone_model or get_config/to_json/serialize
        return bool(serialisation_sites(facts) & {"save", "clone", "config"}) and _keeps_non_basic_argument(facts)
    triggers = ("__init__",)

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        for cls in self.ctx.local_classes():
            if cls.node is node:
                self._check(cls)

    def _check(self, cls: ClassInfo) -> None:
        init = cls.methods.get("__init__")
        if init is None or not self.ctx.class_is_keras(cls):
            return
        for info in (cls, *self.ctx.local_bases(cls)):
            if "get_config" in info.methods:
                return
            # a concrete Keras layer base (Dense, Conv2D, ...) has a get_config of its own
            if any(not b.startswith("local:") and b.rsplit(".", 1)[-1] not in _GENERIC_BASES for b in info.bases):
                return
        func = init.node
        called_attrs = {n.func.attr.value for n in _walk_all(cls.node)
                        if isinstance(n, cst.Call) and _is_self_attr(n.func)}
        stored = {}  # param -> attrs it is stored in
        called_params = set()
        for n in _walk_body(func.body):
            if isinstance(n, cst.Assign) and isinstance(n.value, cst.Name):
                for target in n.targets:
                    if _is_self_attr(target.target):
                        stored.setdefault(n.value.value, set()).add(target.target.attr.value)
            elif isinstance(n, cst.Call) and isinstance(n.func, cst.Name):
                called_params.add(n.func.value)
        flagged = []
        params = [*func.params.posonly_params, *func.params.params, *func.params.kwonly_params][1:]
        for param in params:
            name = param.name.value
            why = self._non_basic(param)
            if why is None and (name in called_params or stored.get(name, set()) & called_attrs):
                why = "called"
            if why is not None:
                flagged.append((param, name))
        if not flagged:
            return
        names = ", ".join(f"`{n}`" for _, n in flagged)
        positional = [p.name.value for p in (*func.params.posonly_params, *func.params.params)][1:]
        flagged_names = {n for _, n in flagged}
        self.defer(cls, flagged[0][0], f"{cls.name} takes {names} (a layer/callable/object) but defines no get_config()",
                   "model.save()/load_model fail with NotImplementedError (non-serializable argument values)",
                   "add get_config() returning super().get_config() plus keras.saving.serialize_keras_object(...) "
                   "of them, and from_config()",
                   flagged=flagged_names,
                   positions={i for i, n in enumerate(positional) if n in flagged_names})

    def failure(self, cls: ClassInfo, details: dict) -> tuple[str, tuple] | None:
        flow = self.ctx.instance_flow()
        holders = {h for h in self.holders(flow, cls.node, self.constructor_owner)
                   if h is cls.node or "get_config" not in classdef_methods(h)}
        if not holders:
            return None
        flavour = self.ctx.class_keras_flavour(cls)
        if flavour != "keras3" and not any(
                built in holders and _passes(call, details["flagged"], details["positions"])
                for call, _, built in flow.constructions()):
            return None  # tf_keras captures only the arguments given: a default object is never serialised
        fails = "raises NotImplementedError (non-serializable argument values)"
        for site in flow.sites:
            if site.kind not in ("save", "clone", "config") or not flow.classes_in(site.model, site.scope) & holders:
                continue
            if site.kind == "save":
                saved_as = site.save_format or flow.path_format(site.path, site.scope)
                if saved_as == "other" or (saved_as is None and flavour != "keras3"):
                    continue  # a tf_keras SavedModel directory does not need the config
            return f"{site.label} at line {{line0}} {fails}", (site.node,)
        return None

    def _non_basic(self, param: cst.Param) -> str | None:
        default = param.default
        if default is not None:
            if isinstance(default, cst.Call):
                callee = default.func
                if not (isinstance(callee, cst.Name) and callee.value in _BASIC_CONSTRUCTORS):
                    return "default"
            elif isinstance(default, (cst.Attribute, cst.Name, cst.Lambda)):
                if isinstance(default, cst.Lambda):
                    return "default"
                if isinstance(default, cst.Name) and default.value in ("None", "True", "False"):
                    pass
                elif self.ctx.resolve(default) is not None:
                    return "default"  # an imported function/class/object
        if param.annotation is not None:
            ann = param.annotation.annotation
            if isinstance(ann, (cst.SimpleString, cst.ConcatenatedString)):
                return None
            for name, parent in _names_read(ann):
                if isinstance(parent, cst.Attribute):
                    qual = self.ctx.resolve(parent)
                    if qual is not None and qual.startswith("typing."):
                        if qual.rsplit(".", 1)[-1] not in _BASIC_TYPE_NAMES:
                            return "annotation"
                        continue
                    return "annotation"
                if name.value not in _BASIC_TYPE_NAMES:
                    return "annotation"
        return None


def _passes(call: cst.Call, names: set, positions: set) -> bool:
    """Does this constructor call give one of these parameters a value (by name or position)?"""
    if any(a.star for a in call.args):
        return False  # unknown
    positional = [a for a in call.args if a.keyword is None]
    return any(a.keyword is not None and a.keyword.value in names for a in call.args) or any(
        i < len(positional) for i in positions)


class MissingGetConfigAnyLayer(MissingGetConfig):
    """## What it does
    The broad form of TFN205, off by default (`--select TFN903`): flags every Keras `Layer`/`Model`
    subclass with a non-basic constructor argument (a layer, callable or object) and no `get_config`,
    whether or not the module saves, loads or registers it. Where TFN205 reports the same class, only
    TFN205 is shown.

    ## Why is this bad?
    Such a layer cannot be saved: `model.save(...)` and `load_model` fail with `NotImplementedError:
    ... non-serializable argument values`. Whoever uses the layer in a saved model meets the error,
    often far from where the layer was written.

    ## Example
    ```python
    class Gated(keras.layers.Layer):
        def __init__(self, gate=tf.nn.sigmoid, **kwargs):
            super().__init__(**kwargs)
            self.gate = gate
    ```

    ## Use instead
    ```python
    class Gated(keras.layers.Layer):
        def __init__(self, gate="sigmoid", **kwargs):
            super().__init__(**kwargs)
            self.gate = keras.activations.get(gate)
        def get_config(self):
            config = super().get_config()
            config["gate"] = keras.activations.serialize(self.gate)
            return config
    ```

    ## Fix safety
    No automatic fix (as TFN205).

    ## Proof
    [`fixtures/TFN903/`](../fixtures/TFN903/): `before.py` fails to save; `corrected.py` round-trips.
    """

    code = "TFN903"
    syntactic = True
    name = "missing-get-config-any-layer"
    summary = "any Layer with non-basic constructor arguments and no get_config (broad form of TFN205)"
    default_enabled = False
    narrows = "TFN205"
    requires_evidence = False

    @staticmethod
    def screen(facts: FileFacts) -> bool:
        return _keeps_non_basic_argument(facts)
