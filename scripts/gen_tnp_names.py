"""Regenerate tflint_notes/data/tnp_functions.json: the functions of tf.experimental.numpy.

TFN101's unsafe fix rewrites `np.f(...)` to `tf.experimental.numpy.f(...)` only when `f` exists there.
Run with TensorFlow installed:  python scripts/gen_tnp_names.py
"""

import json
import pathlib

import tensorflow as tf

OUT = pathlib.Path(__file__).resolve().parents[1] / "tflint_notes" / "data" / "tnp_functions.json"


def main() -> None:
    tnp = tf.experimental.numpy
    names = sorted(n for n in dir(tnp) if not n.startswith("_") and callable(getattr(tnp, n))
                   and not isinstance(getattr(tnp, n), type))
    OUT.write_text(json.dumps({"tensorflow": tf.__version__, "functions": names}, indent=1) + "\n")
    print(f"wrote {len(names)} names to {OUT}")


if __name__ == "__main__":
    main()
