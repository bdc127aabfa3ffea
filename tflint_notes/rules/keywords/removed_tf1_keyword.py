"""TFN302: see the class docstring (the rule page is generated from it)."""

from __future__ import annotations


import libcst as cst

from tflint_notes.analysis import canonical
from tflint_notes.rule import PendingFix, Replacement, Rule
from tflint_notes.screen import FileFacts, keyword_names
from tflint_notes.rules.keywords._shared import TF1_KEYWORDS, callee_text, tf1_keyword, without_arg

class RemovedTF1Keyword(Rule):
    """## What it does
    Flags keyword arguments that TensorFlow 1 accepted and TensorFlow 2 removed, on the functions
    that had them: `keep_dims` (→ `keepdims`) and `reduction_indices` (→ `axis`) on `tf.reduce_*`,
    `dim` (→ `axis`) on `tf.nn.softmax`/`log_softmax`/`softmax_cross_entropy_with_logits` and
    `tf.expand_dims`, `dimension` (→ `axis`) on `tf.argmax`/`tf.argmin`, `keep_prob`
    (→ `rate=1 - keep_prob`) on `tf.nn.dropout`, and `validate_indices` (a no-op) on
    `tf.nn.embedding_lookup`/`tf.gather`. `tf.compat.v1.*` calls are not flagged, nor projects that declare
    TensorFlow 1 (`tensorflow<2`), where these keywords exist.

    ## Why is this bad?
    TF1 code copied into a TF2 program fails with `TypeError: Got an unexpected keyword argument
    'keep_dims'`. `keep_prob` is the dangerous one to fix by hand: TF2's `rate` is the fraction to
    *drop*, so `keep_prob=0.8` must become `rate=0.2`, not `rate=0.8`.

    ## Example
    ```python
    total = tf.reduce_sum(x, reduction_indices=1, keep_dims=True)
    y = tf.nn.dropout(x, keep_prob=0.8)
    ```

    ## Use instead
    ```python
    total = tf.reduce_sum(x, axis=1, keepdims=True)
    y = tf.nn.dropout(x, rate=1 - 0.8)
    ```

    ## Fix safety
    **Safe**: the renames are exact; `keep_prob=p` becomes `rate=1 - p` (parenthesised when needed);
    `validate_indices=...` is removed (TF2 ignores it). No fix when the TF2 keyword is already passed.

    ## Proof
    [`fixtures/TFN302/`](../fixtures/TFN302/): each `before.py` raises the TypeError; each `after.py`
    computes the values the TF1 code meant.
    """

    code = "TFN302"
    syntactic = True
    expected_errors = ('TypeError',)
    fails_from = (2, 0)  # TF1 projects (tensorflow<2) still have these keywords
    fix_kind = "safe"
    name = "removed-tf1-keyword"
    summary = "TF1 keyword argument removed in TF2"

    @staticmethod
    def screen(facts: FileFacts) -> bool:
        for c in facts.calls:
            for word in keyword_names(c.node):
                if word in TF1_KEYWORDS and not facts.canonical_names(c.node.func).isdisjoint(TF1_KEYWORDS[word][1]):
                    return True
        return False
    triggers = tuple(TF1_KEYWORDS)

    def visit_Call(self, node: cst.Call) -> None:
        keywords = [a for a in node.args if a.keyword is not None and a.keyword.value in TF1_KEYWORDS]
        if not keywords:
            return
        qual = self.ctx.resolve(node.func)
        if qual is None:
            return
        name = canonical(qual)
        passed = {a.keyword.value for a in node.args if a.keyword is not None}
        for arg in keywords:
            old = arg.keyword.value
            found = tf1_keyword(name, old)
            if found is None:
                continue
            new, still_accepted = found
            callee = callee_text(node)
            if new is None:
                if still_accepted:
                    message = f"{callee}(validate_indices=...) is a no-op since TF 2 (deprecated); remove it"
                else:
                    message = f"{callee}() has no `validate_indices` in TF 2 (TypeError); remove it (it was a no-op)"
                fix = PendingFix([Replacement(node, without_arg(node, arg))], safe=True,
                                 description="remove validate_indices")
                self.report(arg.keyword, message, fix=fix)
                continue
            if still_accepted:
                continue  # deprecated alias that TF 2 still takes: not our business
            if old == "keep_prob":
                value = arg.value
                rate = _one_minus(value)
                if "rate" in passed:
                    message = f"{callee}(keep_prob=...) is TF1 (TypeError in TF 2); rate= is already passed: remove it"
                else:
                    message = (f"{callee}(keep_prob=...) is TF1 (TypeError in TF 2); TF 2 takes rate = the fraction "
                               f"to DROP: use rate={cst.Module(body=[]).code_for_node(rate)}")
                fix = None if "rate" in passed else PendingFix(
                    [Replacement(arg.keyword, "rate"), Replacement(value, rate)], safe=True,
                    description="keep_prob -> rate=1 - keep_prob")
            else:
                message = f"{callee}({old}=...) is TF1 (TypeError in TF 2); use {new}="
                fix = None if new in passed else PendingFix([Replacement(arg.keyword, new)], safe=True,
                                                            description=f"rename to {new}=")
            self.report(arg.keyword, message, fix=fix)


def _one_minus(value: cst.BaseExpression) -> cst.BaseExpression:
    simple = isinstance(value, (cst.Name, cst.Attribute, cst.Integer, cst.Float, cst.Call, cst.Subscript)) or (
        getattr(value, "lpar", None))
    operand = value if simple else value.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return cst.BinaryOperation(cst.Integer("1"), cst.Subtract(), operand)
