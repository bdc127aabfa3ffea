"""TFN301: see the class docstring (the rule page is generated from it)."""

from __future__ import annotations

import ast
import collections

import libcst as cst

from tflint_notes.analysis import canonical
from tflint_notes.keras_arguments import renamed_argument
from tflint_notes.rule import PendingFix, Replacement, Rule
from tflint_notes.screen import FileFacts
from tflint_notes.rules.keywords._shared import (
    LAYER_CALL_KEYWORDS, MODEL_METHOD_PREFIX, OPEN, accepted_keywords, callee_text, closest, edit_distance, is_super,
    own_method, signatures, tf1_keyword,
)

_LAYER_CALL = "<layer call>"  # screen key for LAYER_CALL_KEYWORDS
_FLAGGABLE: dict[tuple[str, str], bool] = {}


def _could_flag(entry: str, word: str) -> bool:
    """Would TFN301 flag `word=` on a callable accepting `entry`'s keywords?  Memoised per process."""
    key = (entry, word)
    found = _FLAGGABLE.get(key)
    if found is None:
        accepted = frozenset(LAYER_CALL_KEYWORDS) if entry == _LAYER_CALL else signatures()[entry]
        found = _FLAGGABLE[key] = word not in accepted and closest(word, accepted) is not None
    return found


def _project_keywords(facts: FileFacts) -> tuple[dict, frozenset, set]:
    """What TFN301 checks calls of project Keras classes of other modules against: ({class qualname: the
    keywords its `__init__` accepts, with the Keras base layer's where **kwargs reaches it; None when
    unknown}, every keyword their `call` accepts, (names and self attributes bound to an instance of one))."""
    found = facts.memo.get("TFN301 project")
    if found is None:
        view = facts.view
        calls = set()
        inits = {}
        for qualname, base in view.keras:
            accepted = view.keywords_of(qualname, "__init__")
            if accepted is not None and OPEN in accepted:
                accepted = (accepted - {OPEN}) | signatures().get(canonical(base), frozenset())
            inits[qualname] = accepted
            calls.update(view.keywords_of(qualname, "call") or ())
        calls.discard(OPEN)
        # names bound to an instance of one (or to such a name), attributes `self.<attr>` assigned one
        names, attributes = set(), set()
        assigns = [node for node, _ in facts.assignments if type(node) is ast.Assign]
        changed = True
        while changed:
            changed = False
            for node in assigns:
                value = node.value
                constructs = type(value) is ast.Call and not inits.keys().isdisjoint(facts.qualnames(value.func))
                if not constructs and not (type(value) is ast.Name and value.id in names):
                    continue
                for target in node.targets:
                    if type(target) is ast.Name and target.id not in names:
                        names.add(target.id)
                        changed = True
                    elif constructs and type(target) is ast.Attribute and type(target.value) is ast.Name and (
                            target.value.id == "self"):
                        attributes.add(target.attr)
        found = facts.memo["TFN301 project"] = (inits, frozenset(calls), (names, attributes))
    return found


def _keras_class_methods(facts: FileFacts) -> dict:
    """{method name: [defs]} of the file's Keras classes and of the classes of this file they derive from."""
    named: dict = {}
    for klass in facts.classes:
        named.setdefault(klass.name, []).append(klass)
    todo, seen = list(facts.keras_classes()), set()
    while todo:
        klass = todo.pop()
        if klass not in seen:
            seen.add(klass)
            todo.extend(c for b in klass.node.bases if type(b) is ast.Name for c in named.get(b.id, ()))
    return {name: [f for f in funcs if f.cls in seen] for name, funcs in facts.methods_named.items()}


def _near(word: str, names: frozenset, memo: dict) -> bool:
    """Is some other name of `names` within `closest`'s distance of `word`?  (A superset of "closest(word, A)
    is not None" for every A within `names` that lacks `word`: ties are ignored.)"""
    key = (word, id(names))
    found = memo.get(key)
    if found is None:
        found = memo[key] = any(
            name != word and abs(len(name) - len(word)) <= 2
            and edit_distance(word, name) <= (1 if min(len(name), len(word)) <= 5 else 2) for name in names)
    return found


def _near_parameter(defined, word: str, memo: dict) -> bool:
    """Is `word` not a parameter of the def `defined` but close to exactly one of them?  (Per file, the same
    methods are asked about the same keywords at every layer construction.)"""
    key = (id(defined), word)
    found = memo.get(key)
    if found is None:
        accepted = memo.get(id(defined))
        if accepted is None:
            args = defined.node.args
            accepted = memo[id(defined)] = frozenset(a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs))
        found = memo[key] = word not in accepted and closest(word, accepted) is not None
    return found


class MisspelledKeyword(Rule):
    """## What it does
    Flags a keyword argument that a TensorFlow/Keras callable does not accept when exactly one of its
    real keywords is a close spelling (edit distance 1–2, a swap of two letters counts as 1):
    `trainning`/`traning`/`trainig` → `training`, `return_sequence` → `return_sequences`,
    `activaton` → `activation`, `input_shpae` → `input_shape`, `kernel_initialiser` →
    `kernel_initializer`, `use_bais` → `use_bias`, `metric` → `metrics` on `compile`, `epoch` →
    `epochs` on `fit`.

    The accepted keywords come from a table generated from the installed TensorFlow 2.21, Keras 3
    and tf_keras (`scripts/gen_signatures.py`), covering `tf.*`, Keras layers, losses, optimizers,
    callbacks, metrics, `Model.fit/compile/evaluate/predict` and `tf.data.Dataset` methods. Calls of
    layers and models whose class is unknown (`self.dropout(x, ...)`, `model(x, ...)`) are checked
    against the keywords every layer call has: `training` and `mask`. A layer or model class of your
    module is checked against its own method: `self.pool(x, masks=m)` where `self.pool = MaskedPool()`
    is checked against `MaskedPool.call`; an attribute assigned a function or a non-Keras object is not
    checked. A Keras layer or model class of another module of the project (`from .layers import Gate`) is
    checked against its own `__init__` when constructed (`Gate(4, gate_bais=1.0)`; when its `__init__` takes
    **kwargs, those go to the Keras base layer, which rejects unknown ones) and against its own `call` when
    called. Calls of functions and classes of your own are otherwise never checked, and a keyword
    without a close match on a callable that takes `**kwargs` stays silent.

    A model that arrives as a parameter (`def train(model, ds): model.fit(ds, batch_szie=32)`) is
    checked when the module shows it is a Keras model: an annotation (`model: keras.Model`,
    `Optional[keras.Model]`), a call site of the function that passes a model or layer built in the
    module (also through another helper's parameter), or a Keras-only attribute used on it in the
    function (`compile`, `layers`, `get_layer`, `save_weights`, `train_on_batch`, ...). Without such
    evidence — a scikit-learn estimator's `fit`, a parameter annotated with another class — it
    stays silent. String annotations are not read.

    ## Why is this bad?
    Most typos fail loudly (`TypeError: ... unexpected keyword argument`), but the worst one does not:
    under Keras 3, `model(x, trainning=True)` on a `Sequential` or functional model — or on any layer
    whose `call` takes `**kwargs` — is accepted *silently* and runs in **inference** mode: dropout
    and batch-norm updates are skipped and nothing tells you.

    ## Example
    ```python
    model = tf.keras.Sequential([tf.keras.layers.Dense(8), tf.keras.layers.Dropout(0.5)])
    y = model(x, trainning=True)
    model.fit(x, y, epoch=5)
    ```

    ## Use instead
    ```python
    y = model(x, training=True)
    model.fit(x, y, epochs=5)
    ```

    ## Fix safety
    **Safe**: the keyword is renamed to the one close valid name. Code that raised now runs; the silent
    `trainning=` case now trains as written. No fix when that keyword is already passed, or when two
    keywords of the call are closest to the same name (`activaton=`, `activatio=`): renaming both would
    repeat the keyword, renaming one is a guess.

    ## Proof
    [`fixtures/TFN301/`](../fixtures/TFN301/): the Sequential `trainning=True` program returns the
    inference output under Keras 3 (no unit dropped); after the fix, dropout zeroes units and scales the
    rest by 1/(1-rate). A layer class of another module:
    [`fixtures/projects/xmod_first_party_keywords/`](../fixtures/projects/xmod_first_party_keywords/).
    """

    code = "TFN301"
    expected_errors = ('TypeError', 'ValueError')
    fix_kind = "safe"
    name = "misspelled-keyword"
    summary = "keyword argument that the TF/Keras callable does not accept, with one close valid name"

    @staticmethod
    def screen(facts: FileFacts) -> bool:
        table = signatures()
        project = _project_keywords(facts) if facts.view is not None and facts.view.keras else None
        keras_methods = None
        near: dict = {}
        near_parameters: dict = {}
        for c in facts.calls:
            node = c.node
            words = [k.arg for k in node.keywords if k.arg is not None]
            if not words:
                continue
            func = node.func
            on_super = type(func) is ast.Attribute and type(func.value) is ast.Call and (
                type(func.value.func) is ast.Name and func.value.func.id == "super")
            if project is not None and not on_super:
                inits, calls, bound = project
                # a project Keras class of another module constructed: checked against its own `__init__`
                for qualname in facts.qualnames(func) & inits.keys():
                    accepted = inits[qualname]
                    if accepted is not None and any(w not in accepted and closest(w, accepted) for w in words):
                        return True
                # an instance of one called (`gate(x, trainng=True)`, `self.gate(...)`, `Gate()(...)`,
                # `gate.call(...)`), as keras_object/self_attribute_classes can know it
                instance = (type(func) is ast.Name and func.id in bound[0]) or (
                    type(func) is ast.Call and not inits.keys().isdisjoint(facts.qualnames(func.func))) or (
                    type(func) is ast.Attribute and type(func.value) is ast.Name and (
                        (func.value.id == "self" and func.attr in bound[1])
                        or (func.attr == "call" and func.value.id in bound[0])))
                if instance and any(_near(word, calls, near) for word in words):
                    return True
            entries = [name for name in facts.canonical_names(func) if name in table]
            if type(func) is ast.Attribute:
                entries.extend(name for name in (f"tensorflow.data.Dataset.{func.attr}", MODEL_METHOD_PREFIX + func.attr)
                               if name in table)
                if type(func.value) is ast.Name and func.value.id == "self":
                    entries.append(_LAYER_CALL)
            elif type(func) is ast.Name or type(func) is ast.Call:
                entries.append(_LAYER_CALL)
            if any(_could_flag(entry, word) for entry in entries for word in words):
                return True
            if on_super:
                continue  # super().method(...): only the Keras Model table above applies
            # methods of this file's Keras classes (`gan.compile(d_optimiser=...)`, `layer(x, maskss=...)`),
            # including what their bases of this file define
            if keras_methods is None:
                keras_methods = _keras_class_methods(facts)
            method = func.attr if type(func) is ast.Attribute else "call"
            defs = list(keras_methods.get(method, ()))
            if type(func) is ast.Attribute and type(func.value) is ast.Name and func.value.id == "self":
                defs += keras_methods.get("call", ())  # self.pool(...) with self.pool = MaskedPool()
            for defined in defs:
                if any(_near_parameter(defined, word, near_parameters) for word in words):
                    return True
        return False

    # -- the check --

    def visit_Call(self, node: cst.Call) -> None:
        keywords = [a for a in node.args if a.keyword is not None]
        if not keywords:
            return
        target = self._target(node)
        if target is None:
            return
        name, accepted, describe, requires = target[:4]
        rejection = target[4] if len(target) > 4 else None  # how the callee rejects an unknown keyword
        passed = {a.keyword.value for a in keywords}
        suggestions = []
        for arg in keywords:
            word = arg.keyword.value
            if word in accepted or (name is not None and tf1_keyword(name, word) is not None):
                continue
            if name is not None and renamed_argument(name, word, accepted) is not None:
                continue  # a Keras 1/2 keyword: TFN605 knows its true replacement (dropout_U is recurrent_dropout)
            best = closest(word, accepted)
            if best is not None:
                suggestions.append((arg, word, best))
        wanted = collections.Counter(best for _, _, best in suggestions)
        for arg, word, best in suggestions:
            # Two keywords near the same name (`d_optimizer=`, `g_optimizer=`): renaming both would repeat
            # the keyword, renaming one is a guess.
            fix = None if best in passed or wanted[best] > 1 else PendingFix(
                [Replacement(arg.keyword, best)], safe=True, description=f"rename to {best}=")
            if rejection is not None:
                message = f"{describe}() has no keyword `{word}` ({rejection}); did you mean `{best}`?"
            elif name is None and not describe.startswith("a "):  # a method of a class of this module
                message = (f"{describe}() has no keyword `{word}` (TypeError when called); did you mean `{best}`?"
                           if OPEN not in accepted else
                           f"{describe}() has no keyword `{word}`: it lands in **kwargs; did you mean `{best}`?")
            elif name is None:
                message = (f"`{word}=` is not a keyword of {describe}; did you mean `{best}=`? Keras 3 "
                           f"Sequential/functional models and layers whose call takes **kwargs accept it "
                           f"silently and run in inference mode")
            elif OPEN in accepted:
                message = f"{describe}() has no keyword `{word}`; did you mean `{best}`? (rejected or silently ignored, depending on the version)"
            else:
                message = f"{describe}() has no keyword `{word}` (TypeError when called); did you mean `{best}`?"
            self.report(arg.keyword, message, fix=fix, requires_keras=requires)

    def _target(self, node: cst.Call):
        """(table name or None for a layer call, accepted keywords, how to name the callee, the condition on
        a parameter receiver or None)."""
        table = signatures()
        func = node.func
        qual = self.ctx.resolve(func)
        if qual is not None:
            name = canonical(qual)
            if name in table:
                return name, table[name], callee_text(node), None
            return self._project_constructor(qual)
        if self.ctx.view.keras and isinstance(func, (cst.Name, cst.Attribute)):
            found = self._project_constructor(self.ctx.project_name(func))  # from .layers import Gate; Gate(...)
            if found is not None:
                return found
        if isinstance(func, cst.Attribute):
            receiver, method = func.value, func.attr.value
            if self.ctx.is_dataset(receiver):
                name = f"tensorflow.data.Dataset.{method}"
                return (name, table[name], callee_text(node), None) if name in table else None
            if is_super(receiver):
                cls = self.ctx.current_class
                if cls is not None and self.ctx.class_is_model(cls) and MODEL_METHOD_PREFIX + method in table:
                    return MODEL_METHOD_PREFIX + method, table[MODEL_METHOD_PREFIX + method], callee_text(node), None
                return None
            if isinstance(receiver, cst.Attribute):
                return self._attribute_target(receiver, method, node)
            obj = self.ctx.keras_object(receiver)
            if obj is None:
                # `def train(model, ds): model.fit(ds, batch_szie=32)`: a model if the module shows it is one
                param = self.ctx.keras_param(receiver)
                if param is None or MODEL_METHOD_PREFIX + method not in table:
                    return None
                ctx = self.ctx

                def accept(found, method=method):
                    return found.kind == "model" and own_method(ctx, found.cls, method) is None

                return (MODEL_METHOD_PREFIX + method, table[MODEL_METHOD_PREFIX + method], callee_text(node),
                        (*param, accept))
            if obj.kind not in ("model", "layer"):
                return None
            if obj.project is not None:
                found = self._project_method(obj, method, obj.project.rsplit(".", 1)[-1])
                if found is not False:
                    return found
            override = own_method(self.ctx, obj.cls, method)
            if override is not None:
                # `class GAN(keras.Model): def compile(self, d_optimizer, ...)`: its own signature rules
                return None, accepted_keywords(override), f"{obj.cls.name}.{method}", None
            if obj.kind == "model" and MODEL_METHOD_PREFIX + method in table:
                return MODEL_METHOD_PREFIX + method, table[MODEL_METHOD_PREFIX + method], callee_text(node), None
            if isinstance(receiver, cst.Name) and receiver.value == "self":
                return self._attribute_target(func, "call", node)
            return None
        obj = self.ctx.keras_object(func) if isinstance(func, (cst.Name, cst.Call)) else None
        if obj is None:
            param = self.ctx.keras_param(func)
            if param is None:
                return None
            ctx = self.ctx

            def accept(found):
                return found.kind in ("model", "layer") and own_method(ctx, found.cls, "call") is None

            return None, frozenset(LAYER_CALL_KEYWORDS), f"a model call ({func.value})", (*param, accept)
        if obj.kind not in ("model", "layer"):
            return None
        if obj.project is not None:
            return self._project_method(obj, "call", obj.project.rsplit(".", 1)[-1]) or None
        call = own_method(self.ctx, obj.cls, "call")
        if call is not None:
            return None, accepted_keywords(call), f"{obj.cls.name}.call", None
        shown = func.value if isinstance(func, cst.Name) else "a layer call"
        return (None, frozenset(LAYER_CALL_KEYWORDS),
                f"a {obj.kind} call ({shown})" if isinstance(func, cst.Name) else shown, None)

    def _project_constructor(self, qualname: str | None):
        """A Keras layer or model class of another module of the project, checked against its own `__init__`
        (plus the base-layer keywords Keras takes, when it forwards **kwargs); unknown `__init__`: no check."""
        keras_base = self.ctx.view.keras_base(qualname) if qualname else None
        if keras_base is None:
            return None
        accepted = self.ctx.project_class_keywords(qualname, "__init__")
        if accepted is None:
            return None
        if OPEN not in accepted:
            return None, accepted, qualname.rsplit(".", 1)[-1], None
        # **kwargs goes on to the Keras base layer, which takes only its own keywords
        accepted = (accepted - {OPEN}) | signatures().get(canonical(keras_base), frozenset())
        return (None, accepted, qualname.rsplit(".", 1)[-1], None,
                "the Keras base layer rejects it: ValueError in Keras 3, TypeError in tf_keras")

    def _project_method(self, obj, method: str, shown: str):
        """`method` of an instance of a project Keras class of another module: its own signature when the
        project defines it (`call`), unknown (None) for other methods the project overrides."""
        if method == "call":
            accepted = self.ctx.project_class_keywords(obj.project, "call")
            return None if accepted is None else (None, accepted, f"{shown}.call", None)
        if method in (self.ctx.project_methods(obj.project) or ()):
            return None
        return False  # not overridden in the project: the Keras table applies

    def _attribute_target(self, attribute: cst.Attribute, method: str, node: cst.Call):
        """`self.pool(x, ...)` (method "call") or `self.pool.fit(...)`: what `self.pool` was assigned in the
        class decides; an unknown attribute of a Keras class is checked as a layer call."""
        if not (isinstance(attribute.value, cst.Name) and attribute.value.value == "self"):
            return None
        cls = self.ctx.current_class
        owner = self.ctx.keras_object(attribute.value)
        if cls is None:
            return None
        assigned = self.ctx.self_attribute_classes(cls, attribute.attr.value)
        if assigned is None:
            # assigned something that is not a Keras object of a known class (a helper, a NumPy array, ...)
            return None
        if assigned:
            accepted: set = set()
            for target_cls in assigned:
                if isinstance(target_cls, str):  # a Keras class of another project module
                    found = self.ctx.project_class_keywords(target_cls, method)
                    if found is None:
                        return None
                    accepted |= found
                    continue
                defined = own_method(self.ctx, target_cls, method)
                if defined is None:
                    return None  # a Keras class of this module that inherits `method`: unknown signature
                accepted |= accepted_keywords(defined)
            shown = "/".join(sorted(c if isinstance(c, str) else c.name for c in assigned))
            return None, frozenset(accepted), f"{shown}.{method}", None
        if method != "call" or owner is None or owner.kind not in ("model", "layer"):
            return None
        return None, frozenset(LAYER_CALL_KEYWORDS), f"a layer call ({callee_text(node)})", None
