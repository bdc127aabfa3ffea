"""Model-level rules (TFN5xx)."""

from __future__ import annotations

import libcst as cst

from tflint_notes.rule import Rule


class InputShapeOnModelSubclass(Rule):
    """## What it does
    Flags `input_shape=` passed to the constructor of a `keras.Model` subclass defined in the same
    module (directly or through another class of the module), unless that class's `__init__`
    declares an `input_shape` parameter itself.

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
    name = "input-shape-on-model-subclass"
    summary = "input_shape= passed to a keras.Model subclass"
    triggers = ("input_shape",)

    def __init__(self, ctx, sink):
        super().__init__(ctx, sink)
        self._calls: list[tuple[cst.Arg, str]] = []

    def visit_Call(self, node: cst.Call) -> None:
        if not isinstance(node.func, cst.Name):
            return
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value == "input_shape":
                self._calls.append((arg, node.func.value))

    def finish(self) -> None:
        # classes may be defined after the function that constructs them: decide at the end
        for arg, class_name in self._calls:
            cls = self.ctx.classes.get(class_name)
            if cls is None or not self.ctx.class_is_model(cls):
                continue
            if any(self._declares_input_shape(info) for info in (cls, *self.ctx.local_bases(cls))):
                continue
            self.report(arg, f"input_shape= passed to Model subclass {class_name}: tf_keras raises "
                             f"'Keyword argument not understood', Keras 3 silently ignores it and the model stays "
                             f"unbuilt; call model.build((None, ...)) or run it on a batch instead")

    @staticmethod
    def _declares_input_shape(cls) -> bool:
        init = cls.methods.get("__init__")
        if init is None:
            return False
        return "input_shape" in init.params
