"""TFN203 and TFN902: see the class docstrings (the rule pages are generated from them)."""

from __future__ import annotations

import ast

import libcst as cst

from tflint_notes.analysis import ClassInfo
from tflint_notes.fixes import append_call_argument
from tflint_notes.results import Edit
from tflint_notes.rule import PendingFix
from tflint_notes.screen import FileFacts, walk_own_scope
from tflint_notes.rules.layers._shared import (
    _SerializationEvidence, _first_base_is_keras, _keras_inits, _params_with_kwargs, _super_init_calls,
    _var_keyword, _walk_body, replaces_layer_protocol,
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


class InitDropsKwargs(_SerializationEvidence):
    """## What it does
    Flags the `__init__` of a Keras `Layer`/`Model` subclass that does not accept `**kwargs`, or
    accepts them but does not pass them on to `super().__init__(...)` — when the module shows that the
    class will meet those keywords: it is registered (`@register_keras_serializable`) or passed in
    `custom_objects=`, it defines `from_config` or a `get_config` that extends `super().get_config()`
    (whose `name`/`trainable`/`dtype` the default `from_config` passes back to `__init__`), it is built
    with `name=`/`dtype=`/`trainable=` in the module, or the module saves or rebuilds models
    (`model.save(...)`, `save_model`, `load_model`, `ModelCheckpoint`, `clone_model`, `from_config`,
    `model_from_json`). A layer that is only built and
    called, as most test and example layers are, never receives them and is not flagged: TFN902 (off by
    default) flags every such `__init__`, for library authors who want all layers serialisable.

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
        for init in _keras_inits(facts):
            args = init.node.args
            if args.kwarg is None:
                if "name" not in {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}:
                    return True
            elif not any(type(n) is ast.Name and n.id == args.kwarg.arg for n in walk_own_scope(init.node.body)):
                return True
        return False
    triggers = ("__init__",)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        super().visit_FunctionDef(node)
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
        if var_kw is None:
            message = (f"{cls.name}.__init__ does not accept **kwargs: {cls.name}(..., name=...) and Keras 3 "
                       f"load_model fail with 'unexpected keyword argument'; add **kwargs and pass them to "
                       f"super().__init__(**kwargs)")
        else:
            message = (f"{cls.name}.__init__ accepts **{var_kw} but does not pass them to super().__init__: "
                       f"name=, dtype=, trainable= are silently dropped; call super().__init__(**{var_kw})")
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
        self.defer(cls, node.name, message, fix)


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
