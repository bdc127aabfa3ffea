"""Model-level rules (TFN5xx)."""

from __future__ import annotations

import ast

import libcst as cst

from tflint_notes.analysis import argument_keys, canonical, names_bound_by_target
from tflint_notes.fixes import append_call_argument
from tflint_notes.rule import PendingFix, Rule
from tflint_notes.screen import FileFacts


class InputShapeOnModelSubclass(Rule):
    """## What it does
    Flags `input_shape=` passed to the constructor of a `keras.Model` subclass defined in the same
    module (directly or through another class of the module) or in another module of the project
    (`from .models import Classifier`), unless that class's `__init__` declares an `input_shape`
    parameter itself.

    ## Why is this bad?
    `input_shape` is understood by layers and by `Sequential`, not by `Model`. Legacy tf_keras
    raises `TypeError: ('Keyword argument not understood:', 'input_shape')`; Keras 3 accepts it
    *silently* and ignores it, so the model stays unbuilt (no weights, `summary()` fails) although
    the code says otherwise.

    ## Example
    ```python
    class Classifier(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = keras.layers.Dense(10)
        def call(self, x):
            return self.dense(x)

    model = Classifier(input_shape=(784,))
    ```

    ## Use instead
    ```python
    model = Classifier()
    model.build((None, 784))  # or call it on a batch
    ```

    ## Fix safety
    No automatic fix: where the model gets built depends on the program.

    ## Proof
    [`fixtures/TFN504/`](../fixtures/TFN504/): `before.py` raises under tf_keras and leaves an unbuilt model under Keras 3;
    `corrected.py` builds it explicitly.
    """

    code = "TFN504"
    expected_errors = ('TypeError',)
    name = "input-shape-on-model-subclass"
    summary = "input_shape= passed to a keras.Model subclass"

    @staticmethod
    def screen(facts: FileFacts) -> bool:
        classes = facts.module_class_names()
        project = facts.view is not None and bool(facts.view.keras)  # Model subclasses of other project modules
        return any(type(c.node.func) is ast.Name and (project or c.node.func.id in classes)
                   and any(k.arg == "input_shape" for k in c.node.keywords) for c in facts.calls)
    triggers = ("input_shape",)

    def __init__(self, ctx, sink):
        super().__init__(ctx, sink)
        self._calls: list[tuple[cst.Arg, str]] = []

    def visit_Call(self, node: cst.Call) -> None:
        if not isinstance(node.func, cst.Name):
            return
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value == "input_shape":
                project = self.ctx.project_name(node.func) if self.ctx.view.keras else None
                self._calls.append((arg, node.func.value, project))

    def finish(self) -> None:
        # classes may be defined after the function that constructs them: decide at the end
        for arg, class_name, project in self._calls:
            cls = self.ctx.local_class(class_name)
            if cls is None and project is not None and self.ctx.is_model_base(project):
                # a Model subclass of another project module: its own __init__ may take input_shape
                accepted = self.ctx.project_class_keywords(project, "__init__")
                if accepted is None or "input_shape" not in accepted:
                    self.report(arg, self._message(class_name))
                continue
            if cls is None or not self.ctx.class_is_model(cls):
                continue
            if any(self._declares_input_shape(info) for info in (cls, *self.ctx.local_bases(cls))):
                continue
            self.report(arg, self._message(class_name))

    @staticmethod
    def _message(class_name: str) -> str:
        return (f"input_shape= passed to Model subclass {class_name}: tf_keras raises 'Keyword argument not "
                f"understood', Keras 3 silently ignores it and the model stays unbuilt; call model.build((None, "
                f"...)) or run it on a batch instead")

    @staticmethod
    def _declares_input_shape(cls) -> bool:
        init = cls.methods.get("__init__")
        if init is None:
            return False
        return "input_shape" in init.params


# --- shared: what is known about model objects in one scope -----------------------------------

_RNN_RANK_LAYERS = ("LSTM", "GRU", "SimpleRNN", "Conv1D")
_RNN_LAYERS = ("LSTM", "GRU", "SimpleRNN", "Conv1D", "ConvLSTM1D_", "Bidirectional_")
_SOFTMAX = ("softmax",)


def _keras_layer_name(ctx, call: cst.BaseExpression) -> str | None:
    """`Dense` for `tf.keras.layers.Dense(...)` (any import form), else None."""
    if not isinstance(call, cst.Call):
        return None
    qual = ctx.resolve(call.func)
    if qual is None:
        return None
    q = canonical(qual)
    if not q.startswith("keras."):
        return None
    return q.rsplit(".", 1)[-1]


def _activation_of(ctx, layer: cst.BaseExpression) -> str | None:
    """'softmax' / 'linear' / other for a layer constructor call; None if unknown."""
    name = _keras_layer_name(ctx, layer)
    if name is None:
        return None
    if name == "Softmax":
        return "softmax"
    if name == "Activation" and layer.args:
        return _activation_value(ctx, layer.args[0].value)
    for arg in layer.args:
        if arg.keyword is not None and arg.keyword.value == "activation":
            return _activation_value(ctx, arg.value)
    if name in ("Dense", "Conv1D", "Conv2D", "Conv3D", "EinsumDense"):
        return "linear"
    return None


def _activation_value(ctx, value: cst.BaseExpression) -> str | None:
    if isinstance(value, cst.SimpleString):
        return value.evaluated_value.lower()
    if isinstance(value, cst.Name) and value.value == "None":
        return "linear"
    qual = ctx.resolve(value)
    if qual is not None:
        return qual.rsplit(".", 1)[-1].lower()
    return None


def _from_logits(ctx, loss: cst.BaseExpression) -> cst.Arg | None:
    """The `from_logits=True` argument of a loss constructor call."""
    if not isinstance(loss, cst.Call) or ctx.resolve(loss.func) is None:
        return None
    for arg in loss.args:
        if arg.keyword is not None and arg.keyword.value == "from_logits":
            if isinstance(arg.value, cst.Name) and arg.value.value == "True":
                return arg
    return None


class _ModelFacts(Rule):
    """Per-scope facts about Keras model objects, in statement order."""

    def __init__(self, ctx, sink):
        super().__init__(ctx, sink)
        self._facts: dict = {}

    def facts(self) -> dict:
        return self._facts.setdefault(self.ctx.current_function, {})

    def forget(self, names) -> None:
        facts = self.facts()
        for name in names:
            facts.pop(name, None)


# keras.applications models without BatchNormalization (ConvNeXt normalises with LayerNormalization): a frozen
# one behaves the same with or without training=False.
_WITHOUT_BATCH_NORM = frozenset({
    "VGG16", "VGG19", "ConvNeXtTiny", "ConvNeXtSmall", "ConvNeXtBase", "ConvNeXtLarge", "ConvNeXtXLarge",
})


class FrozenBaseTrainingMode(_ModelFacts):
    """## What it does
    Flags a call of a pretrained model — from `keras.applications.*` or `keras.models.load_model`
    — whose `.trainable` was set to `False`, when the call does not pass `training=False`. Not for the
    applications without BatchNormalization (VGG16, VGG19, ConvNeXt*): training mode changes nothing there.

    ## Why is this bad?
    The Keras transfer-learning guide's warning: a frozen base built into a new model without
    `training=False` runs its BatchNormalization layers in training mode as soon as you unfreeze it for
    fine-tuning. The layers then update their moving mean and variance with the statistics of your
    small dataset and wreck the pretrained features — accuracy drops instead of improving, and
    nothing reports an error.

    ## Example
    ```python
    base = keras.applications.MobileNetV2(include_top=False, weights="imagenet")
    base.trainable = False
    x = base(inputs)
    ```

    ## Use instead
    ```python
    x = base(inputs, training=False)
    ```

    ## Fix safety
    **Safe**: adds `training=False` to the call. The frozen base behaves exactly as before; after
    unfreezing, BatchNormalization keeps using its pretrained statistics, as the guide recommends.

    **Known limitation (Keras 3):** in a Keras 3 functional model trained with `fit`/`train_on_batch`,
    the outer `training=True` currently overrides the `training=False` recorded on the call
    (keras-team/keras#20285), so the statistics still move. The fixture proves the fix under tf_keras
    and records the Keras 3 behaviour; under Keras 3 also keep the BatchNormalization layers frozen
    (`layer.trainable = False`) when fine-tuning.

    ## Proof
    [`fixtures/TFN501/`](../fixtures/TFN501/): after unfreezing and one training step, the moving mean
    moved in `before.py` and is unchanged in `after.py`.
    """

    code = "TFN501"
    fix_kind = "safe"
    name = "frozen-base-training-mode"
    summary = "frozen pretrained model called without training=False"

    @staticmethod
    def screen(facts: FileFacts) -> bool:
        for node, _ in facts.assignments:
            if (type(node) is ast.Assign and type(node.value) is ast.Constant and node.value.value is False
                    and any(type(t) is ast.Attribute and t.attr == "trainable" and type(t.value) is ast.Name
                            for t in node.targets)):
                return True
        return False
    triggers = ("trainable",)

    def leave_Assign(self, node: cst.Assign) -> None:
        facts = self.facts()
        for target in node.targets:
            t = target.target
            if isinstance(t, cst.Attribute) and t.attr.value == "trainable" and isinstance(t.value, cst.Name):
                fact = facts.get(t.value.value)
                if fact is not None and isinstance(node.value, cst.Name) and node.value.value == "False":
                    fact["frozen"] = True
                continue
            names = list(names_bound_by_target(t))
            self.forget(names)
            if len(names) == 1 and isinstance(node.value, cst.Call):
                qual = self.ctx.resolve(node.value.func)
                q = canonical(qual) if qual else ""
                if q.startswith("keras.applications.") and q.rsplit(".", 1)[-1] in _WITHOUT_BATCH_NORM:
                    continue  # nothing for training=False to protect: the base has no BatchNormalization
                if q.startswith("keras.applications.") or q in ("keras.models.load_model", "keras.saving.load_model"):
                    facts[names[0]] = {"frozen": False}

    def visit_Call(self, node: cst.Call) -> None:
        if not isinstance(node.func, cst.Name):
            return
        fact = self.facts().get(node.func.value)
        if fact is None or not fact["frozen"]:
            return
        if any(a.keyword is not None and a.keyword.value == "training" for a in node.args) or not node.args:
            return
        fix = PendingFix([], safe=True, description="pass training=False",
                         build_edits=lambda loc: append_call_argument(loc, node, "training=False"))
        self.report(node, f"{node.func.value} is a frozen pretrained model called without training=False: once "
                          f"unfrozen for fine-tuning its BatchNormalization layers update their statistics and wreck "
                          f"the pretrained features; call {node.func.value}(..., training=False)", fix=fix)


class RnnInputShapeRank(Rule):
    """## What it does
    Flags a literal `input_shape=` on `LSTM`, `GRU`, `SimpleRNN` or `Conv1D` whose length is not 2.

    ## Why is this bad?
    These layers take 3-D input `(batch, timesteps, features)`, and `input_shape` excludes the batch:
    it must be `(timesteps, features)` (`(None, features)` for variable length). `input_shape=(10,)`
    (features missing) or `input_shape=(32, 10, 8)` (batch included) fails when the model is built:
    `ValueError: Input 0 of layer "lstm" is incompatible with the layer: expected ndim=3, found ndim=2`.

    ## Example
    ```python
    model = keras.Sequential([keras.layers.LSTM(16, input_shape=(10,))])
    ```

    ## Use instead
    ```python
    model = keras.Sequential([keras.Input((10, 1)), keras.layers.LSTM(16)])
    ```

    ## Fix safety
    No automatic fix: only the author knows which dimension is missing.

    ## Proof
    [`fixtures/TFN502/`](../fixtures/TFN502/): `before.py` raises the ndim ValueError; `corrected.py`
    builds and runs.
    """

    code = "TFN502"
    expected_errors = ('ValueError',)
    name = "rnn-input-shape-rank"
    summary = "input_shape of the wrong rank on an RNN/Conv1D layer"

    @staticmethod
    def screen(facts: FileFacts) -> bool:
        for c in facts.calls:
            if any(k.arg == "input_shape" and type(k.value) in (ast.Tuple, ast.List) for k in c.node.keywords) and any(
                    q.rsplit(".", 1)[-1] in _RNN_RANK_LAYERS for q in facts.qualnames(c.node.func)):
                return True
        return False
    triggers = ("input_shape",)

    def visit_Call(self, node: cst.Call) -> None:
        name = _keras_layer_name(self.ctx, node)
        if name not in _RNN_RANK_LAYERS:
            return
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value == "input_shape" and isinstance(
                    arg.value, (cst.Tuple, cst.List)):
                rank = len(arg.value.elements)
                if rank != 2:
                    self.report(arg, f"{name}(input_shape=...) has {rank} dimension(s): it must be (timesteps, "
                                     f"features), batch excluded; the layer raises an 'expected (min_)ndim=3' "
                                     f"ValueError when built")


class SoftmaxWithFromLogits(_ModelFacts):
    """## What it does
    Flags a loss with `from_logits=True` compiled onto a model of the same module whose last layer
    applies a softmax: `Dense(..., activation="softmax")`, `Activation("softmax")` or `Softmax()`, in a
    `Sequential([...])` list, via `model.add(...)`, or as the output of a functional
    `Model(inputs, outputs)`. The model may be built in the same function, or in another function of
    the module that returns it (`model = build_model()`), or be passed to the function that compiles it
    (`def train(model): model.compile(...)` called as `train(build_model())` or `train(model)`).

    ## Why is this bad?
    `from_logits=True` tells the loss to apply the softmax itself. Applied to probabilities, the
    softmax is applied twice: the gradients are squashed, training is slow and ends at a visibly worse
    loss. Keras notices the common spellings (`activation="softmax"`, `Softmax()`) in graph mode, warns
    ("received `from_logits=True`, but the `output` argument was produced by a Softmax activation")
    and recovers the logits; with a callable such as `tf.nn.softmax` in eager mode
    (`run_eagerly=True`), or with losses it does not special-case, the damage is silent. Either way the
    model and the loss disagree about what the output is.

    ## Example
    ```python
    model = keras.Sequential([keras.layers.Dense(10, activation="softmax")])
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    ```

    ## Use instead
    ```python
    model = keras.Sequential([keras.layers.Dense(10)])
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    ```
    (or keep the softmax and use `from_logits=False`).

    ## Fix safety
    No automatic fix: either side may be the one to change.

    ## Proof
    [`fixtures/TFN503/`](../fixtures/TFN503/): on the same data and seed, `before.py` trains to a worse
    loss than `corrected.py`.
    """

    code = "TFN503"
    name = "softmax-with-from-logits"
    summary = "from_logits=True loss on a model whose last layer is a softmax"

    @staticmethod
    def screen(facts: FileFacts) -> bool:
        if facts.text is not None and "oftmax" not in facts.text:
            return False  # no softmax (`"softmax"`, `Softmax()`, `tf.nn.softmax`) for the last layer to apply
        return any(k.arg == "from_logits" and type(k.value) is ast.Constant and k.value.value is True
                   for c in facts.calls for k in c.node.keywords)
    triggers = ("from_logits",)

    def __init__(self, ctx, sink):
        super().__init__(ctx, sink)
        self._returns: dict = {}  # module function name -> facts of what each of its `return`s gives
        self._modified: set = set()  # (function, parameter) whose layers the function changes (add/pop)
        self._passed: list = []  # (callee name, position or keyword, fact or ("call", function name))
        self._pending: list = []  # compiles whose model is known only after the traversal

    def _model_fact(self, value: cst.BaseExpression) -> dict | None:
        """The model fact of an expression: a tracked name, a Sequential built inline, or None."""
        if isinstance(value, cst.Name):
            fact = self.facts().get(value.value)
            return fact if fact is not None and fact.get("kind") in ("model", "returned") else None
        if isinstance(value, cst.Call):
            if isinstance(value.func, cst.Name) and self.ctx.resolve(value.func) is None:
                return {"kind": "returned", "function": value.func.value}
            return self._sequential_fact(value)
        return None

    def _sequential_fact(self, value: cst.Call) -> dict | None:
        """`Sequential([..., last])`: a model whose last activation is known; `Sequential()`: unknown."""
        if _keras_layer_name(self.ctx, value) != "Sequential":
            return None
        if value.args and isinstance(value.args[0].value, cst.List):
            elements = value.args[0].value.elements
            return {"kind": "model", "last": _activation_of(self.ctx, elements[-1].value) if elements else None}
        return {"kind": "model", "last": None}

    def leave_Return(self, node: cst.Return) -> None:
        func = self.ctx.current_function
        if func is None or func.parent is not None or func.cls is not None or node.value is None:
            return
        fact = self._model_fact(node.value)
        self._returns.setdefault(func.name, []).append(dict(fact) if fact is not None else None)

    def _resolved(self, fact: dict | None, _depth: int = 0) -> dict | None:
        """A model fact through builder functions: softmax only if every `return` of the builder gives a
        softmax model (`def build(probabilities=True)` with two returns is unknown)."""
        if fact is None or fact.get("kind") != "returned":
            return fact
        if _depth > 10:
            return None
        returns = [self._resolved(f, _depth + 1) for f in self._returns.get(fact["function"], ())]
        if returns and all(r is not None and r.get("kind") == "model" and r.get("last") == "softmax" for r in returns):
            return returns[0]
        return None

    def leave_Assign(self, node: cst.Assign) -> None:
        names = [n for t in node.targets for n in names_bound_by_target(t.target)]
        self.forget(names)
        if len(names) != 1:
            return
        facts = self.facts()
        value = node.value
        name = names[0]
        if (isinstance(value, cst.Call) and isinstance(value.func, cst.Name) and not value.args
                and self.ctx.resolve(value.func) is None and self.ctx.local_class(value.func.value) is None):
            facts[name] = {"kind": "returned", "function": value.func.value}  # model = build_model()
            return
        if _from_logits(self.ctx, value) is not None:
            facts[name] = {"kind": "loss", "arg": _from_logits(self.ctx, value)}
            return
        layer_name = _keras_layer_name(self.ctx, value)
        if layer_name == "Sequential":
            facts[name] = self._sequential_fact(value)
        elif layer_name in ("Model", "Functional") and len(value.args) >= 2:
            outputs = next((a.value for a in value.args if a.keyword is not None and a.keyword.value == "outputs"),
                           value.args[1].value if value.args[1].keyword is None else None)
            if isinstance(outputs, cst.Name) and facts.get(outputs.value, {}).get("kind") == "tensor":
                facts[name] = {"kind": "model", "last": facts[outputs.value]["activation"]}
        elif isinstance(value, cst.Call) and isinstance(value.func, cst.Call):
            activation = _activation_of(self.ctx, value.func)
            if activation is not None:
                facts[name] = {"kind": "tensor", "activation": activation}

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Name):
            self._record_passed(node, func.value)
            return
        if not (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name)):
            return
        fact = self.facts().get(func.value.value)
        if fact is not None and fact.get("kind") == "model" and func.attr.value == "add" and node.args:
            fact["last"] = _activation_of(self.ctx, node.args[0].value)
            return
        if func.attr.value in ("add", "pop"):
            # a model built elsewhere whose layers change here: its last layer is no longer known
            if fact is not None:
                self.facts()[func.value.value] = {"kind": "changed"}
            else:
                param = self.ctx.keras_param(func.value)
                if param is not None:
                    self._modified.add(param)
            return
        if func.attr.value != "compile":
            return
        loss = next((a.value for a in node.args if a.keyword is not None and a.keyword.value == "loss"),
                    node.args[1].value if len(node.args) > 1 and node.args[1].keyword is None else None)
        if loss is None:
            return
        arg = _from_logits(self.ctx, loss)
        if arg is None and isinstance(loss, cst.Name):
            loss_fact = self.facts().get(loss.value)
            arg = loss_fact["arg"] if loss_fact and loss_fact.get("kind") == "loss" else None
        if arg is None:
            return
        if fact is None:
            param = self.ctx.keras_param(func.value)
            if param is not None:
                self._pending.append((arg, func.value.value, None, param, self.ctx.current_top))
            return
        if fact.get("kind") == "returned":
            self._pending.append((arg, func.value.value, fact, None, self.ctx.current_top))
        elif fact.get("kind") == "model" and fact.get("last") == "softmax":
            self._report(arg, func.value.value)

    def _record_passed(self, node: cst.Call, callee: str) -> None:
        if self.ctx.resolve(node.func) is not None:
            return
        for key, arg in argument_keys(node.args):
            fact = self._model_fact(arg.value)
            if fact is not None:
                self._passed.append((callee, key, dict(fact)))

    def finish(self) -> None:
        for arg, shown, fact, param, top in self._pending:
            if param is not None:
                if param in self._modified:
                    continue
                func, name = param
                if func.parent is not None or func.cls is not None or name not in func.params:
                    continue
                index = func.params.index(name)
                facts = [self._resolved(f) for callee, key, f in self._passed
                         if callee == func.name and key in (name, index)]
                fact = facts[0] if facts and all(f is not None and f.get("last") == "softmax" for f in facts) else None
            else:
                fact = self._resolved(fact)
            if fact is not None and fact.get("kind") == "model" and fact.get("last") == "softmax":
                self._report(arg, shown, top)

    def _report(self, arg: cst.Arg, shown: str, top=None) -> None:
        self.report(arg, f"from_logits=True, but the last layer of {shown} already applies softmax: "
                         f"the loss treats probabilities as logits (Keras warns and patches the common cases; "
                         f"otherwise training is silently worse); drop the softmax or use from_logits=False",
                    top=top)
