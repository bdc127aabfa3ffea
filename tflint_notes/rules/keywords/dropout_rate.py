"""TFN303: see the class docstring (the rule page is generated from it)."""

from __future__ import annotations

import ast
import re

import libcst as cst

from tflint_notes.analysis import canonical, is_keras_base
from tflint_notes.rule import Rule
from tflint_notes.screen import FileFacts
from tflint_notes.rules.keywords._shared import callee_text

_DROPOUT_LAYERS = ("Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "AlphaDropout",
                   "GaussianDropout")


def _literal_number(node: cst.BaseExpression) -> float | None:
    negative = False
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        negative, node = True, node.expression
    if isinstance(node, (cst.Integer, cst.Float)):
        try:
            value = float(node.evaluated_value)
        except (ValueError, TypeError):
            return None
        return -value if negative else value
    return None


def _ast_literal_number(node: ast.AST) -> float | None:
    """`_literal_number` on CPython's AST."""
    negative = type(node) is ast.UnaryOp and type(node.op) is ast.USub
    if negative:
        node = node.operand
    if type(node) is ast.Constant and type(node.value) in (int, float):
        return -float(node.value) if negative else float(node.value)
    return None


class DropoutRate(Rule):
    """## What it does
    Flags dropout rates that cannot be right: a literal rate outside [0, 1) on Keras `Dropout`
    (and `SpatialDropout1D/2D/3D`, `AlphaDropout`, `GaussianDropout`) or `tf.nn.dropout`, and
    `tf.nn.dropout(x, 0.9)` with a positional literal above 0.5 in a module that shows it came from TF1
    (`keep_prob`, `compat.v1`, `tf.Session`, `tf.placeholder`, `tf.contrib`, `tf.layers.`): in TF 2 code a
    positional 0.8 is the rate the author meant.

    ## Why is this bad?
    A rate of 1 or more, or below 0, is never what you want: depending on the layer and the Keras
    version it raises `ValueError`, silently zeroes every unit (Keras 3 `Dropout(1.0)`) or silently adds
    no noise (tf_keras `GaussianDropout(1.2)`). The
    positional case is silent: in TF1 the second argument of `tf.nn.dropout` was `keep_prob`; in TF2 it
    is `rate`, the fraction to drop. Ported code that meant "keep 90%" now drops 90% of the units.

    ## Example
    ```python
    y = tf.nn.dropout(x, 0.9)
    layer = tf.keras.layers.Dropout(1.5)
    ```

    ## Use instead
    ```python
    y = tf.nn.dropout(x, rate=0.1)
    layer = tf.keras.layers.Dropout(0.5)
    ```

    ## Fix safety
    No automatic fix: only the author knows the rate they meant.

    ## Proof
    [`fixtures/TFN303/`](../fixtures/TFN303/): `before.py` drops 90% of the units where 10% was
    meant (or raises for rates outside [0, 1)); `corrected.py` keeps the intended fraction.
    """

    code = "TFN303"
    syntactic = True
    expected_errors = ('ValueError',)
    name = "dropout-rate"
    summary = "dropout rate outside [0, 1), or TF1 keep_prob passed positionally"

    @staticmethod
    def screen(facts: FileFacts) -> bool:
        # Exact: the same callee, rate argument and literal the rule reads, on the AST.
        for c in facts.calls:
            node = c.node
            for q in facts.qualnames(node.func):
                name = canonical(q)
                if name == "tensorflow.nn.dropout":
                    position = 1
                elif is_keras_base(q) and name.rsplit(".", 1)[-1] in _DROPOUT_LAYERS:
                    position = 0
                else:
                    continue
                rate = next((k.value for k in node.keywords if k.arg == "rate"), None)
                positional = [a for a in node.args if type(a) is not ast.Starred]
                by_position = rate is None and len(positional) > position
                if by_position:
                    rate = positional[position]
                value = _ast_literal_number(rate) if rate is not None else None
                if value is None:
                    continue
                if not 0 <= value < 1:
                    return True
                if position == 1 and by_position and value > 0.5 and (
                        facts.text is None or _TF1_HERITAGE.search(facts.text)):
                    return True
        return False
    triggers = ("ropout",)

    def __init__(self, ctx, sink):
        super().__init__(ctx, sink)
        self._keep_prob_like: list = []

    def visit_Call(self, node: cst.Call) -> None:
        qual = self.ctx.resolve(node.func)
        if qual is None:
            return
        name = canonical(qual)
        last = name.rsplit(".", 1)[-1]
        if name == "tensorflow.nn.dropout":
            position = 1
        elif is_keras_base(qual) and last in _DROPOUT_LAYERS:
            position = 0
        else:
            return
        rate_arg = next((a for a in node.args if a.keyword is not None and a.keyword.value == "rate"), None)
        positional = [a for a in node.args if a.keyword is None and not a.star]
        by_position = rate_arg is None and len(positional) > position
        if by_position:
            rate_arg = positional[position]
        if rate_arg is None:
            return
        value = _literal_number(rate_arg.value)
        if value is None:
            return
        callee = callee_text(node)
        if not 0 <= value < 1:
            self.report(rate_arg, f"{callee}() rate {value:g} is outside [0, 1): the rate is the fraction of units "
                                  f"to drop; depending on the layer and Keras version this raises ValueError, drops "
                                  f"every unit, or adds no noise at all")
        elif name == "tensorflow.nn.dropout" and by_position and value > 0.5:
            self._keep_prob_like.append((rate_arg, value, self.ctx.current_top))

    def finish(self) -> None:
        # A positional 0.8 is a keep probability only in code that came from TF1; in TF 2 code it is the rate
        # the author meant (Keras's own tests drop 80% on purpose).
        if not self._keep_prob_like or not _TF1_HERITAGE.search(self.ctx.module.code):
            return
        for rate_arg, value, top in self._keep_prob_like:
            self.report(rate_arg, f"tf.nn.dropout(x, {value:g}) drops {value:.0%} of the units: the second argument "
                                  f"was keep_prob in TF1 but is rate in TF2; if you meant to keep {value:.0%}, "
                                  f"write rate={1 - value:.2g}", top=top)


_TF1_HERITAGE = re.compile(r"keep_prob|compat\.v1|tf\.Session|tf\.placeholder|tf\.contrib|tf\.layers\.")
