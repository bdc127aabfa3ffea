"""TFN603 removed-keras-api."""

from __future__ import annotations

import ast

import libcst as cst

from tflint_notes.analysis import canonical
from tflint_notes.api import keras_removed_entry, split, table
from tflint_notes.rule import PendingFix, Replacement
from tflint_notes.rules.migration._shared import GuardedRule, dotted_text
from tflint_notes.screen import FileFacts

# Keras 2 keywords that Keras 3 optimizers reject or ignore: `optimizers.legacy.Adam(decay=...)` keeps no
# safe fix (TFN605 reports the keyword).
_KERAS2_OPTIMIZER_KEYWORDS = frozenset({"lr", "decay", "clipvalue_", "name_"})


def keras3_removed(qualname: str, legacy_tf_keras: bool) -> tuple[str, tuple, str, dict] | None:
    """(table root, parts, key, entry) when `qualname` is a Keras 2 name that its Keras 3 target lacks."""
    where = split(qualname, legacy_tf_keras)
    if where is None or where[0] not in ("keras", "tf.keras") or not where[1]:
        return None
    root, parts = where
    found = keras_removed_entry(root, parts)
    if found is None:
        return None
    key, entry = found
    if table(root).has(key):
        return None  # present in this Keras 3 (optimizers.legacy: present, raises when built)
    return root, parts, key, entry


def _facts_have_removed_keras(facts: FileFacts) -> bool:
    memo = facts.memo.get("keras-removed")
    if memo is not None:
        return memo
    found = False
    views = facts.api_views()
    for node in facts.import_nodes:
        names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                 [f"{node.module}.{a.name}" for a in node.names if a.name != "*"] + [node.module]
                 if not node.level and node.module else [])
        if any(keras3_removed(n, view) for n in names for view in views):
            found = True
            break
    if not found:
        found = any(keras3_removed(n, view) for _, names in facts.attribute_chains() for n in names for view in views)
    if not found and facts.may_be_keras3():
        # optimizers.legacy.* is reported where it is built
        found = any(canonical(q).startswith("keras.optimizers.legacy.") and facts.may_be_keras3_name(q)
                    for c in facts.calls for q in facts.qualnames(c.node.func))
    facts.memo["keras-removed"] = found
    return found


class RemovedKerasApi(GuardedRule):
    """## What it does
    Flags a Keras 2 name that the targeted Keras 3 package does not have, in an attribute chain or an
    import: `layers.experimental.preprocessing.*`, `optimizers.experimental.*`, `layers.CuDNNLSTM`,
    `layers.merge`, `backend.get_session`/`learning_phase`, `wrappers.scikit_learn`, the Keras 2 modules
    `keras.layers.core`, `keras.engine`, `keras.utils.np_utils`, and (plain `keras` only)
    `preprocessing.image.ImageDataGenerator`; and `optimizers.legacy.*`, which Keras 3 still lists but which
    raises `ImportError` when built (reported where it is built).

    The removed names are generated (`scripts/gen_api_tables.py`): the tf_keras 2.21 API minus the API of
    the targeted package — `keras` 3, or TF 2.21's `tf.keras`, which still ships 173 Keras 2 names
    (`ImageDataGenerator`, `K.mean`, the `losses.mse` aliases) that work there and are not flagged — plus
    the Keras 1 and standalone-Keras-2 names tf_keras had already dropped. A `tf_keras.*` name, or `tf.keras`
    when the file targets legacy Keras (`keras = "tf_keras"`, `TF_USE_LEGACY_KERAS=1`, a required `tf-keras`,
    a declared TensorFlow older than 2.16), is never flagged; nor is `keras.*` in a project whose `keras` is
    Keras 2 (`keras<3`, TensorFlow older than 2.16).
    The other way round, TF 2.21's `tf.keras` lacks 22 names that the keras package has (`tf.keras.saving`,
    `tf.keras.losses.mean_squared_error` and the other loss functions): the message points to `keras.*`.

    ## Why is this bad?
    `AttributeError`, `ModuleNotFoundError` (`from keras.engine import ...`) or `ImportError` (`from keras.layers
    import CuDNNLSTM`) when the line runs under Keras 3 (TF 2.16 and later, where
    `tf.keras` is Keras 3). Keras 3 moved the preprocessing layers into `keras.layers`, dropped the
    experimental optimizers' namespace, the TF1 session and learning-phase API, and the scikit-learn
    wrappers (now the scikeras package).

    ## Example
    ```python
    rescale = keras.layers.experimental.preprocessing.Rescaling(1 / 255)
    optimizer = keras.optimizers.legacy.Adam(learning_rate=1e-3)
    ```

    ## Use instead
    ```python
    rescale = keras.layers.Rescaling(1 / 255)
    optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    ```

    ## Fix safety
    **Safe** where the same class or function exists in Keras 3 under another path, with the same name and
    parameters (`experimental.preprocessing.Rescaling` → `layers.Rescaling`, `np_utils.to_categorical` →
    `utils.to_categorical`, `layers.core.Dense` → `layers.Dense`, `optimizers.experimental.AdamW` →
    `optimizers.AdamW`, `optimizers.legacy.Adam(...)` → `optimizers.Adam(...)` when no Keras-2-only
    keyword is passed); a `from` import is rewritten when all its names move to the same module.
    **Unsafe**: `CuDNNLSTM`/`CuDNNGRU` → `LSTM`/`GRU` (Keras 3 uses cuDNN by itself, but the saved weights
    are laid out differently). No fix otherwise; the message names the Keras 3 way
    (`image_dataset_from_directory` with preprocessing layers, scikeras, `keras.ops`).

    ## Proof
    [`fixtures/TFN603/`](../fixtures/TFN603/): each `before.py` fails under Keras 3 and runs under tf_keras;
    the fixed programs run under Keras 3.
    """

    code = "TFN603"
    syntactic = True
    fix_kind = "safe/unsafe"
    name = "removed-keras-api"
    summary = "Keras 2 name that the targeted Keras 3 package does not have"
    triggers = ("keras",)

    @staticmethod
    def screen(facts: FileFacts) -> bool:
        return _facts_have_removed_keras(facts)

    def __init__(self, ctx, sink):
        super().__init__(ctx, sink)
        self._dead_names: set = set()

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.relative or node.module is None or isinstance(node.names, cst.ImportStar) or self.guarded:
            return
        module = dotted_text(node.module)
        self.skip_chain(node.module)
        found = keras3_removed(module, self.legacy_tf_keras)
        targets = []
        for alias in node.names:
            name = alias.asname.name.value if alias.asname is not None else dotted_text(alias.name)
            targets.append(keras3_removed(f"{module}.{dotted_text(alias.name)}", self.legacy_tf_keras))
            if found is not None or targets[-1] is not None:
                self._dead_names.add(name)
        if found is None:
            for alias, target in zip(node.names, targets):
                if target is not None:
                    # the module is there, the name is not: `from keras.layers import CuDNNLSTM` raises ImportError
                    self.report(alias.name, self._message(f"{module}.{dotted_text(alias.name)}", target[3],
                                                          error="ImportError"))
            return
        fix = None
        homes = {t[3].get("to", "").rsplit(".", 1)[0] if t is not None and t[3].get("how") == "rename" else None
                 for t in targets}
        leaves_kept = all(t is not None and t[3].get("to", "").rsplit(".", 1)[-1] == dotted_text(a.name)
                          for t, a in zip(targets, node.names))
        if len(homes) == 1 and None not in homes and leaves_kept:
            prefix = module[:len(module) - len(".".join(found[1]))].rstrip(".")
            fix = PendingFix([Replacement(node.module, f"{prefix}.{homes.pop()}")], safe=True,
                             description="import from the Keras 3 module")
        if fix is None and len(targets) == 1 and targets[0] is not None and targets[0][3].get("message"):
            # `from keras.utils.generic_utils import has_arg`: the name's own advice says more than the module's
            self.report(node.module, self._message(f"{module}.{dotted_text(node.names[0].name)}", targets[0][3],
                                                   importing=True))
            return
        self.report(node.module, self._message(module, found[3], importing=True), fix=fix)

    def visit_Import(self, node: cst.Import) -> None:
        if self.guarded:
            return
        for alias in node.names:
            dotted = dotted_text(alias.name)
            self.skip_chain(alias.name)
            found = keras3_removed(dotted, self.legacy_tf_keras)
            if found is not None:
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    self._dead_names.add(alias.asname.name.value)
                self.report(alias.name, self._message(dotted, found[3], importing=True))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        found = self.outer_chain(node)
        if found is None or found[1].value in self._dead_names:
            return
        chain, current = found
        if self.guarded:
            return
        qual = self.ctx.resolve(node)
        if qual is None:
            return
        found = keras3_removed(qual, self.legacy_tf_keras)
        if found is None:
            return
        if keras3_removed(self.ctx.resolve(current) or "", self.legacy_tf_keras) is not None:
            return  # `K = keras.backend` style alias of a removed name: its definition is reported
        root, parts, key, entry = found
        key_len = len(key.split("."))
        extra = len(parts) - key_len  # parts written after the removed name
        if not 0 <= extra < len(chain):
            return
        target = chain[extra]
        self.report(target, self._message(dotted_text(target), entry), fix=self._fix(target, qual, parts, key_len, entry))

    def visit_Call(self, node: cst.Call) -> None:
        qual = self.ctx.resolve(node.func)
        if qual is None or self.guarded:
            return
        name = canonical(qual)
        if not name.startswith("keras.optimizers.legacy.") or self.ctx.keras_flavour(qual) != "keras3":
            return
        leaf = name.rsplit(".", 1)[-1]
        where = split(qual, self.legacy_tf_keras)
        fix = None
        keywords = {a.keyword.value for a in node.args if a.keyword is not None}
        if where is not None and table(where[0]).has(f"optimizers.{leaf}") and not keywords & _KERAS2_OPTIMIZER_KEYWORDS:
            written = dotted_text(node.func)
            if written.endswith(f"legacy.{leaf}"):
                fix = PendingFix([Replacement(node.func, written[:-len(f"legacy.{leaf}")] + leaf)], safe=True,
                                 description=f"use optimizers.{leaf}")
        self.report(node, f"`optimizers.legacy.{leaf}` is not supported in Keras 3 (ImportError when it is built); "
                          f"use `optimizers.{leaf}`", fix=fix)

    def _fix(self, target, qual: str, parts: tuple, key_len: int, entry: dict) -> PendingFix | None:
        how, new = entry.get("how"), entry.get("to")
        if how not in ("rename", "unsafe") or not new:
            return None
        removed_parts = parts[:key_len]
        written = dotted_text(target)
        old_tail = ".".join(removed_parts)
        if not written.endswith(old_tail):
            # the root alias covers part of the removed path (`from keras.layers import experimental`)
            return None
        code = written[:len(written) - len(old_tail)] + new
        return PendingFix([Replacement(target, code)], safe=how == "rename",
                          description=f"use {new}" + (" (the saved weights layout differs)" if how == "unsafe" else ""))

    @staticmethod
    def _message(shown: str, entry: dict, importing: bool = False, error: str | None = None) -> str:
        error = error or ("ModuleNotFoundError" if importing else "AttributeError")
        head = f"`{shown}` is a Keras 2 name that Keras 3 does not have ({error} under Keras 3)"
        how, new = entry.get("how"), entry.get("to")
        if how == "rename":
            return f"{head}; use `{new}`, the same {'class' if new.rsplit('.', 1)[-1][:1].isupper() else 'function'}"
        if how == "changed" and new:
            return f"{head}; Keras 3 has `{new}`, whose arguments or behaviour differ: check the call"
        if how == "unsafe" and new:
            return f"{head}; use `{new}`: {entry.get('message', '')}"
        if how == "in_keras" and new:
            return (f"`{shown}` is a Keras 2 name that TF 2.21's tf.keras does not have ({error}), but the keras "
                    f"package installed with TensorFlow has `{new}`: `import keras` and use that")
        if entry.get("message"):
            return f"{head}: {entry['message']}"
        if entry.get("module_gone"):
            return f"{head}: the module is gone"
        return f"{head} (no Keras 3 equivalent of that name)"
