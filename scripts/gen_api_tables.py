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


def flatten(modules: dict) -> dict:
    """{dotted name: kind} of a table, each module followed once along the path it is first met on."""
    out: dict = {}
    seen: set = set()

    def visit(key: str, prefix: str) -> None:
        if key in seen:
            return
        seen.add(key)
        for name, kind in modules[key].items():
            dotted = f"{prefix}{name}"
            if kind.startswith("@"):
                out[dotted] = "module"
                visit(kind[1:], dotted + ".")
            else:
                out[dotted] = kind
    visit("", "")
    return out


# Keras 1 / standalone Keras 2 names that tf_keras 2.21 no longer lists, and what Keras 3 has instead.
KERAS_MANUAL = {
    "layers.CuDNNLSTM": {"to": "layers.LSTM", "how": "unsafe",
                         "message": "Keras 3's LSTM uses cuDNN by itself when it can; the weights layout differs"},
    "layers.CuDNNGRU": {"to": "layers.GRU", "how": "unsafe",
                        "message": "Keras 3's GRU uses cuDNN by itself when it can; the weights layout differs"},
    "layers.merge": {"message": "the Keras 1 merge function is gone: use layers.Concatenate/Add/Multiply/Dot"},
    "layers.Merge": {"message": "the Keras 1 Merge layer is gone: use layers.Concatenate/Add/Multiply/Dot"},
    "layers.core": {"message": "the module keras.layers.core is gone: import the layers from keras.layers"},
    "layers.convolutional": {"message": "the module keras.layers.convolutional is gone: import from keras.layers"},
    "layers.recurrent": {"message": "the module keras.layers.recurrent is gone: import from keras.layers"},
    "layers.normalization": {"message": "the module keras.layers.normalization is gone: import from keras.layers"},
    "layers.embeddings": {"message": "the module keras.layers.embeddings is gone: import from keras.layers"},
    "layers.pooling": {"message": "the module keras.layers.pooling is gone: import from keras.layers"},
    "layers.merging": {"message": "the module keras.layers.merging is gone: import from keras.layers"},
    "engine": {"message": "keras.engine is internal to Keras 2: use keras.Model, keras.layers.Layer, keras.Input"},
    "engine.InputSpec": {"to": "layers.InputSpec", "how": "rename"},
    "engine.input_spec": {"message": "keras.engine is internal to Keras 2: InputSpec is keras.layers.InputSpec"},
    "engine.input_spec.InputSpec": {"to": "layers.InputSpec", "how": "rename"},
    "engine.base_layer.Layer": {"to": "layers.Layer", "how": "rename"},
    "engine.input_layer.Input": {"to": "layers.Input", "how": "rename"},
    "engine.input_layer.InputLayer": {"to": "layers.InputLayer", "how": "rename"},
    "utils.np_utils": {"message": "keras.utils.np_utils is gone: use keras.utils.to_categorical"},
    "utils.np_utils.to_categorical": {"to": "utils.to_categorical", "how": "rename"},
    "utils.np_utils.normalize": {"to": "utils.normalize", "how": "rename"},
    "utils.generic_utils": {"message": "keras.utils.generic_utils is gone: Progbar is keras.utils.Progbar, the "
                                       "custom-object helpers are in keras.saving"},
    "utils.generic_utils.has_arg": {"message": "has_arg is gone from Keras 3 (keras.utils and keras.saving lack it): "
                                               "use `name in inspect.signature(fn).parameters`"},
    "utils.generic_utils.Progbar": {"to": "utils.Progbar", "how": "rename"},
    "utils.generic_utils.get_custom_objects": {"to": "saving.get_custom_objects", "how": "rename"},
    "utils.generic_utils.custom_object_scope": {"to": "saving.custom_object_scope", "how": "rename"},
    "utils.generic_utils.CustomObjectScope": {"to": "saving.CustomObjectScope", "how": "rename"},
    "utils.generic_utils.serialize_keras_object": {"to": "saving.serialize_keras_object", "how": "rename"},
    "utils.generic_utils.deserialize_keras_object": {"to": "saving.deserialize_keras_object", "how": "rename"},
    "backend.get_session": {"message": "Keras 3 has no TF1 session: TF 2 runs eagerly"},
    "backend.set_session": {"message": "Keras 3 has no TF1 session: TF 2 runs eagerly"},
    "backend.learning_phase": {"message": "Keras 3 has no global learning phase: pass training= to the call"},
    "backend.set_learning_phase": {"message": "Keras 3 has no global learning phase: pass training= to the call"},
    "wrappers": {"message": "the scikit-learn wrappers moved to the scikeras package (scikeras.wrappers."
                            "KerasClassifier/KerasRegressor)"},
    "wrappers.scikit_learn": {"message": "the scikit-learn wrappers moved to the scikeras package (scikeras."
                                         "wrappers.KerasClassifier/KerasRegressor)"},
    "preprocessing.image.ImageDataGenerator": {
        "message": "ImageDataGenerator is gone from Keras 3: use keras.utils.image_dataset_from_directory with "
                   "preprocessing layers (RandomFlip, RandomRotation, Rescaling ...)"},
}


def _signature_params(obj) -> set | None:
    try:
        target = obj.__init__ if inspect.isclass(obj) else obj
        params = inspect.signature(target).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return {"**"} | {p.name for p in params}
    return {p.name for p in params}


def _resolve(module, dotted: str):
    obj = module
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def keras_removed(legacy_module, legacy: dict, target_module, target: dict) -> dict:
    """Names of tf_keras (Keras 2) that the target Keras 3 package lacks, each mapped to its Keras 3 home
    when the same class or function exists there (same name and kind, parameters a superset)."""
    old_names = flatten(legacy)
    new_names = flatten(target)
    by_leaf: dict = {}
    for dotted, kind in new_names.items():
        by_leaf.setdefault(dotted.rsplit(".", 1)[-1], []).append((dotted, kind))
    out: dict = {}
    for dotted, kind in sorted(old_names.items()):
        if dotted in new_names:
            continue
        entry: dict = {}
        if kind == "module":
            entry["module_gone"] = True
        else:
            first = dotted.split(".", 1)[0]
            homes = [d for d, k in by_leaf.get(dotted.rsplit(".", 1)[-1], []) if k == kind]
            homes.sort(key=lambda d: (not d.startswith(first + "."), d.count("."), d))
            if homes:
                home = homes[0]
                old_params = _signature_params(_resolve(legacy_module, dotted))
                new_params = _signature_params(_resolve(target_module, home))
                same = old_params is not None and new_params is not None and (
                    "**" in new_params or old_params - {"**", "self"} <= new_params)
                # Only a home in the same kind of module is the same thing: keras.backend.dot is not
                # keras.ops.dot (Theano-style against NumPy-style products), whatever the signatures say.
                same = same and home.split(".", 1)[0] == first
                entry.update({"to": home, "how": "rename" if same else "changed"})
        out[dotted] = entry
    for dotted, entry in KERAS_MANUAL.items():
        if dotted not in new_names:
            out[dotted] = dict(entry, how=entry.get("how", "manual"))
    for module in ("core", "convolutional", "recurrent", "normalization", "embeddings", "pooling", "merging",
                   "merge", "advanced_activations", "noise", "wrappers", "local", "convolutional_recurrent"):
        # `keras.layers.core.Dense`: Keras 2 modules whose layers live in keras.layers now
        key = f"layers.{module}"
        out.setdefault(key, {"how": "manual", "message": f"the module keras.layers.{module} is gone: import the "
                                                          f"layers from keras.layers"})
        out[key]["members_to"] = "layers"
    return out


def pooling_defaults(legacy_module, target_module) -> dict:
    """Pooling layers whose pool_size Keras 3 made required, with Keras 2's default."""
    out = {}
    for name in dir(target_module.layers):
        cls = getattr(target_module.layers, name)
        if not inspect.isclass(cls) or "Pool" not in name:
            continue
        new = inspect.signature(cls.__init__).parameters.get("pool_size")
        old_cls = getattr(legacy_module.layers, name, None)
        old = inspect.signature(old_cls.__init__).parameters.get("pool_size") if old_cls is not None else None
        if new is not None and new.default is inspect.Parameter.empty and old is not None and (
                old.default is not inspect.Parameter.empty):
            out[f"layers.{name}"] = old.default
    return out


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
    for old, entry in entries.items():
        # The first release in which the name fails: TF 2.16 dropped tf.estimator and made tf.keras Keras 3
        # (the compat.v1 APIs that need Keras 2); every other entry is a TF1 name, gone since TF 2.0.
        entry["since"] = "2.16" if entry.get("keras2") or "estimator" in old.split(".") else "2.0"
    return entries


def compat_v2_differences(tf_module) -> dict:
    """`tf.compat.v2` is `tf` but for a few names: {"extra": names only compat.v2 has (enable_v2_behavior),
    "missing": names it lacks}."""
    v2 = tf_module.compat.v2
    public = lambda module: {n for n in dir(module) if not n.startswith("_")}  # noqa: E731
    return {"extra": sorted(public(v2) - public(tf_module)), "missing": sorted(public(tf_module) - public(v2))}


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
        data = {"versions": versions, "modules": modules}
        if name == "api_tensorflow.json":
            data["compat_v2"] = compat_v2_differences(tf_module)
        (DATA / name).write_text(json.dumps(data, sort_keys=True, separators=(",", ":")) + "\n", encoding="utf-8")
        print(f"wrote {name}: {len(modules)} modules, {count(modules)} names")
    tf_tree = tables["api_tensorflow.json"]
    removed = removed_table(tf_tree)
    (DATA / "tf_removed.json").write_text(json.dumps({"versions": versions, "removed": removed}, indent=0,
                                                     sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote tf_removed.json: {len(removed)} names")
    keras_tables = {
        "keras": keras_removed(tf_keras, tables["api_tf_keras.json"], keras, tables["api_keras.json"]),
        "tf.keras": keras_removed(tf_keras, tables["api_tf_keras.json"], tf_module.keras,
                                  tables["api_tf_keras_in_tf.json"]),
    }
    standalone = flatten(tables["api_keras.json"])
    for dotted, entry in keras_tables["tf.keras"].items():
        if entry.get("how") in (None, "changed") and dotted in standalone:
            # `tf.keras.losses.mean_squared_error`: TF's tf.keras lacks it, the keras package has it
            entry.update({"how": "in_keras", "to": f"keras.{dotted}"})
    pooling = pooling_defaults(tf_keras, keras)
    (DATA / "keras_removed.json").write_text(json.dumps({"versions": versions, "removed": keras_tables,
                                                         "pool_size_required": pooling}, indent=0,
                                                        sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote keras_removed.json: {len(keras_tables['keras'])} names missing from keras, "
          f"{len(keras_tables['tf.keras'])} from tf.keras")
    return 0


if __name__ == "__main__":
    sys.exit(main())
