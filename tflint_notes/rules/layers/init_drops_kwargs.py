"""TFN203 and TFN902: see the class docstrings (the rule pages are generated from them)."""

from __future__ import annotations

import ast

import libcst as cst

from tflint_notes.analysis import ClassInfo, class_methods
from tflint_notes.analysis import literal_dict_keys
from tflint_notes.fixes import append_call_argument
from tflint_notes.results import Edit
from tflint_notes.rule import PendingFix
from tflint_notes.screen import FileFacts, walk_own_scope
from tflint_notes.rules.layers._shared import (
    _BASE_LAYER_KEYWORDS, _GENERIC_BASES, _SerializationEvidence, _extends_base_config, _first_base_is_keras,
    _keras_inits, _params_with_kwargs, _super_init_calls, _var_keyword, _walk_body, constructed_with_base_keyword,
    replaces_layer_protocol, serialisation_sites,
)


def _reaches_keras(ctx, cls: ClassInfo, call: cst.Call) -> bool:
    """Is this `super().__init__(...)` / `Base.__init__(self, ...)` call one that ends in Keras's own __init__?"""
    target = call.func.value
    if isinstance(target, cst.Call):  # super() or super(Cls, self)
        args = target.args
        if args and not (isinstance(args[0].value, cst.Name) and args[0].value.value == cls.name):
            return False  # super(Other, self): skips part of the MRO on purpose
        return _first_base_is_keras(ctx, cls)
    local = ctx.local_class(target.value) if isinstance(target, cst.Name) else None
    if local is not None:
        return ctx.class_is_keras(local)
    return ctx.keras_base_of(ctx.project_name(target)) is not None


def _drops_keywords(facts: FileFacts) -> bool:
    """A Keras class's __init__ without **kwargs and without `name`, or with **kwargs it never reads."""
    for init in _keras_inits(facts):
        args = init.node.args
        if args.kwarg is None:
            if "name" not in {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}:
                return True
        elif not any(type(n) is ast.Name and n.id == args.kwarg.arg for n in walk_own_scope(init.node.body)):
            return True
    return False


class InitDropsKwargs(_SerializationEvidence):
    """## What it does
    Flags the `__init__` of a Keras `Layer`/`Model` subclass that does not accept `**kwargs`, or
    accepts them but does not pass them on to `super().__init__(...)` — when the module contains a call
    that will fail because of it, and names that call's line:

    - the class (or a subclass that inherits or forwards to its `__init__`) is built with `name=`,
      `dtype=`, `trainable=`, `dynamic=` or `autocast=`: `TypeError` there, or, when `**kwargs` are
      accepted but dropped, the keyword is silently ignored;
    - a model that holds an instance (built in the module and reaching the model through
      `Sequential([...])`, `model.add`, a functional graph, a subclass attribute, a builder function) is
      saved to a `.keras`/`.h5` file and loaded back from the same path (literal or variable), passed to
      `clone_model`, or rebuilt with `from_config(model.get_config())`: Keras rebuilds the layer with
      `Ring(**config)`, and its config holds `name`, `trainable` and `dtype`. Measured under TF 2.21:
      Keras 3 fails there with Keras's default `get_config`; tf_keras fails only when the class's
      `get_config` extends `super().get_config()`. A `get_config` that does not call `super()` is
      read: when `__init__` accepts every key it returns, the reload works and nothing is reported.

    The class is identified by scope, not by name: two classes of the same name (in two test
    functions, in `if` branches, or a name also assigned) give no evidence. A layer that is only built
    and called, or saved without being loaded back, never meets those keywords and is not flagged:
    TFN902 (off by default) flags every such `__init__`, for library authors who want all layers
    serialisable.

    ## Why is this bad?
    Keras passes standard arguments such as `name`, `dtype` and `trainable` through the
    constructor: `MyLayer(units=3, name="head")` fails with
    `TypeError: __init__() got an unexpected keyword argument 'name'`, and so does
    `keras.models.load_model` under Keras 3, which rebuilds layers from their config (which contains
    `name`, `trainable`, `dtype`). When `**kwargs` are accepted but dropped, the name and dtype the
    user asked for are silently ignored.

    ## Example
    ```python
    class Scale(keras.layers.Layer):
        def __init__(self, factor=2.0):
            super().__init__()
            self.factor = factor

    head = Scale(3.0, name="head")
    ```

    ## Use instead
    ```python
    class Scale(keras.layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

    head = Scale(3.0, name="head")
    ```

    ## Fix safety
    **Safe**: adds `**kwargs` as the last parameter (keeping an existing `**kw` name) and passes it as
    the last argument of every `super().__init__(...)` call that reaches Keras, laid out like the other
    parameters and arguments (on a line of its own when they are one per line). Callers that worked
    before still work. No fix when no such call reaches Keras: in `class T(Mixin, keras.Model)`,
    `super().__init__(**kwargs)` calls `Mixin.__init__`, which may not accept `name=`.

    Not reported for a class that replaces `__call__` without calling the Layer's: Keras never
    constructs or calls it.

    ## Proof
    [`fixtures/TFN203/`](../fixtures/TFN203/): `before.py` fails on `MyLayer(..., name=...)`; `after.py` survives
    `model.save` + `load_model` with identical outputs under Keras 3 and tf_keras.
    """

    code = "TFN203"
    expected_errors = ('TypeError',)
    fix_kind = "safe"
    name = "init-drops-kwargs"
    summary = "Layer __init__ does not accept or forward **kwargs"

    @staticmethod
    def screen(facts: FileFacts) -> bool:
        if not _drops_keywords(facts):
            return False
        # the failure this module runs into: a base-layer keyword given, a clone or rebuild, a save loaded back
        sites = serialisation_sites(facts)
        return bool(sites & {"clone", "rebuild"}) or {"save", "load"} <= sites or constructed_with_base_keyword(facts)
    triggers = ("__init__",)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        found = self.keras_method("__init__")
        if found is None or found[0].node is not node:
            return
        method, cls = found
        if replaces_layer_protocol(cls):
            return
        var_kw = _var_keyword(node)
        supers = _super_init_calls(node, cls)
        forwarding = [c for c in supers if any(a.star == "**" and isinstance(a.value, cst.Name)
                                               and a.value.value == var_kw for a in c.args)]
        if var_kw is not None and (not supers or forwarding):
            return  # fine, or TFN204's business
        if var_kw is not None and any(isinstance(n, cst.Name) and n.value == var_kw for n in _walk_body(node.body)):
            return  # the author handles them (kwargs.pop(...), passed elsewhere)
        if var_kw is None and "name" in method.params:
            return  # `name` is handled explicitly; the author owns the constructor contract
        head = (f"{cls.name}.__init__ does not accept **kwargs" if var_kw is None else
                f"{cls.name}.__init__ accepts **{var_kw} but does not pass them to super().__init__")
        if var_kw is None:
            generic = (f"{cls.name}(..., name=...) and Keras 3 load_model fail with TypeError "
                       f"(unexpected keyword argument)")
            advice = "add **kwargs and pass them to super().__init__(**kwargs)"
        else:
            generic = "name=, dtype=, trainable= are silently dropped"
            advice = f"call super().__init__(**{var_kw})"
        kw = var_kw or "kwargs"
        # Forward only into calls that end in Keras: a non-Keras base's __init__ may not take name=/dtype=.
        targets = [c for c in supers if c not in forwarding and _reaches_keras(self.ctx, cls, c)]

        def edits(loc) -> list[Edit] | None:
            out = []
            if var_kw is None:
                params_edits = _params_with_kwargs(loc, node)
                if params_edits is None:
                    return None
                out.extend(params_edits)
            for call in targets:
                if any(a.star == "**" for a in call.args):
                    return None
                added = append_call_argument(loc, call, f"**{kw}")
                if added is None:
                    return None
                out.extend(added)
            return out

        fix = None
        if targets:
            fix = PendingFix([], safe=True, description="accept and forward **kwargs", build_edits=edits)
        self.defer(cls, node.name, head, generic, advice, fix, var_kw=var_kw, params=set(method.params))


    def failure(self, cls: ClassInfo, details: dict) -> tuple[str, tuple] | None:
        flow = self.ctx.instance_flow()
        holders = self.holders(flow, cls.node, self.keyword_receiver)
        if not holders:
            return None
        var_kw, params = details["var_kw"], details["params"]
        for call, _, built in flow.constructions():
            if built not in holders:
                continue
            keyword = next((a.keyword.value for a in call.args if a.keyword is not None
                            and a.keyword.value in _BASE_LAYER_KEYWORDS and a.keyword.value not in params), None)
            if keyword is None:
                continue
            if var_kw is None:
                return (f"{built.name.value}(..., {keyword}=...) at line {{line0}} raises TypeError "
                        f"(unexpected keyword argument '{keyword}')", (call,))
            return f"the {keyword}= given at line {{line0}} is silently dropped", (call,)
        if var_kw is not None or not self._rebuild_fails(cls, params):
            return None
        flavour = self.ctx.class_keras_flavour(cls)
        rebuilt = (f"Keras rebuilds the {cls.name} inside with {cls.name}(**config), and the config holds "
                   f"name/trainable/dtype")
        for site in flow.sites:
            if site.kind in ("clone", "rebuild") and flow.classes_in(site.model, site.scope) & holders:
                return f"{site.label} at line {{line0}} raises TypeError: {rebuilt}", (site.node,)
            if site.kind != "load":
                continue
            key = flow.path_key(site.path, site.scope)
            for save in flow.sites:
                if save.kind != "save" or not flow.classes_in(save.model, save.scope) & holders:
                    continue
                saved_as = save.save_format or flow.path_format(save.path, save.scope)
                if saved_as == "other" or (saved_as is None and flavour != "keras3"):
                    continue  # a tf_keras SavedModel directory is restored without from_config
                if flow.path_key(save.path, save.scope) == key:
                    return (f"{site.label} at line {{line0}} raises TypeError: the model saved at line {{line1}} "
                            f"holds a {cls.name}; {rebuilt}", (site.node, save.node))
        return None

    def _rebuild_fails(self, cls: ClassInfo, params: set) -> bool:
        """Does `cls.from_config(config)`, i.e. `cls(**config)`, fail for the config its get_config returns?"""
        flavour = self.ctx.class_keras_flavour(cls)
        for info in (cls, *self.ctx.local_bases(cls)):
            methods = class_methods(info)
            if "from_config" in methods:
                return False  # the author rebuilds it their own way
            if "get_config" in methods:
                get_config = methods["get_config"]
                if _extends_base_config(get_config):
                    # tf_keras's Model.get_config of a subclassed model adds nothing to extend (measured)
                    return not (flavour == "tf_keras" and self.ctx.class_is_model(cls))
                keys = literal_dict_keys(get_config)
                return keys is not None and not keys <= params
            if any(not b.startswith("local:") and b.rsplit(".", 1)[-1] not in _GENERIC_BASES for b in info.bases):
                return True  # Dense, Conv2D, ...: their get_config holds name, trainable, dtype
        # Keras's own get_config: Keras 3 puts name/trainable/dtype in it; tf_keras 2.21 rebuilds without them
        return flavour == "keras3"


class InitDropsKwargsAnyLayer(InitDropsKwargs):
    """## What it does
    The broad form of TFN203, off by default (`--select TFN902`): flags every Keras `Layer`/`Model`
    subclass whose `__init__` does not accept `**kwargs` or does not forward them to
    `super().__init__(...)`, with or without evidence in the module that the class is serialised or built
    with base-layer keywords. For library authors who want every layer usable as `MyLayer(name=...)` and
    loadable from a saved model. Where TFN203 reports the same `__init__`, only TFN203 is shown.

    ## Why is this bad?
    A layer whose constructor drops `name=`/`dtype=`/`trainable=` cannot be named, cast or frozen at
    construction, and cannot be rebuilt by `load_model` from its config (`TypeError: unexpected keyword
    argument 'name'`). Users of a library meet this as soon as they save a model that contains it.

    ## Example
    ```python
    class Scale(keras.layers.Layer):
        def __init__(self, factor=2.0):
            super().__init__()
            self.factor = factor
    ```

    ## Use instead
    ```python
    class Scale(keras.layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor
    ```

    ## Fix safety
    As TFN203: **safe**, `**kwargs` added and forwarded to every `super().__init__` call that reaches Keras.

    ## Proof
    [`fixtures/TFN902/`](../fixtures/TFN902/): `before.py` fails on `Scale(name=...)`; `after.py` is
    built with a name and round-trips through `model.save`/`load_model`.
    """

    code = "TFN902"
    name = "init-drops-kwargs-any-layer"
    summary = "any Layer __init__ that does not accept or forward **kwargs (broad form of TFN203)"
    default_enabled = False
    narrows = "TFN203"
    requires_evidence = False

    @staticmethod
    def screen(facts: FileFacts) -> bool:
        return _drops_keywords(facts)
