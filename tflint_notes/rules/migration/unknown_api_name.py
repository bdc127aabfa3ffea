"""TFN602 unknown-api-name."""

from __future__ import annotations

import libcst as cst

from tflint_notes.api import split
from tflint_notes.rule import PendingFix, Replacement
from tflint_notes.rules.migration._shared import GuardedRule, classify, dotted_text, facts_have_api_problem
from tflint_notes.screen import FileFacts


class UnknownApiName(GuardedRule):
    """## What it does
    Flags an attribute of a TensorFlow or Keras module that the installed API does not have, that is not a
    known removed name (TFN601) nor a Keras 2 name (TFN603), when exactly one existing name of that module
    is a close spelling: `tf.image.flip_left_rigth`, `keras.layers.BatchNormalisation`,
    `tf.nn.softmax_cross_entropy_with_logit`, `from tensorflow.keras.layers import Conv2d`. Names with no
    close match, or several, are not flagged: they may be newer than the table. `keras.*` is checked against
    Keras 3, `tf_keras.*` against tf_keras, `tf.keras.*` against TF 2.21's own `tf.keras` (or tf_keras when
    the file targets legacy Keras). The project's own top-level packages are never checked (a library whose
    package is called `tf_keras` imports its own modules), nor `keras.*` in a project whose `keras` is Keras 2,
    nor `tensorflow.*` in a TensorFlow 1 project (see the README, "Which TensorFlow does it check against?").

    ## Why is this bad?
    The line raises `AttributeError: module 'keras.layers' has no attribute 'BatchNormalisation'` (or
    `ImportError` for a `from` import) when it runs — in a function that runs after hours of training, or
    only on the code path nobody tested.

    ## Example
    ```python
    flipped = tf.image.flip_left_rigth(images)
    norm = tf.keras.layers.BatchNormalisation()
    ```

    ## Use instead
    ```python
    flipped = tf.image.flip_left_right(images)
    norm = tf.keras.layers.BatchNormalization()
    ```

    ## Fix safety
    **Safe**: the misspelled name is replaced by the one close existing name of the same module. In a
    `from ... import` the module's own name for it is kept (`import Conv2D as Conv2d`), so the code that
    uses it stays valid.

    ## Proof
    [`fixtures/TFN602/`](../fixtures/TFN602/): `before.py` raises the AttributeError; `after.py` runs.
    """

    code = "TFN602"
    fix_kind = "safe"
    name = "unknown-api-name"
    summary = "misspelled TensorFlow/Keras API name with exactly one close existing name"
    triggers = ("tensorflow", "keras")

    @staticmethod
    def screen(facts: FileFacts) -> bool:
        return facts_have_api_problem(facts, "misspelled")

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            self.skip_chain(alias.name)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.module is not None:
            self.skip_chain(node.module)
        if node.relative or node.module is None or isinstance(node.names, cst.ImportStar) or self.guarded:
            return
        module = dotted_text(node.module)
        for alias in node.names:
            if not isinstance(alias.name, cst.Name):
                continue
            qual = f"{module}.{alias.name.value}"
            finding = classify(qual, self.legacy_tf_keras)
            if finding is not None and finding.kind == "misspelled" and (
                    self._part_index(qual, finding.index) == len(qual.split(".")) - 1):
                # keep the name the module uses: `import Conv2D as Conv2d` (unless it has an alias already)
                replacement = finding.suggestion if alias.asname is not None else (
                    f"{finding.suggestion} as {alias.name.value}")
                self._report(alias.name, alias.name.value, finding.suggestion, importing=True, replacement=replacement)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        found = self.outer_chain(node)
        if found is None:
            return
        chain, current = found
        if self.guarded:
            return
        qual = self.ctx.resolve(node)
        if qual is None:
            return
        finding = classify(qual, self.legacy_tf_keras)
        if finding is None or finding.kind != "misspelled":
            return
        # chain[k] holds the part len(parts)-1-k of the resolved name: find the misspelled one
        parts = qual.split(".")
        position = self._part_index(qual, finding.index)
        k = len(parts) - 1 - position
        if not 0 <= k < len(chain) or chain[k].attr.value != parts[position]:
            return  # the misspelled part is inside an import alias, not written here
        self._report(chain[k].attr, parts[position], finding.suggestion)

    def _part_index(self, qual: str, index: int) -> int:
        """Index in the full dotted name of the table's part `index` (tables drop their root prefix)."""
        where = split(qual, self.legacy_tf_keras)
        return len(qual.split(".")) - len(where[1]) + index if where is not None else -1

    def _report(self, node: cst.Name, wrong: str, right: str, importing: bool = False,
                replacement: str | None = None) -> None:
        error = "ImportError" if importing else "AttributeError"
        fix = PendingFix([Replacement(node, replacement or right)], safe=True, description=f"use {right}")
        self.report(node, f"`{wrong}` does not exist in this module of the installed TensorFlow/Keras ({error} "
                          f"when this line runs); did you mean `{right}`?", fix=fix)
