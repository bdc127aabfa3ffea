"""TFN606 keras3-save-path."""

from __future__ import annotations

import ast

import libcst as cst

from tflint_notes.analysis import call_argument, canonical
from tflint_notes.rule import PendingFix, Replacement
from tflint_notes.rules.keywords import own_method
from tflint_notes.rules.migration._shared import GuardedRule, dotted_text, may_be_model
from tflint_notes.screen import FileFacts

_MODEL_FILES = (".keras", ".h5", ".hdf5")
_WEIGHTS_FILE = ".weights.h5"
_SAVE_FUNCTIONS = ("keras.models.save_model", "keras.saving.save_model")
_LOAD_FUNCTIONS = ("keras.models.load_model", "keras.saving.load_model")
_CHECKPOINT = "keras.callbacks.ModelCheckpoint"
# The last names of everything the screen looks at: the model methods and the functions above.
_SCREENED_NAMES = ("save", "save_weights", *{name.rpartition(".")[2] for name in (*_SAVE_FUNCTIONS, *_LOAD_FUNCTIONS,
                                                                                  _CHECKPOINT)})
_PATH_JOIN = ("os.path.join", "posixpath.join", "ntpath.join")
# Readers of a SavedModel directory: a model saved there is meant for serving or conversion (`model.export`).
_SAVED_MODEL_READERS = {
    "tensorflow.lite.TFLiteConverter.from_saved_model": (0, "saved_model_dir"),
    "tensorflow.saved_model.load": (0, "export_dir"),
    "tensorflow.experimental.tensorrt.Converter": (None, "input_saved_model_dir"),
}


class Keras3SavePath(GuardedRule):
    """## What it does
    Flags, for Keras 3 targets, a save path Keras 3 refuses: `model.save(path)` and
    `keras.models.save_model(model, path)` whose path does not end in `.keras`, `.h5` or `.hdf5` (a Keras 2
    SavedModel directory); `model.save_weights(path)` not ending in `.weights.h5`; `ModelCheckpoint(path)`
    not ending in `.keras` or `.h5` (`.weights.h5` with `save_weights_only=True`); and
    `keras.models.load_model(path)` of a path without a model-file extension (a SavedModel directory).
    Only paths whose end is written in the code are judged: a string, an f-string or a concatenation whose
    last part is a literal, `os.path.join(..., "model")`, or a name assigned once in the same function from
    such an expression (`path = os.path.join(tmp, "model")`); never a path built from a value the module
    does not show (a parameter, a name assigned twice, a config field).

    What the module does with the directory decides the advice: saved and loaded back with `load_model`
    (to predict or train on), both paths get `.keras`; saved and read as a SavedModel
    (`tf.lite.TFLiteConverter.from_saved_model`, `tf.saved_model.load`, the TensorRT converter), the model
    is written with `model.export(path)`, which Keras 3 keeps for serving.

    ## Why is this bad?
    Keras 3 raises `ValueError: Invalid filepath extension for saving` — and `model.save` usually runs
    *after* the training, which is lost. `ModelCheckpoint` raises when it is built, `load_model` of a
    SavedModel directory raises `File format not supported`.

    ## Example
    ```python
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.save("saved/my_model")
    model.save_weights("weights.h5")
    ```

    ## Use instead
    ```python
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.save("saved/my_model.keras")
    model.save_weights("weights.weights.h5")
    ```

    ## Fix safety
    **Unsafe**: `.keras` (or `.weights.h5`) is appended to the literal. The output becomes one file, not a
    directory: code that reads the directory afterwards must change, and `model.save` does not create the
    parent folder (`saved/` must exist; `ModelCheckpoint` creates it). A `load_model` of a path the module
    saves gets `.keras` too; `model.save(path)` feeding a SavedModel reader becomes `model.export(path)`
    (a serving artifact: it has no optimizer state and `load_model` cannot read it). No fix for `load_model`
    of a SavedModel directory the module does not write: `keras.layers.TFSMLayer(path,
    call_endpoint="serving_default")` loads it for inference only; to train on, re-save it as `.keras` with
    Keras 2.

    ## Proof
    [`fixtures/TFN606/`](../fixtures/TFN606/): `before.py` trains, then fails to save under Keras 3 (it works
    under tf_keras); `after_unsafe.py` saves and reloads (and trains on the reloaded model), or exports and
    converts to TFLite, under both.
    """

    code = "TFN606"
    fix_kind = "unsafe"
    name = "keras3-save-path"
    summary = "model.save/save_weights/ModelCheckpoint/load_model path that Keras 3 refuses"
    triggers = ("save", "load_model", "ModelCheckpoint")
    expected_errors = ("ValueError",)

    @staticmethod
    def screen(facts: FileFacts) -> bool:
        if not facts.may_be_keras3():
            return False  # Keras 3 only, and the project's tf.keras and keras are both Keras 2
        # The path's last characters decide, as in the rule (`_final_literal`); a name may hold any value the
        # file assigns it.
        for c in facts.calls_named(_SCREENED_NAMES):
            call = c.node
            func = call.func
            if type(func) is ast.Attribute and func.attr in ("save", "save_weights"):
                wanted = _MODEL_FILES if func.attr == "save" else (_WEIGHTS_FILE,)
                if may_be_model(func.value, facts, parameters=False) and any(
                        text and not text.endswith(wanted)
                        for text in _final_texts(_ast_argument(call, 0, "filepath"), facts)):
                    return True
            names = {canonical(q) for q in facts.qualnames(func) if facts.may_be_keras3_name(q)}
            if names.isdisjoint(_SAVE_FUNCTIONS) and names.isdisjoint(_LOAD_FUNCTIONS) and _CHECKPOINT not in names:
                continue
            if not names.isdisjoint(_SAVE_FUNCTIONS) and any(
                    text and not text.endswith(_MODEL_FILES)
                    for text in _final_texts(_ast_argument(call, 1, "filepath"), facts)):
                return True
            if not names.isdisjoint(_LOAD_FUNCTIONS) and any(
                    _looks_like_directory(text) for text in _final_texts(_ast_argument(call, 0, "filepath"), facts)):
                return True
            if _CHECKPOINT in names:
                weights = any(k.arg == "save_weights_only" and type(k.value) is ast.Constant and k.value.value is True
                              for k in call.keywords)
                wanted = (_WEIGHTS_FILE,) if weights else (".keras", ".h5")
                if any(text and not text.endswith(wanted)
                       for text in _final_texts(_ast_argument(call, 0, "filepath"), facts)):
                    return True
        return False

    def __init__(self, ctx, sink):
        super().__init__(ctx, sink)
        self._values: dict = {}  # (function, name) -> the expression it was assigned, if assigned once
        # judged once the module is read: a directory saved and loaded (or converted) in the same module
        self._saves: list = []  # (call, path node, text, report arguments, top)
        self._loads: list = []  # (path node, text, literal node, top)
        self._read_as_saved_model: set = set()  # path texts a SavedModel reader (TFLite, saved_model.load) gets

    def leave_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            key = (self.ctx.current_function, node.targets[0].target.value)
            self._values[key] = None if key in self._values else node.value  # a second assignment: unknown

    def _value_of(self, name: cst.Name) -> cst.BaseExpression | None:
        return self._values.get((self.ctx.current_function, name.value))

    def visit_Call(self, node: cst.Call) -> None:
        if self.guarded:
            return
        func = node.func
        qual = self.ctx.resolve(func)
        if qual is not None:
            if self.ctx.keras_flavour(qual) != "keras3":
                return
            name = canonical(qual)
            if name in _SAVED_MODEL_READERS:
                position, keyword = _SAVED_MODEL_READERS[name]
                literal = _final_literal(self.ctx, call_argument(node, position if position is not None else 99, keyword),
                                         self._value_of)
                if literal is not None:
                    self._read_as_saved_model.add(literal[1])
                return
            if name in _SAVE_FUNCTIONS:
                self._check(node, call_argument(node, 1, "filepath"), _MODEL_FILES, ".keras", "keras.models.save_model")
            elif name in _LOAD_FUNCTIONS:
                self._check_load(node, call_argument(node, 0, "filepath"))
            elif name == _CHECKPOINT:
                weights = any(a.keyword is not None and a.keyword.value == "save_weights_only"
                              and isinstance(a.value, cst.Name) and a.value.value == "True" for a in node.args)
                wanted = (_WEIGHTS_FILE,) if weights else (".keras", ".h5")
                self._check(node, call_argument(node, 0, "filepath"), wanted, wanted[0], "ModelCheckpoint")
            return
        if not isinstance(func, cst.Attribute) or func.attr.value not in ("save", "save_weights"):
            return
        obj = self.ctx.keras_object(func.value)
        if obj is None or obj.kind != "model" or obj.flavour != "keras3":
            return
        if own_method(self.ctx, obj.cls, func.attr.value) is not None:
            return
        if func.attr.value == "save":
            path = call_argument(node, 0, "filepath")
            literal = _final_literal(self.ctx, path, self._value_of)
            if literal is not None:
                self._saves.append((node, path, literal, self.ctx.current_top))
        else:
            self._check(node, call_argument(node, 0, "filepath"), (_WEIGHTS_FILE,), _WEIGHTS_FILE, f"{dotted_text(func)}")

    def _check(self, call: cst.Call, path: cst.BaseExpression | None, allowed: tuple, suffix: str, what: str) -> None:
        literal = _final_literal(self.ctx, path, self._value_of)
        if literal is not None:
            self._report_suffix(path, literal, allowed, suffix, what)

    def _report_suffix(self, path: cst.BaseExpression, literal: tuple, allowed: tuple, suffix: str, what: str,
                       top: cst.CSTNode | None = None) -> None:
        node, text = literal
        if text.endswith(allowed) or not text:
            return
        fix = self._append(node, text, suffix) if not text.endswith(("/", "\\")) else None
        shown = text if node is path else "..." + text
        if what == "ModelCheckpoint":
            # it checks the path when it is created, and creates the folder itself when it saves
            self.report(path, f"ModelCheckpoint() path `{shown}` does not end in {' or '.join(allowed)}: Keras 3 raises "
                              f"ValueError when the callback is created (The filepath provided must end in ...); add "
                              f"{suffix}", fix=fix, top=top)
            return
        self.report(path, f"{what}() path `{shown}` does not end in {' or '.join(allowed)}: Keras 3 raises ValueError "
                          f"(Invalid filepath extension), often after training; add {suffix} (one file, not a "
                          f"directory; Keras 3 does not create its parent folder)", fix=fix, top=top)

    def finish(self) -> None:
        saved = {literal[1] for _, _, literal, _ in self._saves}
        for call, path, literal, top in self._saves:
            text = literal[1]
            if text in self._read_as_saved_model and not text.endswith(_MODEL_FILES):
                func = call.func
                only_path = len(call.args) == 1
                fix = PendingFix([Replacement(func.attr, "export")], safe=False,
                                 description="write the SavedModel with export()") if only_path else None
                self.report(path, f"{dotted_text(func)}(`{text}`) writes a SavedModel that this module reads back as "
                                  f"one (a converter or tf.saved_model.load): Keras 3's save() writes only .keras/.h5 "
                                  f"(ValueError: Invalid filepath extension); write it with "
                                  f"{dotted_text(func.value)}.export(path)", fix=fix, top=top)
            else:
                self._report_suffix(path, literal, _MODEL_FILES, ".keras", dotted_text(call.func), top)
        for path, text, node, top in self._loads:
            if text in saved:
                self.report(path, f"load_model(`{text}`) reads back what this module saves to `{text}`: Keras 3 saves "
                                  f"and loads .keras files, not SavedModel directories (ValueError); add .keras to both "
                                  f"paths", fix=self._append(node, text, ".keras"), top=top)
                continue
            self.report(path, f"load_model(`{text}`): Keras 3 loads only .keras and .h5 files (ValueError: File format "
                              f"not supported); a SavedModel directory loads, for inference only, as "
                              f"keras.layers.TFSMLayer(path, call_endpoint=\"serving_default\")", top=top)

    def _check_load(self, call: cst.Call, path: cst.BaseExpression | None) -> None:
        literal = _final_literal(self.ctx, path, self._value_of)
        if literal is None:
            return
        text = literal[1]
        last = text.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
        if not last or "." in last or text.endswith(_MODEL_FILES):
            return  # some file; only an extension-less name looks like a SavedModel directory
        self._loads.append((path, text, literal[0], self.ctx.current_top))

    @staticmethod
    def _append(node: cst.CSTNode, text: str, suffix: str) -> PendingFix | None:
        # `weights.h5` -> `weights.weights.h5`; anything else gets the suffix
        cut = 3 if suffix == _WEIGHTS_FILE and text.endswith(".h5") else 0
        if isinstance(node, cst.SimpleString):
            body = node.value[:-len(node.quote)]
            if cut and not body.endswith(".h5"):
                return None
            code = body[:len(body) - cut] + suffix + node.quote
            return PendingFix([Replacement(node, code)], safe=False, description=f"end the path in {suffix}")
        if isinstance(node, cst.FormattedStringText):
            value = node.value
            if cut and not value.endswith(".h5"):
                return None
            return PendingFix([Replacement(node, value[:len(value) - cut] + suffix)], safe=False,
                              description=f"end the path in {suffix}")
        return None


def _ast_argument(call: ast.Call, position: int, keyword: str) -> ast.AST | None:
    """`call_argument` on CPython's AST."""
    for k in call.keywords:
        if k.arg == keyword:
            return k.value
    positional = [a for a in call.args if type(a) is not ast.Starred]
    return positional[position] if len(positional) > position else None


def _final_texts(node: ast.AST | None, facts: FileFacts, depth: int = 0) -> list:
    """Every text `_final_literal` may find at the end of this path (a superset: a name stands for every value
    the file assigns it, any call for os.path.join)."""
    kind = type(node)
    if node is None or depth > 8:
        return []
    if kind is ast.Constant:
        return [node.value] if isinstance(node.value, str) else []
    if kind is ast.JoinedStr:
        last = node.values[-1] if node.values else None
        if type(last) is ast.Constant and isinstance(last.value, str):
            return [last.value]  # the literal tail (a "{" in it: the rule reads no text, the screen may say maybe)
        return []
    if kind is ast.BinOp and type(node.op) is ast.Add:
        return _final_texts(node.right, facts, depth + 1)
    if kind is ast.Call and node.args:
        return _final_texts(node.args[-1], facts, depth + 1)
    if kind is ast.Starred:
        return _final_texts(node.value, facts, depth + 1)
    if kind is ast.Name:
        values = facts.memo.get("assigned values")
        if values is None:
            values = facts.memo["assigned values"] = {}
            for a, _ in facts.assignments:
                if type(a) is ast.Assign and len(a.targets) == 1 and type(a.targets[0]) is ast.Name:
                    values.setdefault(a.targets[0].id, []).append(a.value)
        return [text for value in values.get(node.id, ()) for text in _final_texts(value, facts, depth + 1)]
    return []


def _looks_like_directory(text: str) -> bool:
    """`_check_load`'s test: an extension-less last name, as a SavedModel directory has."""
    last = text.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    return bool(last) and "." not in last and not text.endswith(_MODEL_FILES)


def _final_literal(ctx, node: cst.BaseExpression | None, value_of=None) -> tuple[cst.CSTNode, str] | None:
    """The node holding the path's last characters and those characters, when the code writes them (through
    one name assigned once in the same function: `path = os.path.join(tmp, "model")`)."""
    if node is None:
        return None
    if isinstance(node, cst.Name) and value_of is not None:
        return _final_literal(ctx, value_of(node))
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return (node, value) if isinstance(value, str) else None
    if isinstance(node, cst.FormattedString):
        last = node.parts[-1] if node.parts else None
        if isinstance(last, cst.FormattedStringText) and "{" not in last.value:
            return last, last.value
        return None
    if isinstance(node, cst.ConcatenatedString):
        return _final_literal(ctx, node.right, value_of)
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
        return _final_literal(ctx, node.right, value_of)
    if isinstance(node, cst.Call) and (ctx.resolve(node.func) or "") in _PATH_JOIN and node.args:
        return _final_literal(ctx, node.args[-1].value, value_of)
    return None
