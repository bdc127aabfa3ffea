"""Run fixture programs under real TensorFlow, all in this one process (TF import is slow).

    python tests/fixture_runner.py OUT.json FILE...

Each FILE is imported and its main() called; OUT.json gets the Keras flavour and, per file,
"pass" or the exception type and message.  The pytest side (test_tf_execution.py) asserts on it.
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


def main() -> None:
    out_path, files = sys.argv[1], sys.argv[2:]
    import tensorflow as tf

    flavour = tf.keras.__name__
    results = {}
    for index, path in enumerate(files):
        tf.keras.backend.clear_session()
        name = f"fixture_program_{index}"
        captured = io.StringIO()
        try:
            with contextlib.redirect_stdout(captured):
                if path.endswith(".ipynb"):
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
