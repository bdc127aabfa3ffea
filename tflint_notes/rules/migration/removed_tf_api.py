"""TFN601 removed-tf-api."""

from __future__ import annotations

import libcst as cst

from tflint_notes.api import table
from tflint_notes.cstwalk import children
from tflint_notes.rule import PendingFix, Replacement
from tflint_notes.rules.migration._shared import GuardedRule, classify, dotted_text, facts_have_api_problem
from tflint_notes.screen import FileFacts

# TF1 graph-only APIs (TFN607): their compat.v1 form also needs graph mode.
GRAPH_ONLY = frozenset({"tf.compat.v1.placeholder", "tf.compat.v1.gradients", "tf.compat.v1.summary.FileWriter",
                        "tf.compat.v1.summary.merge_all", "tf.compat.v1.train.Saver", "tf.compat.v1.Session",
                        "tf.compat.v1.InteractiveSession", "tf.compat.v1.placeholder_with_default"})


def _walk(node: cst.CSTNode):
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(children(current))


class RemovedTfApi(GuardedRule):
    """## What it does
    Flags a TensorFlow name that TensorFlow 2.21 does not have and that is known to have existed — in an
    attribute chain (`tf.log(x)`), a `from tensorflow... import` or an `import tensorflow.contrib...`:
    TF1 names (`tf.placeholder`, `tf.Session`, `tf.log`, `tf.random_normal`, `tf.to_float`, `tf.logging`,
    `tf.contrib.*`, `tensorflow.examples.tutorials`), the names removed in TF 2.16 (`tf.estimator`,
    `tf.compat.v1.estimator`), and the compat APIs that need Keras 2 (`tf.compat.v1.layers.*`,
    `tf.compat.v1.nn.rnn_cell.*`, `tf.compat.v1.keras.backend.get_session`). Every import spelling is
    followed (`import tensorflow as tf1`, `from tensorflow import compat`); under
    `import tensorflow.compat.v1 as tf`, `tf.placeholder` is TF1 code that still exists (TFN607 tells
    whether it can run). A removed import is reported on the import line only, not on every use of the
    names it binds. Code written to survive old and new TensorFlow is not reported: inside `try:` with
    `except (ImportError, AttributeError)`, or in a branch on `hasattr(tf, ...)`, `tf.__version__` or
    `tf.executing_eagerly()`.

    The known names come from generated tables (`scripts/gen_api_tables.py`): the installed TensorFlow's
    public API and tf_upgrade_v2's own rename and deprecation tables. Each entry knows the first release in
    which it fails (TF1 names 2.0; `tf.estimator` and the Keras-2-only compat APIs 2.16): a project whose
    declared TensorFlow is older everywhere (`tensorflow>=2.13,<2.16`, `tensorflow<2`) is not told about it.
    `tf.compat.v2` names are judged against `tf.compat.v2` (`tf.compat.v2.enable_v2_behavior` exists), and the
    project's own packages are never judged.

    ## Why is this bad?
    The line fails when it runs: `AttributeError: module 'tensorflow' has no attribute 'log'`, or
    `ModuleNotFoundError` for an import of a module that is gone (`import tensorflow.contrib`), `ImportError`
    for a name imported from one that is there (`from tensorflow import estimator`) — often deep inside a
    training script, after minutes of work.
    `tf_upgrade_v2` knows most TF1 renames but nothing of Keras 3: it rewrites `tf.nn.rnn_cell` to
    `tf.compat.v1.nn.rnn_cell`, which raises "not available with Keras 3" in TF 2.21.

    `tf.compat.v1.layers` in TF1 graph code (sessions, `as_default()`, `UPDATE_OPS`) gets different advice
    from the same name in eager code: Keras 3's `BatchNormalization` adds nothing to `UPDATE_OPS` in a graph,
    so its moving averages would never update; such code stays on Keras 2 (`tf-keras` installed,
    `TF_USE_LEGACY_KERAS=1` set before TensorFlow is imported).

    ## Example
    ```python
    y = tf.log(x)
    noise = tf.random_normal([2, 3])
    ```

    ## Use instead
    ```python
    y = tf.math.log(x)
    noise = tf.random.normal([2, 3])
    ```

    ## Fix safety
    **Safe** for pure renames, where the TF 2 name is the same function with the same arguments
    (`tf.log` → `tf.math.log`, `tf.random_normal` → `tf.random.normal`); your TensorFlow alias is kept.
    **Unsafe** where only TF1's `tf.compat.v1.X` remains and works in TF 2.21 (`tf.Session` →
    `tf.compat.v1.Session`): the program keeps TF1 semantics. For the graph-only APIs (`placeholder`,
    `Saver`, `FileWriter`, `Session`) the compat name only works in graph mode, so that fix is offered only
    where it can run: in a module that calls `tf.compat.v1.disable_eager_execution()`, or a session built
    with `graph=`; elsewhere the message names both ways out. No fix for `tf.contrib`, `tf.estimator`,
    the Keras-2-only compat APIs, and names whose TF 2 form takes different arguments: the message names
    the replacement.

    ## Proof
    [`fixtures/TFN601/`](../fixtures/TFN601/): each `before.py` raises the AttributeError or
    ModuleNotFoundError under TF 2.21; `after.py`/`after_unsafe.py`/`corrected.py` run.
    """

    code = "TFN601"
    syntactic = True
    fix_kind = "safe/unsafe"
    name = "removed-tf-api"
    summary = "TensorFlow name that TF 2.21 no longer has (TF1, tf.contrib, tf.estimator, Keras-2-only compat)"
    triggers = ("tensorflow",)

    @staticmethod
    def screen(facts: FileFacts) -> bool:
        return facts_have_api_problem(facts, "removed")

    def __init__(self, ctx, sink):
        super().__init__(ctx, sink)
        self._dead_names: set = set()  # names bound by imports already reported
        self._graph_mode: bool | None = None
        self._graph_code: bool | None = None
        self._calls_of: dict = {}  # call's func node -> the call

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            self.skip_chain(alias.name)
            bound = alias.asname.name.value if alias.asname is not None and isinstance(alias.asname.name, cst.Name) else None
            self._check_import(alias.name, dotted_text(alias.name), [bound] if bound else [])

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.module is not None:
            self.skip_chain(node.module)
        if node.relative or node.module is None or isinstance(node.names, cst.ImportStar):
            return
        module = dotted_text(node.module)
        bound = [(a.asname.name.value if a.asname is not None and isinstance(a.asname.name, cst.Name)
                  else dotted_text(a.name)) for a in node.names]
        if self._check_import(node.module, module, bound):
            return
        for alias, name in zip(node.names, bound):
            # the module is there, the name is not: `from tensorflow import estimator` raises ImportError
            self._check_import(alias.name, f"{module}.{dotted_text(alias.name)}", [name], "ImportError")

    def _check_import(self, node: cst.CSTNode, qualname: str, bound: list[str],
                      error: str = "ModuleNotFoundError") -> bool:
        finding = classify(qualname, self.legacy_tf_keras)
        if finding is None or finding.kind != "removed" or self.guarded:
            return False
        self._dead_names.update(bound)  # the names it binds are not reported again at every use
        self.report(node, self._message(qualname.replace("tensorflow", "tf", 1), finding.key, finding.entry,
                                        error=error))
        return True

    def visit_Attribute(self, node: cst.Attribute) -> None:
        found = self.outer_chain(node)
        if found is None:
            return
        chain, current = found
        qual = self.ctx.resolve(node)
        if qual is None or self.guarded:
            return
        if current.value in self._dead_names:
            return  # its import was reported
        finding = classify(qual, self.legacy_tf_keras)
        if finding is None or finding.kind != "removed":
            return
        root_finding = classify(self.ctx.resolve(current) or "", self.legacy_tf_keras)
        if root_finding is not None and root_finding.kind == "removed":
            return  # `flags = tf.flags`: that line is reported, not every `flags.DEFINE_string`
        # report the removed part, not what follows it (`tf.contrib` in `tf.contrib.layers.dense(x)`)
        key_parts = finding.key.split(".")[1:]
        qual_parts = qual.split(".")
        extra = len(qual_parts) - 1 - len(key_parts)
        if qual_parts[1:3] == ["compat", "v1"] and not finding.key.startswith("tf.compat."):
            extra -= 2  # tf.compat.v1.contrib...: the TF1 name stood for compat.v1's
        target = chain[extra] if 0 <= extra < len(chain) else node
        shown = dotted_text(target)
        fix = self._fix(target, current, finding.entry, qual_parts[1:1 + len(key_parts)] == key_parts)
        message = self._message(shown, finding.key, finding.entry)
        if finding.key.startswith("tf.compat.v1.layers") and self._builds_graphs():
            message = (f"`{shown}` needs Keras 2 in TensorFlow 2.21 (AttributeError: ... is not available with Keras "
                       f"3); in TF1 graph code keras.layers is not the way out (Keras 3's BatchNormalization adds "
                       f"nothing to UPDATE_OPS: its moving averages never update): keep tf.compat.v1.layers on "
                       f"Keras 2 — install tf-keras and set TF_USE_LEGACY_KERAS=1 before TensorFlow is imported")
        self.report(target, message, fix=fix)

    def _builds_graphs(self) -> bool:
        """TF1 graph code: the module turns eager execution off, runs sessions or builds under `as_default()`."""
        if self._graph_code is None:
            self._graph_code = any(
                isinstance(n, cst.Call) and dotted_text(n.func).endswith(
                    ("disable_eager_execution", "disable_v2_behavior", "Session", ".as_default", "get_collection"))
                for n in _walk(self.ctx.module))
        return self._graph_code

    def _fix(self, target: cst.CSTNode, root: cst.Name, entry: dict, exact: bool) -> PendingFix | None:
        how, new = entry["how"], entry.get("to")
        if how not in ("rename", "compat") or not new or not exact:
            return None
        if self.ctx.resolve(root) != "tensorflow" or not table("tensorflow").has(new[3:]):
            return None
        if how == "compat" and new.split(".")[3:4] in (["layers"], ["estimator"]):
            return None
        if how == "compat" and new in GRAPH_ONLY and not self._runs_graphs(target):
            return None  # tf.compat.v1.placeholder would fail the same way eagerly: no fix that cannot work
        code = f"{root.value}.{new[3:]}"
        if how == "rename":
            return PendingFix([Replacement(target, code)], safe=True, description=f"use {new}")
        return PendingFix([Replacement(target, code)], safe=False, description=f"use {new} (TF1 API)")

    def _runs_graphs(self, target: cst.CSTNode) -> bool:
        """Would the TF1 compat name work here: the module switches TF to graph mode, or the call is a session
        given its graph (`tf.Session(graph=g)`)?"""
        if self._graph_mode is None:
            self._graph_mode = any(
                isinstance(n, cst.Call) and dotted_text(n.func).endswith(("disable_eager_execution", "disable_v2_behavior"))
                for n in _walk(self.ctx.module))
        if self._graph_mode:
            return True
        call = self._calls_of.get(target)
        return call is not None and any(a.keyword is not None and a.keyword.value == "graph" for a in call.args)

    def visit_Call(self, node: cst.Call) -> None:
        self._calls_of[node.func] = node

    @staticmethod
    def _message(shown: str, key: str, entry: dict, error: str = "AttributeError") -> str:
        how, new = entry["how"], entry.get("to")
        head = f"`{shown}` no longer exists in TensorFlow 2.21 ({error} when this line runs)"
        if how == "rename":
            return f"{head}; use `{new}`, the same function"
        if how == "changed":
            return f"{head}; its TF 2 form is `{new}`, whose arguments changed: check the call"
        if how == "compat" and new:
            if new in ("tf.compat.v1.Session", "tf.compat.v1.InteractiveSession"):
                return (f"{head}; only TF1's `{new}` remains: it runs TF1 graphs (build them under "
                        f"`with graph.as_default():` and pass `graph=`, or call `tf.compat.v1.disable_eager_execution()` "
                        f"first), or rewrite the code for TF 2 (eager execution, tf.function)")
            if new in GRAPH_ONLY:
                return (f"{head}; only TF1's `{new}` remains, which needs graph mode: "
                        f"`tf.compat.v1.disable_eager_execution()` at the start of the program, or rewrite it for "
                        f"TF 2 (tf.function, tf.GradientTape, tf.summary)")
            return f"{head}; only TF1's `{new}` remains (TF1 API, kept for compatibility)"
        return f"{head}: {entry.get('message', key + ' was removed')}"
