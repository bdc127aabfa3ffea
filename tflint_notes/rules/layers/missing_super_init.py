"""TFN204: see the class docstring (the rule pages are generated from it)."""

from __future__ import annotations

import ast

import libcst as cst

from tflint_notes.analysis import ClassInfo, class_methods
from tflint_notes.results import Edit
from tflint_notes.rule import PendingFix
from tflint_notes.screen import FileFacts, walk_own_scope
from tflint_notes.rules.layers._shared import (
    _LayerRule, _comment_lead, _first_base_is_keras, _keras_inits, _params_with_kwargs, _self_attrs_assigned,
    _statements, _super_init_calls, _var_keyword, _walk_body, replaces_layer_protocol,
)


def _is_docstring(stmt: cst.CSTNode) -> bool:
    return (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1
            and isinstance(stmt.body[0], cst.Expr)
            and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString)))


def _super_init_in_helper(func: cst.FunctionDef, cls: ClassInfo) -> bool:
    """`__init__` calls `self._setup(...)`, a method of the class that calls `super().__init__` (TF Hub's
    KerasLayer does this)."""
    methods = class_methods(cls)
    for node in _walk_body(func.body):
        if (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)
                and isinstance(node.func.value, cst.Name) and node.func.value.value == "self"):
            helper = methods.get(node.func.attr.value)
            if helper is not None and helper is not func and _super_init_calls(helper, cls):
                return True
    return False


# Attributes that Layer.__init__ sets up: an __init__ that assigns them builds the layer's state itself.
_LAYER_STATE = frozenset({
    "_name", "built", "_built", "_trainable", "_trainable_weights", "_non_trainable_weights", "_layers",
    "_dtype", "_dtype_policy", "_scope", "_obj_reference_counts_dict", "_self_setattr_tracking", "_tracker",
    "_inbound_nodes", "_outbound_nodes", "_losses", "_metrics", "_updates",
})


def _manual_init(ctx, cls: ClassInfo, func: cst.FunctionDef) -> str | None:
    """Why inserting `super().__init__(**kwargs)` could change what this class deliberately does, or None."""
    if not _first_base_is_keras(ctx, cls):
        return "super() would call the first base class, which is not a Keras class"
    if any(name in class_methods(cls) for name in ("__call__", "__setattr__", "__new__")):
        return "the class replaces Layer.__call__/__setattr__ and may not use the Layer machinery"
    for node in _walk_body(func.body):
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "__init__":
            return "__init__ initialises the object through another class"
    if _self_attrs_assigned(func.body) & _LAYER_STATE:
        return "__init__ sets up the Layer state itself"
    return None


def _inits_through_ancestor(ctx, func: cst.FunctionDef) -> bool:
    """`Task.__init__(self, ...)`: the author skips the direct base on purpose and initialises through
    another class.  Unless that class is known not to be Keras (a class of this module that is not a layer,
    or a class outside the project such as `tf.Module`), the Keras state is set up there."""
    for node in _walk_body(func.body):
        if not (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)
                and node.func.attr.value == "__init__" and node.args
                and isinstance(node.args[0].value, cst.Name) and node.args[0].value.value == "self"):
            continue
        owner = node.func.value
        local = ctx.local_class(owner.value) if isinstance(owner, cst.Name) else None
        if local is not None:
            if ctx.class_is_keras(local):
                return True
            continue
        qualname = ctx.project_name(owner)
        if qualname is None or ctx.keras_base_of(qualname) is not None or qualname.split(".")[0] in ctx.first_party:
            return True  # unknown, Keras, or a class of the project (whose own __init__ may reach Keras)
    return False


class MissingSuperInit(_LayerRule):
    """## What it does
    Flags the `__init__` of a Keras `Layer`/`Model` subclass that never calls `super().__init__(...)`
    (`super(Cls, self).__init__(...)` and `Base.__init__(self, ...)` count as calls, and so does an explicit
    `Ancestor.__init__(self, ...)` of any class not known to be a non-Keras class of the module).

    ## Why is this bad?
    The Keras base class sets up the layer's name, dtype policy and weight tracking in its own
    `__init__`. Without it the layer fails as soon as it is used: Keras 3 raises
    `RuntimeError: ... you forgot to call super().__init__() as the first statement`, tf_keras raises
    `RuntimeError: You must call super().__init__() in the layer constructor.` when the layer is called or
    built; tf_keras's `serialize` fails earlier with `AttributeError: ... has no attribute '_name'`.

    ## Example
    ```python
    class Scale(keras.layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
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
    **Safe**: inserts `super().__init__(**kwargs)` as the first statement (after a docstring), adding
    `**kwargs` to the parameters if needed (the same edit TFN203 makes, so both fixes compose).

    The finding comes without a fix where the author visibly initialises the object another way, and
    the insertion would change what the class deliberately does (layer and variable names, and with
    them the checkpoints it loads): `__init__` calls another class's `__init__`
    (`tf.Module.__init__(self, ...)`), assigns the Layer's own state (`self._name`, `self.built`,
    `self._trainable_weights`, ...), the class replaces `__setattr__`/`__new__`, or its first base is
    not a Keras class (`super()` would call that base instead).

    Not reported for a class that replaces `__call__` without calling the Layer's: Keras never calls
    it, and it works without `Layer.__init__` (TF1-era code subclasses Layer for isinstance checks).

    ## Proof
    [`fixtures/TFN204/`](../fixtures/TFN204/): `before.py` raises the RuntimeError under both Keras flavours; `after.py`
    builds, saves and reloads the model with identical outputs.
    """

    code = "TFN204"
    expected_errors = ('RuntimeError', 'AttributeError')
    fix_kind = "safe"
    name = "missing-super-init"
    summary = "Layer __init__ never calls super().__init__"

    @staticmethod
    def screen(facts: FileFacts) -> bool:
        for init in _keras_inits(facts):
            if not any(type(n) is ast.Call and type(n.func) is ast.Attribute and n.func.attr == "__init__"
                       and type(n.func.value) is ast.Call and type(n.func.value.func) is ast.Name
                       and n.func.value.func.id == "super" for n in walk_own_scope(init.node.body)):
                return True
        return False
    triggers = ("__init__",)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        found = self.keras_method("__init__")
        if found is None or found[0].node is not node:
            return
        method, cls = found
        if _super_init_calls(node, cls) or _super_init_in_helper(node, cls) or replaces_layer_protocol(cls):
            return
        if _inits_through_ancestor(self.ctx, node):
            return
        kw = _var_keyword(node) or "kwargs"
        body = _statements(node)
        withheld = _manual_init(self.ctx, cls, node)

        def edits(loc) -> list[Edit] | None:
            if not body:
                return None
            out = []
            if _var_keyword(node) is None:
                params_edits = _params_with_kwargs(loc, node)
                if params_edits is None:
                    return None
                out.extend(params_edits)
            rest = body[1:] if _is_docstring(body[0]) else body
            if rest:
                anchor = rest[0]
                line = loc.first_line(anchor) - _comment_lead(anchor)[1]
                indent = loc.indent_of(loc.first_line(anchor))
                at = loc.line_start(line)
            else:  # only a docstring
                indent = loc.indent_of(loc.first_line(body[0]))
                at = loc.line_start(loc.last_line(body[0]) + 1)
            out.append(Edit(at, at, f"{indent}super().__init__(**{kw}){loc.newline}"))
            return out

        # measured under TF 2.21: calling or building raises RuntimeError in both flavours; serializing does in
        # Keras 3, while tf_keras's serialize raises AttributeError (`_name` is missing)
        call = f"super().__init__(**{kw}) first" if _var_keyword(node) is not None else (
            "super().__init__() first (the fix also accepts **kwargs and passes them on)")
        message = (f"{cls.name}.__init__ never calls super().__init__(): the layer raises when it is called, built "
                   f"or serialized (RuntimeError; AttributeError from tf_keras's serialize); call {call}")
        fix = None
        if withheld is None:
            fix = PendingFix([], safe=True, description="call super().__init__ first", build_edits=edits)
        else:
            message += f" (no automatic fix: {withheld})"
        self.report(node.name, message, fix=fix)
