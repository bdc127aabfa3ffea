"""What `migrate` does to one module or notebook, in a worker process (called by the CLI's file pass).

keras3 route: every TFN6xx fix, safe and unsafe, then the safe fixes of the other selected rules on the lines
that changed.  tf_keras route: plain `keras` imports become `tf_keras` when the project wrote them for Keras 2,
`TF_USE_LEGACY_KERAS=1` is set where it takes effect, then the TFN6xx fixes that the tf_keras target still
needs (TF1 names, estimator).  What remains of the TFN6xx findings is what a person must do.
"""

from __future__ import annotations

import ast
import difflib
import functools
import os
import re
from dataclasses import dataclass, field

from tflint_notes.documents import load_document
from tflint_notes.engine import Linter, fix_text
from tflint_notes.project.layout import legacy_keras_evidence
from tflint_notes.source import line_starts

LEGACY_SWITCH = "TF_USE_LEGACY_KERAS"
_IMPORTS_TF = re.compile(r"^[ \t]*(?:import|from)[ \t]+(?:tensorflow|keras|tf_keras)\b", re.MULTILINE)
_SAVE_SUFFIXES = (".keras", ".h5", ".hdf5")


@dataclass(frozen=True)
class RouteOptions:
    """What the workers need to know about the route (picklable)."""

    route: str  # "keras3" or "tf_keras"
    to: str  # "2.21"
    other_codes: tuple[str, ...] = ()  # keras3: rules whose safe fixes apply on changed lines
    guard_paths: frozenset = frozenset()  # tf_keras: normalised paths that get the TF_USE_LEGACY_KERAS switch
    cache_dir: str | None = None


@dataclass(frozen=True)
class Change:
    line: int  # in the migrated file (in the cell for notebooks)
    cell: int | None
    code: str  # the rule, or "migrate" for the route's own edits
    before: str
    after: str
    added: tuple[str, ...] = ()  # what the change adds elsewhere (an import)


@dataclass(frozen=True)
class Item:
    """Something a person must do, or that the tool could not decide."""

    line: int
    cell: int | None
    code: str
    message: str


@dataclass
class FileMigration:
    path: str
    new_bytes: bytes | None = None  # None: unchanged
    old_bytes: bytes | None = None
    changes: list[Change] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    undecided: list[Item] = field(default_factory=list)


def imports_tensorflow(text: str) -> bool:
    return _IMPORTS_TF.search(text) is not None


# --- the worker's step ------------------------------------------------------------------------------------

def migrate_document(job, linter, path, document, outcome, project, view, keep_facts):
    """`Job.handler` for `migrate`: computes the migrated text; never writes (the parent process does)."""
    options: RouteOptions = job.options
    original = document.text
    text = original
    changes: list[Change] = []
    items: list[Item] = []
    if options.route == "tf_keras":
        if project.target.keras2:
            text, rewritten, missing = rewrite_keras_imports(text)
            changes += [Change(line, None, "migrate", before, after) for line, before, after in rewritten]
            items += [Item(line, None, "migrate", message) for line, message in missing]
        if _normal(path) in options.guard_paths:
            text, added = add_legacy_switch(text)
            if added is not None:
                changes.append(Change(added, None, "migrate", "", f'os.environ["{LEGACY_SWITCH}"] = "1"'))
    check = getattr(document, "check", None)
    fixed = fix_text(linter, text, unsafe=True, check=check, project=project, view=view, after_first_lint=keep_facts)
    internal = list(fixed.internal_errors)
    changes += [Change(diag.line, None, diag.code, before, after, added)
                for diag, before, after, added in fixed.changes()]
    text, remaining = fixed.text, fixed.remaining
    if options.other_codes and text != original:
        changed = _changed_lines(original, text)
        tidy = fix_text(_other_linter(options.other_codes, options.cache_dir, options.to), text, unsafe=False, check=check, project=project, view=view,
                        accept=lambda d: d.line in changed)
        internal += tidy.internal_errors
        if tidy.text != text:
            changes += [Change(diag.line, None, diag.code, before, after, added)
                        for diag, before, after, added in tidy.changes()]
            text = tidy.text
            remaining = linter.lint(text, project=project, view=view).diagnostics
    items += [Item(d.line, None, d.code, d.message) for d in remaining]
    undecided = [Item(line, None, "TFN606", message) for line, message in undecided_save_paths(text)] \
        if options.route == "keras3" else []
    migration = FileMigration(outcome.result.path, changes=changes, items=items, undecided=undecided)
    if text != original:
        migration.old_bytes = document.raw if hasattr(document, "raw") else document.source.raw
        migration.new_bytes = document.render(text)
        if migration.new_bytes == migration.old_bytes:
            migration.new_bytes = None
    _place_in_cells(migration, path, document)
    outcome.payload = migration
    return internal


def _normal(path: str) -> str:
    return os.path.normcase(os.path.abspath(path))


def _changed_lines(old: str, new: str) -> set[int]:
    """1-based lines of `new` that differ from `old`."""
    out = set()
    matcher = difflib.SequenceMatcher(None, old.splitlines(), new.splitlines(), autojunk=False)
    for tag, _, _, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            out.update(range(j1 + 1, j2 + 1))
    return out


@functools.lru_cache(maxsize=4)
def _other_linter(codes: tuple, cache_dir, to: str) -> Linter:
    """The linter of the other selected rules (keras3 route), once per worker process."""
    return Linter(codes, cache_dir=cache_dir, keras="keras3", target_tensorflow=to, settings_source="migrate")


def _place_in_cells(migration: FileMigration, path: str, document) -> None:
    """Notebook lines are program lines until here: turn them into (cell, line) of the migrated notebook."""
    if getattr(document, "kind", "python") == "python":
        return
    shown = document
    if migration.new_bytes is not None:
        try:
            shown = load_document(path, migration.new_bytes)
        except Exception:  # noqa: BLE001 - positions are a courtesy; the bytes were already checked by render
            shown = document

    def place(entry):
        location = shown.location(entry.line, 0)
        return type(entry)(**{**entry.__dict__, "line": location.line, "cell": location.cell})

    migration.changes = [place(c) for c in migration.changes]
    migration.items = [place(i) for i in migration.items]
    migration.undecided = [place(i) for i in migration.undecided]


# --- tf_keras route: plain keras imports and the legacy switch ------------------------------------------

def _offsets(text: str):
    starts = line_starts(text)
    lines = text.splitlines(keepends=True)

    def offset(line: int, col: int) -> int:
        """A character offset from ast's 1-based line and UTF-8 byte column."""
        return starts[line - 1] + len(lines[line - 1].encode("utf-8")[:col].decode("utf-8", "replace"))

    return offset


def rewrite_keras_imports(text: str) -> tuple[str, list[tuple[int, str, str]], list[tuple[int, str]]]:
    """`import keras` -> `import tf_keras as keras`, `from keras.x import y` -> `from tf_keras.x import y`:
    on TF >= 2.16 `keras` is Keras 3 whatever TF_USE_LEGACY_KERAS says; `tf_keras` is Keras 2.
    Returns the text, (line, before, after) per rewritten statement, and (line, why) for names tf_keras's
    public API does not have (private `keras.engine`-style modules)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return text, [], []
    offset = _offsets(text)
    edits: list[tuple[int, int, str]] = []
    lines: dict[int, None] = {}
    missing: list[tuple[int, str]] = []
    api = _tf_keras_api()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                root, _, rest = alias.name.partition(".")
                if root != "keras":
                    continue
                if alias.asname is None:
                    new = "tf_keras as keras"
                else:
                    new = f"tf_keras{'.' + rest if rest else ''} as {alias.asname}"
                if rest and not _in_api(api, rest, None):
                    missing.append((node.lineno, f"`{alias.name}` has no `tf_keras.{rest}` in tf_keras's public API: "
                                                 f"import what you need from its public modules"))
                edits.append((offset(alias.lineno, alias.col_offset), offset(alias.end_lineno, alias.end_col_offset), new))
                lines[node.lineno] = None
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            root, _, rest = node.module.partition(".")
            if root != "keras":
                continue
            start = offset(node.lineno, node.col_offset)
            found = re.compile(r"from\s+(keras)\b").match(text, start)
            if found is None:
                continue
            edits.append((found.start(1), found.end(1), "tf_keras"))
            lines[node.lineno] = None
            for alias in node.names:
                if alias.name != "*" and not _in_api(api, rest, alias.name):
                    missing.append((node.lineno, f"`from {node.module} import {alias.name}`: tf_keras's public API has "
                                                 f"no `tf_keras{'.' + rest if rest else ''}.{alias.name}`"))
    if not edits:
        return text, [], []
    old_lines = text.splitlines()
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    new_lines = text.splitlines()
    rewritten = [(line, old_lines[line - 1], new_lines[line - 1]) for line in sorted(lines)]
    return text, rewritten, missing


@functools.lru_cache(maxsize=1)
def _tf_keras_api() -> dict:
    import json
    from importlib import resources

    text = resources.files("tflint_notes").joinpath("data/api_tf_keras.json").read_text(encoding="utf-8")
    return json.loads(text)["modules"]


def _in_api(api: dict, module: str, name: str | None) -> bool:
    if name is None:
        return module in api
    if module not in api:
        return False
    return name in api[module] or f"{module}.{name}".lstrip(".") in api


def add_legacy_switch(text: str) -> tuple[str, int | None]:
    """Set TF_USE_LEGACY_KERAS=1 before the module's first import (TensorFlow reads it when it is imported).
    Written as an `if` so that the imports after it are still "at the top of the file" for flake8 (E402).
    Returns the text and the line of the switch, None when the module already sets it."""
    if legacy_keras_evidence(text) is not None or _sets_switch(text):
        return text, None
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return text, None
    newline = "\r\n" if "\r\n" in text else "\n"
    body = tree.body
    index = 0
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(
            body[0].value.value, str):
        index = 1
    while index < len(body) and isinstance(body[index], ast.ImportFrom) and body[index].module == "__future__":
        index += 1
    first_import = next((i for i, stmt in enumerate(body) if i >= index and isinstance(stmt, (ast.Import, ast.ImportFrom))),
                        None)
    starts = line_starts(text)
    if first_import is not None:
        at = starts[body[first_import].lineno - 1]
        line = body[first_import].lineno
        block = _switch_block(newline) + newline
    elif index < len(body):
        at = starts[body[index].lineno - 1]
        line = body[index].lineno
        block = _switch_block(newline) + newline
    else:
        at, line = len(text), text.count("\n") + 1
        if text and not text.endswith("\n"):
            text += newline
            at = len(text)
            line += 1
        block = (newline if text.strip() else "") + _switch_block(newline)
        if text.strip():
            line += 1
    return text[:at] + block + text[at:], line


def _switch_block(newline: str) -> str:
    return newline.join([
        "import os",
        "",
        f'if "{LEGACY_SWITCH}" not in os.environ:  # tf.keras is tf-keras (Keras 2): set before TensorFlow is imported',
        f'    os.environ["{LEGACY_SWITCH}"] = "1"',
        "",
    ])


def _sets_switch(text: str) -> bool:
    return re.search(rf"""environ\[\s*['"]{LEGACY_SWITCH}['"]\s*\]\s*=\s*['"](1|true|True)['"]""", text) is not None


# --- keras3 route: save paths the tool cannot see ----------------------------------------------------

def undecided_save_paths(text: str) -> list[tuple[int, str]]:
    """Saves and loads of Keras models whose path is computed at run time: Keras 3 raises unless it ends in
    `.keras`/`.h5` (`.weights.h5` for weights).  TFN606 cannot judge them; a person must."""
    if "keras" not in text and "tensorflow" not in text:
        return []
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name in ("save", "save_weights"):
            receiver = func.value if isinstance(func, ast.Attribute) else None
            label = receiver.attr if isinstance(receiver, ast.Attribute) else getattr(receiver, "id", "")
            if "model" not in label.lower():
                continue
            path = node.args[0] if node.args else _keyword(node, "filepath")
        elif name in ("load_model", "ModelCheckpoint"):
            path = node.args[0] if node.args else _keyword(node, "filepath")
        elif name == "save_model":
            path = node.args[1] if len(node.args) > 1 else _keyword(node, "filepath")
        else:
            continue
        if path is None or _decided(path):
            continue
        suffix = "`.weights.h5`" if name == "save_weights" else "`.keras` (or `.h5`)"
        out.append((node.lineno, f"`{name}` with a path computed at run time: Keras 3 raises unless it ends in "
                                 f"{suffix}; check where the path is built"))
    return sorted(set(out))


def _keyword(node: ast.Call, name: str):
    return next((k.value for k in node.keywords if k.arg == name), None)


def _decided(path: ast.expr) -> bool:
    """A literal, or an f-string / os.path.join whose last piece is a literal: TFN606 judges those."""
    if isinstance(path, ast.Constant):
        return True
    if isinstance(path, ast.JoinedStr):
        return bool(path.values) and isinstance(path.values[-1], ast.Constant)
    if isinstance(path, ast.Call) and path.args and isinstance(path.args[-1], ast.Constant):
        last = path.args[-1].value
        return isinstance(last, str) and last.endswith(_SAVE_SUFFIXES)
    return False
