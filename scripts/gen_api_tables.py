"""Generate the API tables of tflint_notes/data/ from the installed TensorFlow, Keras 3 and tf_keras.

    python scripts/gen_api_tables.py

Writes:
- api_tensorflow.json  every public name of `tensorflow` (tf.compat.v1 included, tf.keras apart)
- api_tf_keras_in_tf.json  TF's own `tf.keras` (in TF 2.21: keras._tf_keras.keras, Keras 3 with 173 Keras 2 names)
- api_keras.json       `keras` (Keras 3)
- api_tf_keras.json    `tf_keras` (legacy Keras 2)
  Each is a tree of modules: {"name": {...}} for a module, "c"/"f"/"v" for a class, function or other value.
  A name that `dir()` lists but that raises when read (tf.compat.v1.layers.dense under Keras 3) is "x".
- tf_removed.json      TensorFlow names that TF 2.21 does not have and that are known to have existed, with
  where they went: tf_upgrade_v2's own tables (renames_v2, all_renames_v2, module_deprecations_v2 and
  TFAPIChangeSpec, in tensorflow/tools/compatibility/ of the installed package) plus the names removed
  inside TF 2.x (tf.estimator in 2.16; compat.v1 APIs that need Keras 2).

Run it after upgrading TensorFlow/Keras, then the tests; commit the data files.  The linter reads the tables
lazily (only when a file uses a name under a TensorFlow/Keras module) and never imports TensorFlow.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import sys
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
DATA = Path(__file__).resolve().parents[1] / "tflint_notes" / "data"
_ROOTS = ("tensorflow", "keras", "tf_keras")


def _kind(value) -> str:
    if inspect.isclass(value):
        return "c"
    if callable(value):
        return "f"
    return "v"


_PRIVATE_MODULES = ("src", "python", "tools", "core", "lite", "mlir")  # implementation, not public API


def walk(module, path: str, modules: dict, seen: dict, skip: tuple = (), depth: int = 0) -> str:
    """Record the public names of `module` in `modules` under the key `path` (relative to the root) and
    return that key.  Modules of the three packages only; a module met again (the same object under
    another public path) is referred to by the key it was first recorded under."""
    key = path
    seen[id(module)] = key
    members: dict = {}
    modules[key] = members
    for name in sorted(dir(module)):
        if name.startswith("_") or (depth == 0 and name in _PRIVATE_MODULES):
            continue
        full = f"{path}.{name}" if path else name
        if full in skip:
            continue
        try:
            value = getattr(module, name)
        except Exception:  # noqa: BLE001 - listed but unusable: that is data too
            members[name] = "x"
            continue
        if inspect.ismodule(value):
            own = getattr(value, "__name__", "").split(".", 1)[0] in _ROOTS
            if not own or full.count("compat.") > 1 or depth > 8:
                members[name] = "m"  # a module we do not descend into (foreign)
            elif id(value) in seen:
                members[name] = "@" + seen[id(value)]
            else:
                members[name] = "@" + walk(value, full, modules, seen, skip, depth + 1)
        else:
            members[name] = _kind(value)
    return key


def count(modules: dict) -> int:
    return sum(len(members) for members in modules.values())


def has(modules: dict, dotted: str) -> bool:
    """Is `dotted` (relative to the root) a readable name of the table?"""
    members = modules[""]
    parts = dotted.split(".")
    for index, part in enumerate(parts):
        kind = members.get(part)
        if kind is None or kind == "x":
            return False
        if index == len(parts) - 1:
            return True
        if not kind.startswith("@"):
            return False
        members = modules[kind[1:]]
    return True


# Removed inside TF 2.x, or compat.v1 names that only work with Keras 2 (checked under TF 2.21 + Keras 3).
MANUAL = {
    "tf.estimator": ("removed in TF 2.16; use Keras (`keras.Model.fit`) or stay on TF <= 2.15", "manual"),
    "tf.compat.v1.estimator": ("removed in TF 2.16; use Keras (`keras.Model.fit`) or stay on TF <= 2.15", "manual"),
    "tf.compat.v1.layers": ("needs Keras 2 (`AttributeError: ... is not available with Keras 3`); "
                            "use `keras.layers` (Dense, Conv2D, ...)", "members"),
    "tf.compat.v1.nn.rnn_cell": ("needs Keras 2 (not available with Keras 3); use `keras.layers.LSTMCell`/"
                                 "`GRUCell` with `keras.layers.RNN`", "members"),
    "tf.nn.rnn_cell": ("removed in TF 2; use `keras.layers.LSTMCell`/`GRUCell` with `keras.layers.RNN`", "manual"),
    "tf.compat.v1.keras.backend.get_session": ("needs Keras 2; TF 2 runs eagerly, no session to get", "keras2"),
    "tf.contrib": ("tf.contrib was removed in TF 2.0; its pieces moved to `tf.*` core APIs, Keras, TensorFlow "
                   "Addons or TF Probability", "manual"),
    "tf.examples.tutorials": ("removed in TF 2.0; load MNIST with `keras.datasets.mnist.load_data()` or "
                              "`tensorflow_datasets`", "manual"),
    "tf.app.flags": ("removed in TF 2.0; use `absl.flags` or `argparse`", "manual"),
    "tf.flags": ("removed in TF 2.0; use `absl.flags` or `argparse`", "manual"),
    "tf.logging": ("removed in TF 2.0; use `tf.get_logger()` or `absl.logging`", "compat"),
}


def removed_table(tf_tree: dict) -> dict:
    from tensorflow.tools.compatibility import all_renames_v2, module_deprecations_v2, tf_upgrade_v2

    spec = tf_upgrade_v2.TFAPIChangeSpec()
    entries: dict = {}
    changed_calls = (set(spec.function_keyword_renames) | set(spec.function_reorders)
                     | set(spec.function_transformers) | set(spec.reordered_function_names))
    for old, new in sorted(all_renames_v2.symbol_renames.items()):
        if not old.startswith("tf.") or old.startswith(("tf.compat.", "tf.keras.")):
            continue  # tf.keras names are Keras's: TFN603 judges them against the Keras tables
        if has(tf_tree, old[3:]):
            continue  # still there in TF 2.21
        if not has(tf_tree, new[3:]):
            continue  # the target is gone too (tf_upgrade_v2 predates later removals): no advice from it
        if new.startswith("tf.compat.v1."):
            how = "compat"
        elif old in changed_calls:
            how = "changed"  # same concept, but the call's arguments changed: not a pure rename
        else:
            how = "rename"
        entries[old] = {"to": new, "how": how}
    for prefix, (_, message) in module_deprecations_v2.MODULE_DEPRECATIONS.items():
        entries.setdefault(prefix, {"how": "manual", "message": message.replace("<function name>", prefix)})
    for old, (message, how) in MANUAL.items():
        # "members": the module itself can be read (a lazy loader), its members raise
        entries[old] = {"how": "manual", "message": message}
        if how == "members":
            entries[old]["members_only"] = True  # the module itself can be read (a lazy loader)
        if how in ("members", "keras2"):
            entries[old]["keras2"] = True  # works when tf.keras is legacy Keras 2 (TF_USE_LEGACY_KERAS=1)
    return entries


def main() -> int:
    warnings.simplefilter("ignore")
    import tensorflow as tf  # noqa: F401 - the tables describe the installed version
    import keras
    import tf_keras

    tf_module = importlib.import_module("tensorflow")
    tables = {}
    for name, module, skip in (("api_tensorflow.json", tf_module, ("keras", "compat.v2")),
                               ("api_tf_keras_in_tf.json", tf_module.keras, ()),
                               ("api_keras.json", keras, ()), ("api_tf_keras.json", tf_keras, ())):
        modules: dict = {}
        walk(module, "", modules, {}, skip)
        tables[name] = modules
    versions = {"tensorflow": tf.__version__, "keras": keras.__version__, "tf_keras": tf_keras.__version__}
    for name, modules in tables.items():
        (DATA / name).write_text(json.dumps({"versions": versions, "modules": modules}, sort_keys=True,
                                            separators=(",", ":")) + "\n", encoding="utf-8")
        print(f"wrote {name}: {len(modules)} modules, {count(modules)} names")
    tf_tree = tables["api_tensorflow.json"]
    removed = removed_table(tf_tree)
    (DATA / "tf_removed.json").write_text(json.dumps({"versions": versions, "removed": removed}, indent=0,
                                                     sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote tf_removed.json: {len(removed)} names")
    return 0


if __name__ == "__main__":
    sys.exit(main())
