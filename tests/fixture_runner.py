"""Run fixture programs under real TensorFlow, all in this one process (TF import is slow).

    python tests/fixture_runner.py OUT.json FILE...

Each FILE is imported and its main() called; OUT.json gets the Keras flavour and, per file,
"pass" or the exception type and message.  The pytest side (test_tf_execution.py) asserts on it.

A FILE written `project:ROOT/run.py` is the entry program of a multi-module fixture project
(fixtures/projects/xmod_*): ROOT goes first on sys.path while it runs, so the program imports the
project's own packages; afterwards every module loaded from ROOT (and every module named like one of
ROOT's top-level packages or modules) leaves sys.modules and ROOT leaves sys.path, so the next project
may use the same package names.  Its result is recorded under the path without the prefix.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import sys
import traceback


def run_notebook(path: str) -> None:
    """Execute a notebook's code cells in order in IPython, as Jupyter does (magics and shell escapes run)."""
    from IPython.core.interactiveshell import InteractiveShell

    with open(path, encoding="utf-8") as handle:
        notebook = json.load(handle)
    shell = InteractiveShell.instance()
    shell.reset(new_session=False)
    for number, cell in enumerate(notebook["cells"], 1):
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        result = shell.run_cell(source, silent=True)
        error = result.error_before_exec or result.error_in_exec
        if error is not None:
            raise error.with_traceback(error.__traceback__) if error.__traceback__ else error


PROJECT_PREFIX = "project:"


def _project_top_names(root: str) -> set[str]:
    """The names `import X` finds first in ROOT: its modules and its folders holding Python files (packages,
    with or without __init__.py)."""
    names = set()
    for entry in os.listdir(root):
        full = os.path.join(root, entry)
        if entry.endswith(".py") and os.path.isfile(full) and entry[:-3].isidentifier():
            names.add(entry[:-3])
        elif entry.isidentifier() and entry != "__pycache__" and os.path.isdir(full) and any(
                name.endswith(".py") for name in os.listdir(full)):
            names.add(entry)
    return names


def _project_modules(root: str, names: set[str], exclude: set[str]) -> list[str]:
    """Modules in sys.modules (not in `exclude`) that belong to the project: named after one of its top-level
    names, or loaded from a file under ROOT."""
    prefix = os.path.join(os.path.realpath(root), "")
    found = []
    for module_name, module in list(sys.modules.items()):
        if module_name in exclude:
            continue
        origin = getattr(module, "__file__", None)
        if module_name.partition(".")[0] in names or (origin and os.path.realpath(origin).startswith(prefix)):
            found.append(module_name)
    return found


def run_project_program(path: str, name: str) -> None:
    """Run ROOT/run*.py of a fixture project with ROOT importable, then forget the project again."""
    root = os.path.dirname(os.path.abspath(path))
    names = _project_top_names(root)
    clash = _project_modules(root, names, exclude=set())
    if clash:  # the program would import these instead of the project's own modules
        raise RuntimeError(f"{root}: modules already imported under the project's names: {sorted(clash)}")
    loaded_before = set(sys.modules)
    sys.path.insert(0, root)
    importlib.invalidate_caches()
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        module.main()
    finally:
        while root in sys.path:
            sys.path.remove(root)
        sys.modules.pop(name, None)
        for module_name in _project_modules(root, names, exclude=loaded_before):
            del sys.modules[module_name]
        importlib.invalidate_caches()


def main() -> None:
    out_path, files = sys.argv[1], sys.argv[2:]
    import tensorflow as tf

    flavour = tf.keras.__name__
    results = {}
    for index, path in enumerate(files):
        tf.keras.backend.clear_session()
        name = f"fixture_program_{index}"
        captured = io.StringIO()
        project = path.startswith(PROJECT_PREFIX)
        if project:
            path = path[len(PROJECT_PREFIX):]
        try:
            with contextlib.redirect_stdout(captured):
                if project:
                    run_project_program(path, name)
                elif path.endswith(".ipynb"):
                    run_notebook(path)
                else:
                    spec = importlib.util.spec_from_file_location(name, path)
                    module = importlib.util.module_from_spec(spec)
                    sys.modules[name] = module
                    spec.loader.exec_module(module)
                    module.main()
            results[path] = {"status": "pass", "stdout": captured.getvalue()}
        except BaseException as exc:  # noqa: BLE001 - every failure is data for the test
            results[path] = {
                "status": "error",
                "type": type(exc).__name__,
                "message": str(exc),
                "traceback": traceback.format_exc(limit=-3),
                "stdout": captured.getvalue(),
            }
    with open(out_path, "w", encoding="utf-8") as handle:
        json.dump({"keras": flavour, "legacy_env": os.environ.get("TF_USE_LEGACY_KERAS", ""),
                   "tensorflow": tf.__version__, "results": results}, handle, indent=1)


if __name__ == "__main__":
    main()
