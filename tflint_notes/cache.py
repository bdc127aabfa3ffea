"""A result cache: re-running on an unchanged tree costs a hash and a small file read per file.

Entries are keyed by the file's content, the tool version, the enabled rules (the effective
configuration) and the size and mtime of the tool's own files (an editable install whose rules or data
tables changed keeps its version number), so a changed file, an upgrade, an edited rule or another rule
selection never sees stale results.
One small JSON file per entry, written to a temp file and renamed into place: concurrent runs can
share a cache directory, and a torn write is never read.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from tflint_notes import __version__
from tflint_notes.results import Diagnostic, Edit, Fix

DEFAULT_DIR_NAME = ".tflint_notes_cache"


def _installation_stamp() -> str:
    package = Path(__file__).resolve().parent
    digest = hashlib.blake2b(digest_size=16)
    for path in sorted((*package.rglob("*.py"), *package.rglob("*.json"))):
        try:
            stat = path.stat()
        except OSError:
            continue
        digest.update(f"{path.relative_to(package)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


class ResultCache:
    def __init__(self, directory: Path | str, salt: str):
        self.directory = Path(directory) / __version__
        self.salt = f"{__version__}\0{_installation_stamp()}\0{salt}".encode()
        self._ready = False

    def _key(self, text: str, scope: str = "") -> str:
        """`scope`: what else the result depends on (the project's target and own packages)."""
        digest = hashlib.blake2b(self.salt, digest_size=20)
        digest.update(scope.encode("utf-8", "surrogatepass") + b"\0")
        digest.update(text.encode("utf-8", "surrogatepass"))
        return digest.hexdigest()

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, text: str, scope: str = ""):
        """(diagnostics, suppressed) for this exact text, or None."""
        try:
            with open(self._path(self._key(text, scope)), encoding="utf-8") as handle:
                data = json.load(handle)
            return [_diag_from(row) for row in data["d"]], data["s"]
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            return None

    def put(self, text: str, diagnostics: list[Diagnostic], suppressed: int, scope: str = "") -> None:
        path = self._path(self._key(text, scope))
        try:
            if not self._ready:
                self._prepare()
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump({"d": [_diag_to(d) for d in diagnostics], "s": suppressed}, handle)
            os.replace(tmp, path)
        except OSError:
            pass  # a cache that cannot be written is just a slower run

    def _prepare(self) -> None:
        root = self.directory.parent
        root.mkdir(parents=True, exist_ok=True)
        for name, content in ((".gitignore", "# created by tflint-notes\n*\n"),
                              ("CACHEDIR.TAG", "Signature: 8a477f597d28d172789f06886806bc55\n"
                                               "# tflint-notes result cache\n")):
            marker = root / name
            if not marker.exists():
                marker.write_text(content, encoding="utf-8")
        self._ready = True


def _diag_to(diag: Diagnostic) -> list:
    fix = None
    if diag.fix is not None:
        fix = [diag.fix.safe, diag.fix.description, [[e.start, e.end, e.text] for e in diag.fix.edits]]
    return [diag.code, diag.message, diag.line, diag.column, diag.end_line, diag.end_column, fix]


def _diag_from(row: list) -> Diagnostic:
    code, message, line, column, end_line, end_column, fix = row
    if fix is not None:
        safe, description, edits = fix
        fix = Fix(tuple(Edit(*e) for e in edits), safe, description)
    return Diagnostic(code, message, line, column, end_line, end_column, fix)
