"""Keras 1/2 keyword arguments that Keras 3 rejects or ignores: a table curated by hand (Keras 1 names are in
no installed package).  Every entry is proven by a fixture under fixtures/TFN605/ (the keyword raises or is
ignored under Keras 3 as its note says); TFN301 consults the table before it guesses a spelling."""

from __future__ import annotations

from dataclasses import dataclass

RENAME, DROP_SAFE, DROP_UNSAFE, REPORT = "rename", "drop", "drop-unsafe", "report"


@dataclass(frozen=True)
class KerasArgument:
    keyword: str
    applies: str  # a callable group, see `group_of`
    new: str | None
    action: str
    consequence: str  # what Keras 3 does with it
    advice: str = ""


_CONV = "conv"
TABLE = (
    KerasArgument("lr", "optimizer", "learning_rate", RENAME, "ValueError: Argument(s) not recognized"),
    KerasArgument("decay", "optimizer", None, REPORT,
                  "ignored with only a warning: the learning-rate decay is lost",
                  "use a keras.optimizers.schedules.LearningRateSchedule (InverseTimeDecay(lr, 1, decay) is "
                  "Keras 2's decay)"),
    KerasArgument("nb_epoch", "fit", "epochs", RENAME, "TypeError: unexpected keyword argument"),
    KerasArgument("workers", "fit-evaluate-predict", None, DROP_UNSAFE, "TypeError: unexpected keyword argument",
                  "Keras 3 reads tf.data and arrays itself; for a Python generator use a keras.utils.PyDataset with "
                  "workers= and use_multiprocessing="),
    KerasArgument("use_multiprocessing", "fit-evaluate-predict", None, DROP_UNSAFE,
                  "TypeError: unexpected keyword argument",
                  "for a Python generator use a keras.utils.PyDataset with use_multiprocessing="),
    KerasArgument("max_queue_size", "fit-evaluate-predict", None, DROP_UNSAFE,
                  "TypeError or ValueError: argument not recognized",
                  "for a Python generator use a keras.utils.PyDataset with max_queue_size="),
    KerasArgument("init", "layer", "kernel_initializer", RENAME, "ValueError: Unrecognized keyword arguments"),
    KerasArgument("W_regularizer", "layer", "kernel_regularizer", RENAME, "ValueError: Unrecognized keyword arguments"),
    KerasArgument("b_regularizer", "layer", "bias_regularizer", RENAME, "ValueError: Unrecognized keyword arguments"),
    KerasArgument("W_constraint", "layer", "kernel_constraint", RENAME, "ValueError: Unrecognized keyword arguments"),
    KerasArgument("b_constraint", "layer", "bias_constraint", RENAME, "ValueError: Unrecognized keyword arguments"),
    KerasArgument("border_mode", "layer", "padding", RENAME, "ValueError: Unrecognized keyword arguments"),
    KerasArgument("subsample", "layer", "strides", RENAME, "ValueError: Unrecognized keyword arguments"),
    KerasArgument("nb_filter", "layer", "filters", RENAME, "ValueError: Unrecognized keyword arguments"),
    KerasArgument("output_dim", "layer", "units", RENAME, "ValueError: Unrecognized keyword arguments"),
    KerasArgument("dropout_W", "layer", "dropout", RENAME, "ValueError: Unrecognized keyword arguments"),
    KerasArgument("dropout_U", "layer", "recurrent_dropout", RENAME, "ValueError: Unrecognized keyword arguments"),
    KerasArgument("batch_input_shape", "layer", None, REPORT, "ValueError: Unrecognized keyword arguments",
                  "start the model with keras.Input(batch_shape=...)"),
    KerasArgument("fused", "batchnorm", None, DROP_SAFE, "ValueError: Unrecognized keyword arguments",
                  "it only chose an implementation; Keras 3 picks it"),
    KerasArgument("input_length", "embedding", None, DROP_SAFE, "ignored with only a warning",
                  "Keras 3 infers the sequence length"),
    KerasArgument("input", "model", "inputs", RENAME, "ValueError: Unrecognized keyword arguments"),
    KerasArgument("output", "model", "outputs", RENAME, "ValueError: Unrecognized keyword arguments"),
    KerasArgument("period", "checkpoint", None, REPORT, "TypeError: unexpected keyword argument 'period'",
                  "Keras 3 has save_freq, which counts batches: save_freq=period * steps_per_epoch, or "
                  "save_freq=\"epoch\""),
)
BY_KEYWORD: dict[str, list[KerasArgument]] = {}
for _entry in TABLE:
    BY_KEYWORD.setdefault(_entry.keyword, []).append(_entry)

_FIT_METHODS = ("fit", "fit_generator")
_FIT_EVALUATE_PREDICT = ("fit", "evaluate", "predict", "fit_generator", "evaluate_generator", "predict_generator")


def groups_of(callable_name: str) -> set[str]:
    """The groups of a Keras callable: `keras.optimizers.Adam` (canonical) or `keras.Model.fit` (method)."""
    groups = set()
    parts = callable_name.split(".")
    leaf = parts[-1]
    if callable_name.startswith("keras.Model."):
        if leaf in _FIT_METHODS:
            groups.add("fit")
        if leaf in _FIT_EVALUATE_PREDICT:
            groups.add("fit-evaluate-predict")
        return groups
    if callable_name.startswith("keras.optimizers.") and leaf[:1].isupper() and "schedules" not in parts:
        groups.add("optimizer")
    if callable_name.startswith("keras.layers.") and leaf[:1].isupper():
        groups.add("layer")
        if leaf == "BatchNormalization":
            groups.add("batchnorm")
        if leaf == "Embedding":
            groups.add("embedding")
    if callable_name in ("keras.Model", "keras.models.Model"):
        groups.add("model")
    if callable_name == "keras.callbacks.ModelCheckpoint":
        groups.add("checkpoint")
    return groups


def renamed_argument(callable_name: str, keyword: str, accepted: frozenset | None = None) -> KerasArgument | None:
    """The table's entry for `keyword` passed to `callable_name`, or None.  `accepted`: the keywords the
    callable takes (a rename applies only if the callable takes the new keyword)."""
    entries = BY_KEYWORD.get(keyword)
    if not entries:
        return None
    groups = groups_of(callable_name)
    for entry in entries:
        if entry.applies in groups:
            if entry.applies == "layer" and entry.new is not None and accepted is not None and (
                    entry.new not in accepted and "**" not in accepted):
                continue  # `output_dim=` on a layer without units: not this entry's case
            return entry
    return None
