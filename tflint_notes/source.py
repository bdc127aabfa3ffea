"""Reading and writing source files without disturbing their bytes: encoding, BOM, line endings."""

from __future__ import annotations

import io
import os
import re
import tempfile
import tokenize
from dataclasses import dataclass

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class SourceError(Exception):
    """A file that cannot be linted; the message is shown to the user as is."""


@dataclass(frozen=True)
class SourceFile:
    path: str
    raw: bytes
    text: str
    encoding: str  # as detected by tokenize: "utf-8", "utf-8-sig" (BOM), "latin-1", ...

    @property
    def newline(self) -> str:
        match = _LINE_BREAK.search(self.text)
        return match.group(0) if match else "\n"

    def encode(self, text: str) -> bytes:
        return text.encode(self.encoding)


def decode_source(raw: bytes, path: str = "<string>") -> SourceFile:
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    except SyntaxError as exc:
        raise SourceError(f"cannot determine the encoding: {exc.msg}") from None
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"not valid {encoding} (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
            "add a coding cookie or re-encode the file") from None
    except LookupError:
        raise SourceError(f"unknown encoding {encoding!r} in the coding cookie") from None
    if "\x00" in text:
        raise SourceError("file contains a NUL byte (binary file?)")
    return SourceFile(path, raw, text, encoding)


def read_bytes(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        raise SourceError("no such file") from None
    except IsADirectoryError:
        raise SourceError("is a directory") from None
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror or exc}") from None


def line_starts(text: str) -> list[int]:
    """Offsets at which each line starts (lines split like Python's tokenizer: \\r\\n, \\r, \\n)."""
    starts = [0]
    starts.extend(m.end() for m in _LINE_BREAK.finditer(text))
    return starts


def split_lines(text: str) -> list[str]:
    """Lines with their endings, split only on \\r\\n, \\r and \\n (unlike str.splitlines)."""
    starts = line_starts(text)
    lines = [text[a:b] for a, b in zip(starts, starts[1:])]
    if starts[-1] < len(text):
        lines.append(text[starts[-1]:])
    return lines


def write_atomically_bytes(path: str, original: bytes, data: bytes) -> None:
    """Replace the file's content via a temp file in the same directory; refuse if it changed meanwhile."""
    target = os.path.realpath(path)  # a symlink is fixed through the link; it stays a link
    try:
        with open(target, "rb") as handle:
            if handle.read() != original:
                raise SourceError("file changed on disk while it was being fixed; not written")
        mode = os.stat(target).st_mode & 0o7777
        if not mode & 0o222:
            raise SourceError("file is read-only; not written")
        directory = os.path.dirname(target) or "."
        fd, tmp = tempfile.mkstemp(prefix=".tflint-notes-", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise SourceError(f"cannot write: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise SourceError(f"cannot write: {exc.strerror or exc}") from None
