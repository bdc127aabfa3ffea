"""`[tool.tflint-notes]` in pyproject.toml, and rule selection."""

from __future__ import annotations

import fnmatch
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from tflint_notes.project.target import valid_tensorflow_setting
from tflint_notes.rule import all_rules

TABLE = "tflint-notes"
DEFAULT_EXCLUDE = (
    ".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", ".eggs", "__pycache__", "build", "dist",
    "node_modules", "site-packages", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".tflint_notes_cache",
)
_SELECTOR = re.compile(r"^TFN\d{0,3}$")
_KEYS = {"select", "extend-select", "ignore", "extend-ignore", "exclude", "extend-exclude", "per-file-ignores",
         "unsafe-fixes", "fixable", "unfixable", "cache-dir", "keras", "target-tensorflow"}
KERAS_TARGETS = ("keras3", "tf_keras")


class ConfigError(Exception):
    pass


@dataclass
class Settings:
    select: list[str] | None = None
    extend_select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=lambda: list(DEFAULT_EXCLUDE))
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    unsafe_fixes: bool = False
    fixable: list[str] | None = None  # None: every rule's fixes may be applied
    unfixable: list[str] = field(default_factory=list)
    cache_dir: str | None = None
    # What `tf.keras` is: Keras 3 ("keras3") or legacy Keras 2 ("tf_keras"); None: as each project declares.
    keras: str | None = None
    # The TensorFlow to check against ("2.15" or a specifier set); None: as each project declares.
    target_tensorflow: str | None = None
    root: Path = field(default_factory=Path.cwd)  # paths in the config are relative to this
    source: str | None = None  # the pyproject.toml it came from

    def enabled_codes(self) -> list[str]:
        return select_codes(self.select, self.extend_select, self.ignore)

    def is_fixable(self, code: str) -> bool:
        if self.fixable is not None and not code.startswith(tuple(self.fixable)):
            return False
        return not code.startswith(tuple(self.unfixable)) if self.unfixable else True

    def ignored_for(self, path: str) -> tuple[str, ...]:
        if not self.per_file_ignores:
            return ()
        rel = _relative(path, self.root)
        out: list[str] = []
        for pattern, codes in self.per_file_ignores.items():
            if _glob_match(rel, pattern):
                out.extend(codes)
        return tuple(out)

    def is_excluded(self, path: str, walk_root: str | None = None) -> bool:
        """Patterns match a path component found below `walk_root` (so naming a directory
        inside `site-packages` on the command line still lints it), or the path relative to the
        configuration's directory."""
        if walk_root is not None:
            below = os.path.relpath(path, walk_root).replace(os.sep, "/")
            parts = [] if below == "." else below.split("/")
        else:
            parts = [os.path.basename(path)]
        rel = _relative(path, self.root)
        parts_pattern, rel_pattern, prefixes = self._exclude_matchers()
        if any(parts_pattern.match(part) for part in parts):
            return True
        return not rel.startswith("../") and (rel_pattern.match(rel) is not None or rel.startswith(prefixes))

    def _exclude_matchers(self) -> tuple[re.Pattern, re.Pattern, tuple[str, ...]]:
        """The exclude patterns compiled once: (any path component matches, the relative path matches as
        `_glob_match` does, the directory prefixes `tests/` style patterns name).  Walking a large tree asks
        for every file and folder, and fnmatch one pattern at a time cost half a warm run."""
        key = tuple(self.exclude)
        cached = getattr(self, "_exclude_cache", None)
        if cached is None or cached[0] != key:
            stripped = [pattern.rstrip("/") for pattern in key]
            parts = _any_of([fnmatch.translate(pattern) for pattern in key])
            rel = _any_of([fnmatch.translate(p) for p in stripped] + [fnmatch.translate("*/" + p) for p in stripped])
            cached = self._exclude_cache = (key, (parts, rel, tuple(p + "/" for p in stripped)))
        return cached[1]


def _any_of(translated: list[str]) -> re.Pattern:
    return re.compile("|".join(f"(?:{t})" for t in translated) if translated else r"(?!)")


def _relative(path: str, root: Path) -> str:
    absolute = os.path.abspath(path)
    try:
        rel = os.path.relpath(absolute, root)
    except ValueError:  # another drive on Windows
        rel = absolute
    return rel.replace(os.sep, "/")


def _glob_match(rel: str, pattern: str) -> bool:
    pattern = pattern.rstrip("/")
    if fnmatch.fnmatchcase(rel, pattern):
        return True
    # "tests/" style directory patterns and "**/x.py" patterns
    return rel.startswith(pattern + "/") or fnmatch.fnmatchcase(rel, "*/" + pattern)


def validate_selectors(selectors: list[str], where: str) -> list[str]:
    known = all_rules()
    out = []
    for raw in selectors:
        code = raw.strip().upper()
        if not code:
            continue
        if code == "ALL":
            code = "TFN"
        if not _SELECTOR.match(code) or not any(c.startswith(code) for c in known):
            raise ConfigError(f"{where}: unknown rule selector {raw!r} (expected a code or prefix like TFN101, TFN1)")
        out.append(code)
    return out


def select_codes(select: list[str] | None, extend_select: list[str], ignore: list[str]) -> list[str]:
    """Rules enabled by prefixes.  Off-by-default rules need their full code in a selection."""
    rules = all_rules()
    # asked once per file (the worker's linter is looked up by it): remembered per selection and registry size
    key = (tuple(select) if select is not None else None, tuple(extend_select), tuple(ignore), len(rules))
    chosen = _SELECTED.get(key)
    if chosen is None:
        chosen = _SELECTED[key] = _select_codes(rules, select, extend_select, ignore)
    return list(chosen)


_SELECTED: dict[tuple, tuple[str, ...]] = {}


def _select_codes(rules: dict, select: list[str] | None, extend_select: list[str], ignore: list[str]) -> tuple[str, ...]:
    chosen = set()
    for code, rule in rules.items():
        picked = (select is None and rule.default_enabled) or (
            select is not None and any(code.startswith(p) for p in select) and (
                rule.default_enabled or code in select))
        if picked or code in extend_select or (rule.default_enabled and any(code.startswith(p) for p in extend_select)):
            chosen.add(code)
    return tuple(sorted(c for c in chosen if not any(c.startswith(p) for p in ignore)))


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml (from `start` upwards) that has a [tool.tflint-notes] table."""
    start = start.resolve()
    for directory in (start, *start.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            try:
                data = tomllib.loads(candidate.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                continue  # someone else's broken file; reported only if it is ours (see load)
            if TABLE in data.get("tool", {}):
                return candidate
    return None


def load(config_path: Path | None) -> Settings:
    if config_path is None:
        return Settings()
    where = str(config_path)
    try:
        data = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{where}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{where}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: invalid TOML: {exc}") from None
    table = data.get("tool", {}).get(TABLE, {})
    if config_path.name != "pyproject.toml" and not table:
        table = data  # a dedicated config file may hold the keys at top level
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: [tool.{TABLE}] must be a table")
    unknown = set(table) - _KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown option(s) in [tool.{TABLE}]: {', '.join(sorted(unknown))} "
                          f"(known: {', '.join(sorted(_KEYS))})")
    settings = Settings(root=config_path.parent.resolve(), source=where)

    def str_list(key: str) -> list[str] | None:
        if key not in table:
            return None
        value = table[key]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: [tool.{TABLE}] {key} must be a list of strings, got {value!r}")
        return value

    if (v := str_list("select")) is not None:
        settings.select = validate_selectors(v, f"{where}: select")
    settings.extend_select = validate_selectors(str_list("extend-select") or [], f"{where}: extend-select")
    settings.ignore = validate_selectors((str_list("ignore") or []) + (str_list("extend-ignore") or []),
                                         f"{where}: ignore")
    if (v := str_list("exclude")) is not None:
        settings.exclude = v
    settings.exclude += str_list("extend-exclude") or []
    if "unsafe-fixes" in table:
        if not isinstance(table["unsafe-fixes"], bool):
            raise ConfigError(f"{where}: [tool.{TABLE}] unsafe-fixes must be true or false, got "
                              f"{table['unsafe-fixes']!r}")
        settings.unsafe_fixes = table["unsafe-fixes"]
    if (v := str_list("fixable")) is not None:
        settings.fixable = validate_selectors(v, f"{where}: fixable")
    settings.unfixable = validate_selectors(str_list("unfixable") or [], f"{where}: unfixable")
    if "cache-dir" in table:
        if not isinstance(table["cache-dir"], str):
            raise ConfigError(f"{where}: [tool.{TABLE}] cache-dir must be a string")
        settings.cache_dir = table["cache-dir"]
    if "keras" in table:
        if table["keras"] not in KERAS_TARGETS:
            raise ConfigError(f"{where}: [tool.{TABLE}] keras must be one of {', '.join(map(repr, KERAS_TARGETS))}, "
                              f"got {table['keras']!r}")
        settings.keras = table["keras"]
    if "target-tensorflow" in table:
        value = table["target-tensorflow"]
        if not isinstance(value, str) or not valid_tensorflow_setting(value):
            raise ConfigError(f"{where}: [tool.{TABLE}] target-tensorflow must be a TensorFlow version such as "
                              f"\"2.15\" or a specifier set such as \">=2.13,<2.16\", got {value!r}")
        settings.target_tensorflow = value
    pfi = table.get("per-file-ignores", {})
    if not isinstance(pfi, dict):
        raise ConfigError(f"{where}: [tool.{TABLE}] per-file-ignores must be a table of glob = [codes]")
    for pattern, codes in pfi.items():
        if isinstance(codes, str):
            codes = [codes]
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            raise ConfigError(f"{where}: per-file-ignores {pattern!r} must be a list of codes, got {codes!r}")
        settings.per_file_ignores[pattern] = validate_selectors(codes, f"{where}: per-file-ignores {pattern!r}")
    return settings
