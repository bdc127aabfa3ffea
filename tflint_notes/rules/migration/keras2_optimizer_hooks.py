"""TFN611 keras2-optimizer-hooks."""

from __future__ import annotations

import ast

import libcst as cst

from tflint_notes.analysis import canonical
from tflint_notes.analysis.scopes import ClassInfo, class_methods
from tflint_notes.rules.migration._shared import GuardedRule
from tflint_notes.screen import FileFacts

# The hooks Keras 2's OptimizerV2 (and the Keras 1 optimizer, `get_updates`) called; Keras 3 and the optimizers
# of TF >= 2.11 call `build()` and `update_step()` instead.
KERAS2_HOOKS = ("get_updates", "_resource_apply_dense", "_resource_apply_sparse", "_create_slots", "_prepare_local")


def optimizer_base(qualname: str) -> str | None:
    """The Keras optimizer class a base name is (`keras.optimizers.Adam`), else None.  The legacy optimizers
    (`optimizers.legacy.*`, which still call the Keras 2 hooks) and schedules are not."""
    name = canonical(qualname)
    parts = name.split(".")
    if len(parts) != 3 or parts[:2] != ["keras", "optimizers"] or not parts[2][:1].isupper():
        return None
    return name


class Keras2OptimizerHooks(GuardedRule):
    """## What it does
    Flags an optimizer class written for Keras 2 and built on a Keras 3 optimizer (`keras.optimizers.Optimizer`,
    `tf.keras.optimizers.Optimizer`, or a built-in one such as `Adam` or `SGD`, directly or through the
    module's own base classes):

    - a method of the Keras 2 optimizer API that Keras 3 never calls: `get_updates`, `_resource_apply_dense`,
      `_resource_apply_sparse`, `_create_slots`, `_prepare_local` (not flagged when the class also defines
      `update_step`, the Keras 3 hook);
    - an `__init__` whose `super().__init__(...)` gives the base `Optimizer` no `learning_rate`: the Keras 2
      call `super().__init__(name, **kwargs)`, or no learning rate at all while `__init__` takes it itself.

    The hooks are also dead under legacy Keras (tf_keras) since TF 2.11, whose `optimizers.Optimizer` is the
    new optimizer: they are flagged there too, unless the base is `optimizers.legacy.*`. The `__init__` check
    is for Keras 3 only (tf_keras's new optimizer takes `name` first).

    ## Why is this bad?
    Keras 3 applies gradients through `update_step(gradient, variable, learning_rate)` and creates slots in
    `build(var_list)`. On a built-in base (`class MySGD(keras.optimizers.SGD)` with its own
    `_resource_apply_dense`), the base's own `update_step` runs and your update rule is **silently ignored**:
    training runs, with the wrong optimizer. On the base `Optimizer`, the first `apply_gradients` raises
    `NotImplementedError`. Keras 3's `Optimizer.__init__` takes `learning_rate` first: `super().__init__(name)`
    passes the name as the learning rate (`ValueError: Argument `learning_rate` should be float ...`) and
    `super().__init__(name=name)` raises `TypeError: ... missing 1 required positional argument:
    'learning_rate'`.

    ## Example
    ```python
    class ScaledSGD(keras.optimizers.SGD):
        def _resource_apply_dense(self, grad, var, apply_state=None):
            return var.assign_sub(0.5 * self.learning_rate * grad)
    ```

    ## Use instead
    ```python
    class ScaledSGD(keras.optimizers.SGD):
        def update_step(self, gradient, variable, learning_rate):
            variable.assign_sub(0.5 * learning_rate * gradient)
    ```

    ## Fix safety
    No fix: the update rule has to be rewritten for `update_step` (and slot variables created in `build()`
    with `self.add_variable_from_reference`). The message says so.

    ## Proof
    [`fixtures/TFN611/`](../fixtures/TFN611/): the built-in-base case trains with the base's update (the
    program's own assertion on the updated values fails) and the base-`Optimizer` cases raise under Keras 3;
    `corrected.py` programs with `update_step` run under Keras 3.
    """

    code = "TFN611"
    fix_kind = "none"
    name = "keras2-optimizer-hooks"
    summary = "Keras 2 optimizer hooks (_resource_apply_dense, get_updates, ...) that Keras 3 never calls"
    triggers = ("optimizers", "Optimizer")
    expected_errors = ("TypeError", "ValueError", "NotImplementedError")
    fails_from = (2, 11)

    @staticmethod
    def screen(facts: FileFacts) -> bool:
        optimizers: set = set()  # classes of the file built on a Keras optimizer, directly or through each other
        changed = True
        while changed:
            changed = False
            for klass in facts.classes:
                if klass.name not in optimizers and any(
                        (type(base) is ast.Name and base.id in optimizers)
                        or any(optimizer_base(name) for name in facts.canonical_names(base)) for base in klass.node.bases):
                    optimizers.add(klass.name)
                    changed = True
        for klass in facts.classes:
            if klass.name not in optimizers:
                continue
            if any(hook in klass.methods for hook in KERAS2_HOOKS):
                return True
            if "__init__" in klass.methods and any(
                    name.endswith(".Optimizer") for base in klass.node.bases for name in facts.canonical_names(base)):
                return True
        return False

    def __init__(self, ctx, sink):
        super().__init__(ctx, sink)
        self._init_checked: set = set()  # classes whose __init__ must give the base Optimizer a learning rate

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        cls = self.ctx.innermost_class
        if cls is None or cls.node is not node or self.guarded:
            return
        found = self._optimizer_base(cls)
        if found is None:
            return
        base, flavour, direct = found
        shown = base.rsplit(".", 1)[-1]
        methods = class_methods(cls)
        if not any("update_step" in class_methods(info) for info in (cls, *self.ctx.local_bases(cls))):
            for hook in KERAS2_HOOKS:
                if hook in methods:
                    self.report(methods[hook].name, self._hook_message(hook, shown, flavour))
        if direct and shown == "Optimizer" and flavour == "keras3":
            self._init_checked.add(cls)

    def visit_Call(self, node: cst.Call) -> None:
        func = self.ctx.current_function
        if (func is None or func.name != "__init__" or func.cls not in self._init_checked
                or not _is_super_init(node) or self.guarded):
            return
        self._check_super_init(node, func.node)

    def _optimizer_base(self, cls: ClassInfo) -> tuple[str, str, bool] | None:
        """(the Keras optimizer class it builds on, its flavour, whether it is a direct base of `cls`)."""
        for info in (cls, *self.ctx.local_bases(cls)):
            for base in info.bases:
                if base.startswith("local:"):
                    continue
                found = optimizer_base(base)
                if found is not None:
                    return found, self.ctx.keras_flavour(base), info is cls
        return None

    @staticmethod
    def _hook_message(hook: str, base: str, flavour: str) -> str:
        keras = "Keras 3" if flavour == "keras3" else "Keras since TF 2.11 (tf_keras's new optimizers too)"
        if base == "Optimizer":
            what = "the first apply_gradients raises NotImplementedError (update_step is not implemented)"
        else:
            what = f"{base}'s own update runs and this code is silently ignored"
        return (f"{hook}() is a Keras 2 optimizer hook that {keras} never calls: {what}; implement "
                f"update_step(gradient, variable, learning_rate), with slot variables created in build(var_list)")

    def _check_super_init(self, node: cst.Call, init: cst.FunctionDef) -> None:
        if any(a.keyword is not None and a.keyword.value == "learning_rate" for a in node.args):
            return
        if any(a.star == "*" for a in node.args):
            return  # the learning rate may be in there
        positional = [a for a in node.args if a.keyword is None and not a.star]
        if positional:
            first = positional[0].value
            if isinstance(first, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)) or (
                    isinstance(first, cst.Name) and first.value == "name"):
                self.report(node, "super().__init__(name, ...) is Keras 2's order: Keras 3's Optimizer takes "
                                  "learning_rate first (ValueError: Argument `learning_rate` should be float ...); "
                                  "call super().__init__(learning_rate=learning_rate, name=name, ...) and implement "
                                  "update_step()/build()")
            return
        params = init.params
        own = {p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)}
        if any(a.star == "**" for a in node.args) and not own & {"learning_rate", "lr"}:
            return  # **kwargs may carry the learning rate from the caller
        self.report(node, "super().__init__() without learning_rate: Keras 3's Optimizer requires it (TypeError: "
                          "missing 1 required positional argument: 'learning_rate'); pass learning_rate=... and "
                          "implement update_step()/build()")


def _is_super_init(call: cst.Call) -> bool:
    func = call.func
    return (isinstance(func, cst.Attribute) and func.attr.value == "__init__" and isinstance(func.value, cst.Call)
            and isinstance(func.value.func, cst.Name) and func.value.func.value == "super")
