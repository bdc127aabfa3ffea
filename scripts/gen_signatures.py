"""Regenerate tflint_notes/data/signatures.json: the keyword arguments that TF/Keras callables accept.

TFN301 (misspelled-keyword) reads this table at run time, without TensorFlow installed.  It is built
from the installed packages with inspect.signature:

- every public function and class of `tf.*` (TensorFlow's API modules, `tf.compat` and `tf.keras` excluded),
  and the methods of `tf.data.Dataset`;
- every class and function in the public `keras.*` and `tf_keras.*` modules listed in KERAS_MODULES,
  and the methods of `Model`/`Sequential`/`Layer` listed in MODEL_METHODS.

Keras 3 and tf_keras entries are merged under one name (`keras.layers.Dense`): a keyword is unknown only
if neither accepts it.  A second table, "keras3", holds what Keras 3 alone accepts, for TFN610
(keyword-rejected-by-keras3), with how it rejects the rest: "TypeError" (no **kwargs) or "ValueError" (an
`__init__` that takes **kwargs and raises on what is left, as Keras 3's Layer and optimizers do).  An entry
whose **kwargs go somewhere we cannot see is open and left out.  Constructors that take `**kwargs` are followed up the class hierarchy (Keras
layers forward them to `Layer.__init__`), and names that an `__init__` takes out of `**kwargs` by hand
(`kwargs.pop("input_shape")`, tf_keras's `allowed_kwargs = {...}`) are read from its source.  An entry
ending in "**" means "also accepts keywords we could not enumerate": TFN301 is then more careful.

Run after upgrading TensorFlow/Keras (needs tensorflow, keras and tf_keras installed):

    python scripts/gen_signatures.py
"""

from __future__ import annotations

import ast
import inspect
import json
import os
import pathlib
import textwrap
import types

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402  (Keras 3)
import tensorflow as tf  # noqa: E402
import tf_keras  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parents[1] / "tflint_notes" / "data" / "signatures.json"
KERAS_MODULES = ("layers", "losses", "optimizers", "callbacks", "metrics", "activations", "initializers",
                 "regularizers", "constraints", "models", "applications", "preprocessing", "utils", "saving",
                 "mixed_precision", "backend", "")
MODEL_METHODS = ("fit", "compile", "evaluate", "predict", "train_on_batch", "test_on_batch", "predict_on_batch",
                 "save", "save_weights", "load_weights", "summary", "to_json", "get_layer", "build",
                 "fit_generator", "evaluate_generator", "predict_generator", "add")
OPEN = "**"


def _kwargs_names_from_source(func) -> set[str]:
    """Keyword names an __init__ takes out of **kwargs by hand."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    except (OSError, TypeError, SyntaxError, IndentationError):
        return set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("pop", "get"):
            if isinstance(node.func.value, ast.Name) and "kwargs" in node.func.value.id and node.args:
                if isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                    names.add(node.args[0].value)
        elif isinstance(node, ast.Compare) and isinstance(node.left, ast.Constant) and isinstance(
                node.left.value, str) and any(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops):
            if any(isinstance(c, ast.Name) and "kwargs" in c.id for c in node.comparators):
                names.add(node.left.value)
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and "allowed" in t.id and "kwargs" in t.id
                                                  for t in node.targets):
            if isinstance(node.value, (ast.Set, ast.List, ast.Tuple)):
                names.update(e.value for e in node.value.elts if isinstance(e, ast.Constant)
                             and isinstance(e.value, str))
    return names


def _params(sig: inspect.Signature) -> tuple[list[str], bool]:
    names, var_kw = [], False
    for p in sig.parameters.values():
        if p.kind is p.VAR_KEYWORD:
            var_kw = True
        elif p.kind is not p.VAR_POSITIONAL and p.name not in ("self", "cls"):
            names.append(p.name)
    return names, var_kw


def _init_chain(cls):
    """(`__init__`, its signature or None if not introspectable) of each class along the MRO that defines one;
    (None, None) when the chain reaches object."""
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        if klass is object:
            yield None, None
            return
        try:
            yield init, inspect.signature(init)
        except (TypeError, ValueError):
            yield init, None


def describe(obj) -> list[str] | None:
    """Accepted keyword names (plus OPEN if more may be accepted), or None if not introspectable."""
    if inspect.isclass(obj):
        accepted: set[str] = set()
        for init, sig in _init_chain(obj):
            if init is None:
                return sorted(accepted) + [OPEN]  # **kwargs that reach nobody we can see
            if sig is None:
                return None
            names, var_kw = _params(sig)
            accepted.update(names)
            accepted.update(_kwargs_names_from_source(init))
            if not var_kw:
                return sorted(accepted)
        return sorted(accepted) + [OPEN]
    if callable(obj):
        try:
            names, var_kw = _params(inspect.signature(obj))
        except (TypeError, ValueError):
            return None
        extra = _kwargs_names_from_source(obj) if var_kw else set()
        return sorted(set(names) | extra) + ([OPEN] if var_kw else [])
    return None


def _var_keyword(sig: inspect.Signature) -> str | None:
    return next((p.name for p in sig.parameters.values() if p.kind is p.VAR_KEYWORD), None)


def _dispatches(sig: inspect.Signature) -> bool:
    """`(*args, **kwargs)`-style: what is accepted depends on where the call is sent (keras.Model's __init__
    builds a functional model or a subclass): unknown."""
    return any(p.kind is p.VAR_POSITIONAL for p in sig.parameters.values())


def _kwargs_fate(func, name: str) -> str:
    """What a function does with its **`name`: "raises" on what is left (`if kwargs: raise ...`), "forwards" it
    (`f(**kwargs)`), or "keeps" it (anything else: open)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    except (OSError, TypeError, SyntaxError, IndentationError):
        return "keeps"
    forwards = False
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == name and any(
                isinstance(inner, ast.Raise) for stmt in node.body for inner in ast.walk(stmt)):
            return "raises"
        if isinstance(node, ast.Call) and any(k.arg is None and isinstance(k.value, ast.Name) and k.value.id == name
                                              for k in node.keywords):
            forwards = True
    return "forwards" if forwards else "keeps"


def describe_keras3(obj) -> tuple[list[str], str] | None:
    """(accepted keywords, the exception the rest raises) for a Keras 3 callable, or None when unknown or open."""
    if inspect.isclass(obj):
        accepted: set[str] = set()
        for init, sig in _init_chain(obj):
            if init is None or sig is None or _dispatches(sig):
                return None
            accepted.update(_params(sig)[0])
            var_kw = _var_keyword(sig)
            if var_kw is None:
                return sorted(accepted), "TypeError"
            accepted.update(_kwargs_names_from_source(init))
            fate = _kwargs_fate(init, var_kw)
            if fate == "raises":
                return sorted(accepted), "ValueError"
            if fate == "keeps":
                return None
        return None
    if callable(obj):
        try:
            sig = inspect.signature(obj)
        except (TypeError, ValueError):
            return None
        if _dispatches(sig):
            return None
        names = _params(sig)[0]
        var_kw = _var_keyword(sig)
        if var_kw is None:
            return sorted(names), "TypeError"
        if _kwargs_fate(obj, var_kw) == "raises":
            return sorted(set(names) | _kwargs_names_from_source(obj)), "ValueError"
    return None


def merge(table: dict, key: str, value: list[str] | None) -> None:
    if value is None:
        return
    if key in table:
        old = table[key]
        names = sorted((set(old) | set(value)) - {OPEN})
        table[key] = names + ([OPEN] if OPEN in old or OPEN in value else [])
    else:
        table[key] = value


def walk_tf(table: dict) -> None:
    seen: set[int] = set()

    def visit(module: types.ModuleType, path: str, depth: int) -> None:
        if id(module) in seen or depth > 4:
            return
        seen.add(id(module))
        for attr in dir(module):
            if attr.startswith("_"):
                continue
            try:
                value = getattr(module, attr)
            except Exception:  # noqa: BLE001 - lazy loaders may fail; skip them
                continue
            key = f"{path}.{attr}"
            if isinstance(value, types.ModuleType):
                if attr in ("compat", "keras") or not value.__name__.startswith(("tensorflow", "tf_keras")):
                    continue
                visit(value, key, depth + 1)
            elif inspect.isclass(value) or callable(value):
                merge(table, key, describe(value))

    visit(tf, "tensorflow", 0)
    for name, method in inspect.getmembers(tf.data.Dataset, predicate=callable):
        if not name.startswith("_"):
            merge(table, f"tensorflow.data.Dataset.{name}", describe(method))


def walk_keras(table: dict, root: types.ModuleType, add=None) -> None:
    add = add or (lambda key, value: merge(table, key, describe(value)))
    for sub in KERAS_MODULES:
        module = root
        for part in filter(None, sub.split(".")):
            module = getattr(module, part, None)
            if module is None:
                break
        if module is None:
            continue
        prefix = "keras" + (f".{sub}" if sub else "")
        for attr in dir(module):
            if attr.startswith("_"):
                continue
            value = getattr(module, attr, None)
            if isinstance(value, types.ModuleType) or value is None:
                continue
            if inspect.isclass(value) or inspect.isfunction(value) or callable(value):
                add(f"{prefix}.{attr}", value)
    for cls_name in ("Model", "Sequential"):
        cls = getattr(root, cls_name)
        for method in MODEL_METHODS:
            if hasattr(cls, method):
                add(f"keras.{cls_name}.{method}", getattr(cls, method))


def main() -> None:
    table: dict[str, list[str]] = {}
    walk_tf(table)
    walk_keras(table, keras)
    walk_keras(table, tf_keras)
    keras3: dict[str, list] = {}

    def add_keras3(key: str, value) -> None:
        found = describe_keras3(value)
        if found is not None:
            keras3[key] = [found[1], *found[0]]

    walk_keras(keras3, keras, add_keras3)
    data = {
        "generated_with": {"tensorflow": tf.__version__, "keras": keras.__version__,
                           "tf_keras": tf_keras.__version__},
        "open_marker": OPEN,
        "callables": dict(sorted(table.items())),
        # Keras 3 alone: name -> [how the rest is rejected ("TypeError"/"ValueError"), accepted keywords...]
        "keras3": dict(sorted(keras3.items())),
    }
    OUT.write_text(json.dumps(data, indent=0, sort_keys=False) + "\n", encoding="utf-8")
    print(f"wrote {len(table)} callables ({len(keras3)} closed Keras 3 ones) to {OUT}")


if __name__ == "__main__":
    main()
