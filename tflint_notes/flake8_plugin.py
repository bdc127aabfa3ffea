"""flake8 entry point: `TFN` codes.  flake8 handles `# noqa`, --select/--ignore and its own config."""

from __future__ import annotations

import argparse
import ast
import os
from typing import Iterator

from tflint_notes import __version__
from tflint_notes.cache import DEFAULT_DIR_NAME
from tflint_notes.collection import collection_paused
from tflint_notes.engine import InternalError, Linter, ParseError
from tflint_notes.project import store_for
from tflint_notes.project.target import valid_tensorflow_setting
from tflint_notes.rule import all_rules


def _tensorflow_setting(value: str) -> str:
    """argparse type of --tflint-notes-target-tensorflow: a clear usage error, not a traceback."""
    if value.strip() and not valid_tensorflow_setting(value):
        raise argparse.ArgumentTypeError(f"expected a TensorFlow version such as 2.15 or a specifier set such as "
                                         f"'>=2.13,<2.16', got {value!r}")
    return value


class TFLintNotesChecker:
    name = "tflint-notes"
    version = __version__
    _linter: Linter | None = None  # built once per process, not per file
    _enabled_off_by_default: tuple = ()

    _cache_dir: str | None = None
    _selected = True  # False when flake8's --select names no TFN code: nothing of ours would be reported
    _keras: str | None = None
    _target_tensorflow: str | None = None

    @staticmethod
    def add_options(parser) -> None:
        parser.add_option(
            "--tflint-notes-enable", default="", parse_from_config=True, comma_separated_list=True,
            help="enable tflint-notes rules that are off by default, e.g. TFN901 (flake8's --select cannot: "
                 "it only filters what plugins report)")
        parser.add_option(
            "--tflint-notes-keras", default="", parse_from_config=True, choices=("", "keras3", "tf_keras"),
            help="what `tf.keras` is in the checked code: keras3 or tf_keras (legacy Keras 2); default: as the "
                 "file's project declares (its requirements, TF_USE_LEGACY_KERAS)")
        parser.add_option(
            "--tflint-notes-target-tensorflow", default="", parse_from_config=True, type=_tensorflow_setting,
            help="check against this TensorFlow (2.15, or a specifier set >=2.13,<2.16); default: as the file's "
                 "project declares")
        parser.add_option(
            "--tflint-notes-cache-dir", default=DEFAULT_DIR_NAME, parse_from_config=True,
            help=f"tflint-notes result cache directory (default: {DEFAULT_DIR_NAME}); '' disables it")

    @classmethod
    def parse_options(cls, options) -> None:
        chosen = getattr(options, "select", None)
        if chosen is not None:  # an explicit --select (plus --extend-select) replaces the default selection
            chosen = [*chosen, *(getattr(options, "extend_select", None) or [])]
            cls._selected = any(code and ("TFN".startswith(code) or code.startswith("TFN")) for code in chosen)
        else:
            cls._selected = True
        wanted = tuple(code.strip().upper() for code in options.tflint_notes_enable if code.strip())
        cache = options.tflint_notes_cache_dir or None
        if os.environ.get("TFLINT_NOTES_NO_CACHE"):
            cache = None
        cache = os.path.abspath(cache) if cache else None
        keras = getattr(options, "tflint_notes_keras", "") or None
        target = (getattr(options, "tflint_notes_target_tensorflow", "") or "").strip() or None
        if (wanted != cls._enabled_off_by_default or cache != cls._cache_dir or keras != cls._keras
                or target != cls._target_tensorflow):
            cls._enabled_off_by_default = wanted
            cls._cache_dir = cache
            cls._keras = keras
            cls._target_tensorflow = target
            cls._linter = None

    def __init__(self, tree: ast.AST, lines: list[str], filename: str = "-"):
        self._tree = tree  # flake8 parsed the file already: the rules' screens reuse its AST
        self._lines = lines
        self._filename = filename

    @classmethod
    def linter(cls) -> Linter:
        if cls._linter is None:
            cls._linter = Linter([code for code, rule in all_rules().items()
                                  if rule.default_enabled or code in cls._enabled_off_by_default],
                                 cache_dir=cls._cache_dir, keras=cls._keras, target_tensorflow=cls._target_tensorflow,
                                 settings_source="flake8 options")
        return cls._linter

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        if not self._selected:
            return  # flake8 runs every plugin whatever --select says; do not parse for findings it drops
        text = "".join(self._lines)
        try:
            tree = self._tree if isinstance(self._tree, ast.Module) else None
            store = store_for(self._cache_dir)
            filename = self._filename if self._filename not in ("-", "stdin") else None
            project = store.for_path(filename)
            with collection_paused():  # flake8's own checks run with the collector as they always do
                facts = _LazyFacts(tree)  # one walk for the index and the screen, none when neither needs it
                view = store.view_for(filename, project, facts)  # other modules' Keras bases and graph callers
                result = self.linter().lint(text, apply_noqa=False, tree=tree, project=project, view=view,
                                            file_facts=facts.made)
                facts.made = None  # the file's facts die before the collector looks again
        except ParseError:
            return  # flake8 reports syntax errors itself (E999)
        except InternalError as exc:
            yield 1, 0, f"TFN000 {exc.describe()}", type(self)
            return
        for error in result.internal_errors:
            yield 1, 0, f"TFN000 {error.describe()}", type(self)
        for diag in result.diagnostics:
            # flake8 adds 1 to the column itself: hand it the 0-based one.
            yield diag.line, diag.column, f"{diag.code} {diag.message}", type(self)


class _LazyFacts:
    """The screen's facts of flake8's AST, made on the first call (the project index calls only when it needs
    this module's facts; most files are rejected by the linter's text pre-filter or found in its cache
    without them).  `made`: the facts if made, else None (the linter then walks the AST itself if needed)."""

    def __init__(self, tree):
        self._tree = tree
        self.made = None

    def __call__(self):
        if self.made is None and self._tree is not None:
            from tflint_notes.screen import FileFacts

            try:
                self.made = FileFacts(self._tree)
            except RecursionError:
                self._tree = None
        return self.made
