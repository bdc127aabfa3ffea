"""Regenerate tflint_notes/data/keras_ops.json: TensorFlow functions and the `keras.ops` function that does the
same thing, for TFN608 (keras-tensor-in-tf-op), whose fix rewrites `tf.concat([a, b], -1)` on a Keras 3
symbolic tensor as `keras.ops.concatenate([a, b], -1)`.

Each candidate below names the TF function, the `keras.ops` function and their parameters pairwise, in
order (so positional arguments keep their place and keywords are renamed).  A candidate is written to the
table only if, under the installed TensorFlow and Keras 3:

- both signatures really have those parameters in that order (inspect);
- both functions give the same result on each sample call, eagerly (NumPy comparison);
- the `keras.ops` call works on a symbolic `keras.Input` tensor (of the sample's shape) and gives the shape
  and dtype the TF function gave.

Candidates that fail are printed and left out.  `tf.shape` is not a candidate: `keras.ops.shape` returns a
tuple with None for unknown dimensions, not a tensor.  Run after upgrading TensorFlow/Keras:

    python scripts/gen_keras_ops_table.py
    python scripts/gen_keras_ops_table.py --check   # exit 1 if the committed table is not what this run proves
"""

from __future__ import annotations

import inspect
import json
import os
import pathlib
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["TF_USE_LEGACY_KERAS"] = "0"

import keras  # noqa: E402  (Keras 3)
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parents[1] / "tflint_notes" / "data" / "keras_ops.json"
X = np.array([[1.0, -2.0, 3.0], [-4.0, 5.0, 0.5]], "float32")
Y = np.array([[0.5, 2.0, -1.0], [3.0, -0.5, 2.0]], "float32")
I = np.array([[0, 2, 1], [1, 0, 2]], "int32")

# tf name, keras.ops name, [(tf parameter, ops parameter), ...], sample calls: (positional args, keywords)
# given as TF-side arguments; "x" stands for the symbolic input in the symbolic check.
UNARY = [
    ("nn.relu", "relu", "features"), ("nn.relu6", "relu6", "features"), ("nn.elu", "elu", "features"),
    ("nn.selu", "selu", "features"), ("nn.gelu", "gelu", "features"), ("nn.sigmoid", "sigmoid", "x"),
    ("math.sigmoid", "sigmoid", "x"), ("sigmoid", "sigmoid", "x"), ("nn.tanh", "tanh", "x"),
    ("math.tanh", "tanh", "x"), ("tanh", "tanh", "x"), ("nn.softplus", "softplus", "features"),
    ("math.softplus", "softplus", "features"), ("nn.silu", "silu", "features"), ("nn.swish", "silu", "features"),
    ("exp", "exp", "x"), ("math.exp", "exp", "x"), ("math.log", "log", "x"), ("sqrt", "sqrt", "x"),
    ("math.sqrt", "sqrt", "x"), ("square", "square", "x"), ("math.square", "square", "x"), ("abs", "abs", "x"),
    ("math.abs", "abs", "x"), ("math.log1p", "log1p", "x"), ("math.sign", "sign", "x"), ("sign", "sign", "x"),
    ("math.negative", "negative", "x"), ("negative", "negative", "x"), ("math.floor", "floor", "x"),
    ("floor", "floor", "x"), ("math.ceil", "ceil", "x"), ("math.round", "round", "x"), ("round", "round", "x"),
    ("math.reciprocal", "reciprocal", "x"), ("math.rsqrt", "rsqrt", "x"), ("math.sin", "sin", "x"),
    ("math.cos", "cos", "x"), ("sin", "sin", "x"), ("cos", "cos", "x"), ("stop_gradient", "stop_gradient", "input"),
]
CANDIDATES = [
    *[(tf_name, ops_name, [(param, "x")], [((X,), {})]) for tf_name, ops_name, param in UNARY],
    ("nn.softmax", "softmax", [("logits", "x"), ("axis", "axis")], [((X,), {}), ((X, 0), {})]),
    ("nn.log_softmax", "log_softmax", [("logits", "x"), ("axis", "axis")], [((X,), {}), ((X, 0), {})]),
    ("nn.leaky_relu", "leaky_relu", [("features", "x"), ("alpha", "negative_slope")], [((X, 0.1), {})]),
    ("concat", "concatenate", [("values", "xs"), ("axis", "axis")], [(([X, Y], -1), {}), (([X, Y], 0), {})]),
    ("stack", "stack", [("values", "x"), ("axis", "axis")], [(([X, Y], 1), {}), (([X, Y],), {})]),
    ("add", "add", [("x", "x1"), ("y", "x2")], [((X, Y), {})]),
    ("math.add", "add", [("x", "x1"), ("y", "x2")], [((X, Y), {})]),
    ("subtract", "subtract", [("x", "x1"), ("y", "x2")], [((X, Y), {})]),
    ("math.subtract", "subtract", [("x", "x1"), ("y", "x2")], [((X, Y), {})]),
    ("multiply", "multiply", [("x", "x1"), ("y", "x2")], [((X, Y), {})]),
    ("math.multiply", "multiply", [("x", "x1"), ("y", "x2")], [((X, Y), {})]),
    ("maximum", "maximum", [("x", "x1"), ("y", "x2")], [((X, Y), {})]),
    ("math.maximum", "maximum", [("x", "x1"), ("y", "x2")], [((X, Y), {})]),
    ("minimum", "minimum", [("x", "x1"), ("y", "x2")], [((X, Y), {})]),
    ("math.minimum", "minimum", [("x", "x1"), ("y", "x2")], [((X, Y), {})]),
    ("matmul", "matmul", [("a", "x1"), ("b", "x2")], [((X, Y.T), {})]),
    ("linalg.matmul", "matmul", [("a", "x1"), ("b", "x2")], [((X, Y.T), {})]),
    ("reduce_mean", "mean", [("input_tensor", "x"), ("axis", "axis"), ("keepdims", "keepdims")],
     [((X,), {}), ((X, 1), {}), ((X, -1, True), {}), ((X,), {"axis": 0, "keepdims": True})]),
    ("math.reduce_mean", "mean", [("input_tensor", "x"), ("axis", "axis"), ("keepdims", "keepdims")],
     [((X, 1), {})]),
    ("reduce_sum", "sum", [("input_tensor", "x"), ("axis", "axis"), ("keepdims", "keepdims")],
     [((X,), {}), ((X, 1), {}), ((X, -1, True), {})]),
    ("math.reduce_sum", "sum", [("input_tensor", "x"), ("axis", "axis"), ("keepdims", "keepdims")], [((X, 1), {})]),
    ("reduce_max", "max", [("input_tensor", "x"), ("axis", "axis"), ("keepdims", "keepdims")],
     [((X,), {}), ((X, 1), {}), ((X, -1, True), {})]),
    ("math.reduce_max", "max", [("input_tensor", "x"), ("axis", "axis"), ("keepdims", "keepdims")], [((X, 1), {})]),
    ("reduce_min", "min", [("input_tensor", "x"), ("axis", "axis"), ("keepdims", "keepdims")],
     [((X,), {}), ((X, 1), {}), ((X, -1, True), {})]),
    ("math.reduce_min", "min", [("input_tensor", "x"), ("axis", "axis"), ("keepdims", "keepdims")], [((X, 1), {})]),
    ("reduce_prod", "prod", [("input_tensor", "x"), ("axis", "axis"), ("keepdims", "keepdims")], [((X, 1), {})]),
    ("expand_dims", "expand_dims", [("input", "x"), ("axis", "axis")], [((X, 1), {}), ((X, -1), {})]),
    ("squeeze", "squeeze", [("input", "x"), ("axis", "axis")], [((X[:, :1],), {}), ((X[:, :1], 1), {})]),
    ("reshape", "reshape", [("tensor", "x"), ("shape", "newshape")], [((X, (-1, 3, 1)), {}), ((X, (6,)), {})]),
    ("transpose", "transpose", [("a", "x"), ("perm", "axes")], [((X,), {}), ((X, (1, 0)), {})]),
    ("tile", "tile", [("input", "x"), ("multiples", "repeats")], [((X, (1, 2)), {})]),
    ("clip_by_value", "clip", [("t", "x"), ("clip_value_min", "x_min"), ("clip_value_max", "x_max")],
     [((X, -1.0, 1.0), {})]),
    ("one_hot", "one_hot", [("indices", "x"), ("depth", "num_classes")], [((I, 3), {})]),
    ("cast", "cast", [("x", "x"), ("dtype", "dtype")], [((X, "int32"), {}), ((X, tf.float16), {}),
                                                        ((I, "float32"), {})]),
]


def _names(func, count: int) -> list[str]:
    params = [p for p in inspect.signature(func).parameters.values()
              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return [p.name for p in params[:count]]


def _resolve(root, dotted: str):
    obj = root
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def _ops_kwargs(kwargs: dict, pairs: list) -> dict:
    rename = dict(pairs)
    return {rename[k]: (v.name if isinstance(v, tf.DType) else v) for k, v in kwargs.items()}


def _ops_args(args: tuple) -> tuple:
    return tuple(a.name if isinstance(a, tf.DType) else a for a in args)


def verify(tf_name: str, ops_name: str, pairs: list, samples: list) -> str | None:
    """None if the candidate holds, else why not."""
    tf_func, ops_func = _resolve(tf, tf_name), _resolve(keras.ops, ops_name)
    if _names(tf_func, len(pairs)) != [a for a, _ in pairs]:
        return f"tf.{tf_name} parameters are {_names(tf_func, len(pairs))}"
    if _names(ops_func, len(pairs)) != [b for _, b in pairs]:
        return f"keras.ops.{ops_name} parameters are {_names(ops_func, len(pairs))}"
    for args, kwargs in samples:
        expected = np.asarray(tf_func(*args, **kwargs))
        got = keras.ops.convert_to_numpy(ops_func(*_ops_args(args), **_ops_kwargs(kwargs, pairs)))
        if expected.shape != got.shape or expected.dtype != got.dtype or not np.allclose(expected, got, atol=1e-5, equal_nan=True):
            return f"differs on {args!r} {kwargs!r}: {expected!r} vs {got!r}"
        # symbolic: the first argument (or the list's items) becomes a keras.Input of the same shape
        first = args[0]
        inputs = [keras.Input(batch_shape=np.shape(a), dtype=str(np.asarray(a).dtype)) for a in
                  (first if isinstance(first, list) else [first])]
        symbolic = (inputs if isinstance(first, list) else inputs[0], *args[1:])
        out = ops_func(*_ops_args(symbolic), **_ops_kwargs(kwargs, pairs))
        if tuple(out.shape) != expected.shape or out.dtype != str(expected.dtype):
            return f"symbolic result {out.shape} {out.dtype} vs {expected.shape} {expected.dtype}"
    return None


def main() -> None:
    table = {}
    for tf_name, ops_name, pairs, samples in CANDIDATES:
        why = verify(tf_name, ops_name, pairs, samples)
        if why is not None:
            print(f"left out tf.{tf_name} -> keras.ops.{ops_name}: {why}")
            continue
        table[f"tensorflow.{tf_name}"] = {"ops": ops_name, "params": [list(pair) for pair in pairs]}
    data = {"generated_with": {"tensorflow": tf.__version__, "keras": keras.__version__},
            "functions": dict(sorted(table.items()))}
    if "--check" in sys.argv:
        committed = json.loads(OUT.read_text(encoding="utf-8"))["functions"]
        if committed != data["functions"]:
            stale = sorted(set(committed) ^ set(data["functions"]))
            sys.exit(f"{OUT} differs from what this TensorFlow/Keras proves (entries: {stale or 'changed'})")
        print(f"all {len(table)} entries proven")
        return
    OUT.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(table)} of {len(CANDIDATES)} candidates to {OUT}")


if __name__ == "__main__":
    main()
