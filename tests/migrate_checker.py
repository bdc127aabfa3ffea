"""Run a migrated project under real TensorFlow (a subprocess of test_migrate_tf.py) and print, as JSON, what
happened: the smoke script's output, which modules import, whether the notebook's cells run, and every
`tf.*`/`keras.*` attribute chain of the migrated code that does not resolve on the real modules.

    python migrate_checker.py PROJECT SCRIPT PACKAGE NOTEBOOK

The script runs first (as `__main__`), so whatever it sets before importing TensorFlow (the tf_keras route's
TF_USE_LEGACY_KERAS) decides the Keras flavour of the whole process, as it would for a user.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import io
import json
import os
import runpy
import sys
import traceback

ROOTS = ("tensorflow", "keras", "tf_keras")


def bound_modules(tree: ast.Module) -> dict[str, str]:
    """name -> the module path it is bound to, for imports of TensorFlow/Keras anywhere in the code."""
    out = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in ROOTS:
                    out[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and node.module.split(".")[0] in ROOTS:
            for alias in node.names:
                if alias.name != "*":
                    out[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return out


def resolve(path: str):
    """The object a dotted path names, importing modules as Python would; raises when it does not exist."""
    parts = path.split(".")
    obj = importlib.import_module(parts[0])
    for index, part in enumerate(parts[1:], 1):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            obj = importlib.import_module(".".join(parts[:index + 1]))
    return obj


def chains(tree: ast.Module, names: dict[str, str]):
    """(line, dotted path) of every maximal attribute chain rooted at a name bound to TF/Keras."""
    inner = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute):
            inner.add(id(node.value))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or id(node) in inner:
            continue
        parts = []
        current = node
        while isinstance(current, ast.Attribute):
            parts.append(current.attr)
            current = current.value
        if isinstance(current, ast.Name) and current.id in names:
            yield node.lineno, ".".join([names[current.id], *reversed(parts)])
    for name, path in names.items():
        yield 0, path


def unresolved(source: str, label: str) -> list:
    tree = ast.parse(source)
    out = []
    for line, path in sorted(set(chains(tree, bound_modules(tree)))):
        try:
            resolve(path)
        except Exception:  # noqa: BLE001 - any failure to resolve is what we report
            out.append([label, line, path])
    return out


def notebook_code(path: str) -> list[str]:
    with open(path, encoding="utf-8") as handle:
        cells = json.load(handle)["cells"]
    out = []
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        out.append("\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))))
    return out


def main() -> None:
    project, script, package, notebook = sys.argv[1:5]
    os.chdir(project)
    sys.path.insert(0, project)
    report = {"script": "", "script_error": None, "imports": {}, "notebook_error": None, "unresolved": [],
              "tf_keras": None}
    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer):
            runpy.run_path(script, run_name="__main__")
    except BaseException:  # noqa: BLE001
        report["script_error"] = traceback.format_exc()[-3000:]
    report["script"] = buffer.getvalue()
    sources = {}
    for folder, _, files in os.walk(package):
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                module = path[:-3].replace(os.sep, ".").removesuffix(".__init__")
                try:
                    importlib.import_module(module)
                    report["imports"][module] = None
                except BaseException as exc:  # noqa: BLE001
                    report["imports"][module] = f"{type(exc).__name__}: {exc}"
                sources[path] = open(path, encoding="utf-8").read()
    sources[script] = open(script, encoding="utf-8").read()
    namespace: dict = {}
    cells = notebook_code(notebook)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            for cell in cells:
                exec(compile(cell, notebook, "exec"), namespace)  # noqa: S102 - the fixture's own code
    except BaseException:  # noqa: BLE001
        report["notebook_error"] = traceback.format_exc()[-3000:]
    for path, source in sources.items():
        report["unresolved"] += unresolved(source, path.replace(os.sep, "/"))
    report["unresolved"] += unresolved("\n".join(cells), notebook)
    import tensorflow as tf

    report["tf_keras"] = tf.keras.__name__.startswith("tf_keras") or "tf_keras" in type(tf.keras.layers.Dense).__module__ \
        or tf.keras.layers.Dense.__module__.startswith("tf_keras")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
