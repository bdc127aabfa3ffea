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
    """Execute a notebook's code cells in order, like Jupyter would (IPython magics skipped)."""
    from tflint_notes.documents import NotebookDocument

    with open(path, "rb") as handle:
        document = NotebookDocument(path, handle.read())
    namespace = {"__name__": "__main__"}
    exec(compile(document.text, path, "exec"), namespace)


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
