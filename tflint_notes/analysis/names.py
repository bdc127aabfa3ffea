"""Qualified names of the TensorFlow and Keras API and what each says about a call or a class.

Kept apart from the traversal because the same tables serve three readers that must agree: the analysis
(libcst), the screen (CPython's AST, screen.py) and the project index (project/facts.py).  A name that
means "graph code" or "a Keras layer" to one of them means it to all.
"""

from __future__ import annotations

_KERAS_ROOTS = ("tensorflow.keras.", "tensorflow.python.keras.", "tf_keras.", "keras.")
TF_FUNCTION_NAMES = frozenset(
    {
        "tensorflow.function",
        "tensorflow.compat.v2.function",
        "tensorflow.compat.v1.function",
        "tensorflow.python.eager.def_function.function",
        "tensorflow.python.eager.polymorphic_function.polymorphic_function.function",
    }
)
EAGER_CALLBACK_WRAPPERS = frozenset(
    {
        "tensorflow.py_function",
        "tensorflow.numpy_function",
        "tensorflow.compat.v1.py_func",
        "tensorflow.compat.v1.numpy_function",
        "tensorflow.compat.v1.py_function",
        "tensorflow.py_func",
    }
)
DATASET_CALLBACK_METHODS = frozenset({"map", "filter", "flat_map", "interleave"})
KERAS_GRAPH_METHODS = frozenset({"call", "train_step", "test_step", "predict_step"})
# Calls that return a Keras model (canonical names, see `canonical`), and `keras.applications.*`.
MODEL_FACTORIES = frozenset({
    "keras.models.load_model", "keras.saving.load_model", "keras.models.clone_model",
    "keras.models.model_from_json", "keras.Sequential", "keras.models.Sequential", "keras.Model",
    "keras.models.Model",
})


def is_model_factory(qualname: str | None) -> bool:
    if qualname is None:
        return False
    name = canonical(qualname)
    return name in MODEL_FACTORIES or name.startswith("keras.applications.")


_KERAS_BASE_NAMES = frozenset({"Layer", "Model", "Sequential", "Functional", "RNN", "Wrapper"})

# tf.* namespaces whose calls do not return tensors (layers, datasets, config, ...).
_NON_TENSOR_TF_NAMESPACES = frozenset(
    {
        "keras", "data", "summary", "saved_model", "distribute", "train", "config", "autograph",
        "nest", "debugging", "test", "sysconfig", "estimator", "feature_column", "lite", "dtypes",
        "errors", "types", "tpu", "profiler", "experimental", "compat", "python", "module",
        "lookup", "io", "queue", "mlir", "version", "tools",
    }
)
_TENSOR_TF_NAMESPACES_UNDER_EXPERIMENTAL = ("tensorflow.experimental.numpy.",)
_NON_TENSOR_TF_FUNCTIONS = frozenset(
    {
        "function", "print", "name_scope", "device", "control_dependencies", "get_static_value",
        "is_tensor", "executing_eagerly", "as_dtype", "init_scope", "get_logger", "no_gradient",
        "custom_gradient", "recompute_grad", "register_tensor_conversion_function", "group",
        "no_op", "is_symbolic_tensor", "numpy_function_result",
    }
)
_TENSOR_TF_CLASSES = frozenset({"Variable", "SparseTensor", "RaggedTensor", "IndexedSlices"})


def canonical(qualname: str) -> str:
    """Fold the many spellings of one API onto one: tf.keras/tf_keras/keras -> keras, compat.v2 -> tf."""
    for root in _KERAS_ROOTS:
        if qualname.startswith(root):
            return "keras." + qualname[len(root):]
    if qualname.startswith("tensorflow.compat.v2."):
        return "tensorflow." + qualname[len("tensorflow.compat.v2."):]
    return qualname


def is_tf_function(qualname: str | None) -> bool:
    return qualname is not None and qualname in TF_FUNCTION_NAMES


def is_keras_base(qualname: str | None) -> bool:
    """A Keras Layer/Model class (or any class from a Keras `layers` module, e.g. `Dense`)."""
    if qualname is None:
        return False
    q = canonical(qualname)
    if not q.startswith("keras."):
        return False
    last = q.rsplit(".", 1)[-1]
    if not last[:1].isupper():
        return False
    return last in _KERAS_BASE_NAMES or ".layers." in q or ".models." in q


def tf_call_returns_tensor(qualname: str) -> bool:
    q = canonical(qualname)
    if not q.startswith("tensorflow."):
        return False
    if q.startswith(_TENSOR_TF_NAMESPACES_UNDER_EXPERIMENTAL):
        return True
    parts = q.split(".")[1:]
    if not parts:
        return False
    if len(parts) > 1 and parts[0] in _NON_TENSOR_TF_NAMESPACES:
        return False
    last = parts[-1]
    if last in _TENSOR_TF_CLASSES:
        return True
    if not last[:1].islower() or last in _NON_TENSOR_TF_FUNCTIONS:
        return False
    return parts[0] not in _NON_TENSOR_TF_NAMESPACES or len(parts) == 1


def keras_flavour_of(qualname: str, legacy_tf_keras: bool, keras2: bool) -> str:
    """"tf_keras" (legacy Keras 2) or "keras3" for a qualified Keras name: `tf_keras.*` is Keras 2, `tf.keras.*`
    Keras 3 unless the target is legacy Keras (`legacy_tf_keras`), `keras.*` Keras 3 unless the project's
    `keras` is Keras 2 (`keras2`)."""
    if qualname.startswith(("tf_keras.", "tensorflow.python.keras.")):
        return "tf_keras"
    if qualname.startswith(("tensorflow.keras.", "tensorflow.compat.")):
        return "tf_keras" if legacy_tf_keras else "keras3"
    if qualname.startswith("keras.") and keras2:
        return "tf_keras"
    return "keras3"
