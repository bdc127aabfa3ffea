"""What the CLI lints: Python files and Jupyter notebooks, each seen as one Python program.

A document gives the linter a program text, maps diagnostics back to what the user sees
(`file.py:7:19`, `nb.ipynb:cell 3:2:5`), and turns a fixed program back into file bytes that differ
from the original only where the fix changed code.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass

from tflint_notes.cells import CellProgram
from tflint_notes.source import SourceError, SourceFile, decode_source, line_starts, split_lines


@dataclass(frozen=True)
class Location:
    line: int  # 1-based, within the cell for notebooks
    column: int  # 0-based
    cell: int | None = None  # 1-based code-cell number... of all cells, as Jupyter shows them


class PythonDocument:
    kind = "python"

    def __init__(self, source: SourceFile):
        self.source = source
        self.path = source.path
        self.text = source.text

    def location(self, line: int, column: int) -> Location:
        return Location(line, column)

    def render(self, new_text: str) -> bytes:
        return self.source.encode(new_text)

    def source_line(self, location: Location) -> str:
        lines = split_lines(self.text)
        return lines[location.line - 1].rstrip("\r\n") if 0 < location.line <= len(lines) else ""


# --- notebooks --------------------------------------------------------------------------------

_BINDING = re.compile(r"^[ \t]*(?:(?:def|class)[ \t]+(\w+)|(\w+)[ \t]*(?::[^=\n]*)?=(?!=)|import[ \t]+[\w.]+[ \t]+as[ \t]+(\w+)|"
                      r"import[ \t]+(\w+)|from[ \t]+[\w.]+[ \t]+import[ \t]+(\w+))", re.MULTILINE)


def bound_names(sources: list[str]) -> frozenset:
    """Names the notebook's code binds at the start of a line (they shadow automagics: `ls = ...`)."""
    names = set()
    for source in sources:
        for match in _BINDING.finditer(source):
            names.update(g for g in match.groups() if g)
    return frozenset(names)


_AT_LINE = re.compile(r"\bat line (\d+)\b")


class NotebookDocument:
    """An .ipynb file: its code cells, in order, as one program (IPython syntax masked, see cells.py)."""

    kind = "notebook"

    def __init__(self, path: str, raw: bytes):
        self.path = path
        self.raw = raw
        try:
            self.raw_text = raw.decode("utf-8")
            self.notebook = json.loads(self.raw_text)
        except UnicodeDecodeError as exc:
            raise SourceError(f"notebook is not valid UTF-8 (offset {exc.start})") from None
        except json.JSONDecodeError as exc:
            raise SourceError(f"not a valid notebook: JSON error at line {exc.lineno} column {exc.colno}") from None
        cells = self.notebook.get("cells") if isinstance(self.notebook, dict) else None
        if not isinstance(cells, list):
            raise SourceError("not a valid notebook: no 'cells' list")
        self.cells = cells
        code = []
        for index, cell in enumerate(cells):
            if not isinstance(cell, dict) or cell.get("cell_type") != "code":
                continue
            text = _cell_text(cell)
            if text is None:
                raise SourceError(f"not a valid notebook: cell {index + 1} has no source")
            code.append((index, text))
        self.language = _language(self.notebook)
        if self.language not in (None, "python"):
            code = []  # an R or Julia notebook: nothing for a Python linter to read
        self.program = CellProgram(code, bound_names([text for _, text in code]))
        self.text = self.program.text

    def location(self, line: int, column: int) -> Location:
        found = self.program.location(line)
        if found is None:
            return Location(line, column, None)
        index, cell_line = found
        return Location(cell_line, column, index + 1)

    def localise(self, diagnostics: list) -> list:
        """Messages that name a line of the program ("load_model at line 40") name the cell and its line."""
        def cell_line(match: re.Match) -> str:
            found = self.program.location(int(match.group(1)))
            return f"at cell {found[0] + 1} line {found[1]}" if found is not None else match.group(0)

        return [dataclasses.replace(d, message=_AT_LINE.sub(cell_line, d.message)) if _AT_LINE.search(d.message)
                else d for d in diagnostics]

    def source_line(self, location: Location) -> str:
        if location.cell is None:
            return ""
        text = _cell_text(self.cells[location.cell - 1]) or ""
        lines = split_lines(text)
        return lines[location.line - 1].rstrip("\r\n") if 0 < location.line <= len(lines) else ""

    def check(self, new_text: str) -> str | None:
        """The fix gate's extra check: every changed cell must compile on its own."""
        return self.program.cell_errors(new_text)

    def render(self, new_text: str) -> bytes:
        """The notebook with each changed code cell replaced; everything else byte-identical."""
        changed = {}
        for index, restored in self.program.split(new_text).items():
            original = _cell_text(self.cells[index])
            if original is not None and not original.endswith("\n") and restored.endswith("\n"):
                restored = restored[:-1]
            if restored != original:
                changed[index] = restored
        if not changed:
            return self.raw
        dump = _json_style(self.raw_text, self.notebook)
        if dump is None:
            # Colab and hand-edited notebooks mix indentations: replace just the changed `source` values
            spliced = _splice_sources(self.raw_text, changed)
            if spliced is None:
                raise SourceError("the notebook's JSON layout is not one this tool can reproduce byte for byte; "
                                  "not rewritten (save it from Jupyter once, then fix again)")
            return spliced.encode("utf-8")
        for index, text in changed.items():
            cell = self.cells[index]
            if isinstance(cell["source"], list):
                cell["source"] = split_lines(text)
            else:
                cell["source"] = text
        return dump(self.notebook).encode("utf-8")


def _language(notebook: dict) -> str | None:
    """The notebook's language, lower case, if its metadata says."""
    metadata = notebook.get("metadata") if isinstance(notebook, dict) else None
    if not isinstance(metadata, dict):
        return None
    for key, field_name in (("language_info", "name"), ("kernelspec", "language")):
        value = metadata.get(key)
        if isinstance(value, dict) and isinstance(value.get(field_name), str):
            return value[field_name].lower()
    return None


def _cell_text(cell: dict) -> str | None:
    source = cell.get("source")
    if isinstance(source, list) and all(isinstance(s, str) for s in source):
        return "".join(source)
    if isinstance(source, str):
        return source
    return None


def _json_style(raw_text: str, notebook) -> "callable | None":
    """A serializer that reproduces the original bytes for the unmodified notebook, or None."""
    for indent in (1, 2, 4, None):
        for ensure_ascii in (False, True):
            for sort_keys in (True, False):
                def dump(nb, indent=indent, ensure_ascii=ensure_ascii, sort_keys=sort_keys, newline=True):
                    text = json.dumps(nb, indent=indent, ensure_ascii=ensure_ascii, sort_keys=sort_keys)
                    return text + "\n" if newline else text
                for newline in (True, False):
                    if dump(notebook, newline=newline) == raw_text:
                        return lambda nb, _dump=dump, _newline=newline: _dump(nb, newline=_newline)
    return None


_WHITESPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def _source_spans(raw_text: str) -> dict[int, tuple[int, int]] | None:
    """Character spans of each cell's `source` value in the notebook's JSON text, by cell index."""
    def skip(at: int) -> int:
        return _WHITESPACE.match(raw_text, at).end()

    def members(at: int):
        """(key, value start, value end) of the object starting at `at`; the end of the object last."""
        at = skip(at)
        if raw_text[at:at + 1] != "{":
            raise ValueError
        at = skip(at + 1)
        if raw_text[at:at + 1] == "}":
            return [], at + 1
        out = []
        while True:
            key, at = _DECODER.raw_decode(raw_text, skip(at))
            at = skip(at)
            if raw_text[at:at + 1] != ":":
                raise ValueError
            start = skip(at + 1)
            _, end = _DECODER.raw_decode(raw_text, start)
            out.append((key, start, end))
            at = skip(end)
            if raw_text[at:at + 1] == "}":
                return out, at + 1
            if raw_text[at:at + 1] != ",":
                raise ValueError
            at += 1

    try:
        top, _ = members(0)
        cells = [(start, end) for key, start, end in top if key == "cells"]
        if len(cells) != 1:
            return None
        at, end = cells[0]
        spans: dict[int, tuple[int, int]] = {}
        at = skip(at + 1)  # past "["
        index = 0
        while at < end and raw_text[at] != "]":
            fields, at = members(at)
            sources = [(start, stop) for key, start, stop in fields if key == "source"]
            if len(sources) == 1:
                spans[index] = sources[0]
            index += 1
            at = skip(at)
            if raw_text[at:at + 1] == ",":
                at = skip(at + 1)
        return spans
    except (ValueError, IndexError, AttributeError):
        return None


def _source_json(original: str, text: str, ensure_ascii: bool) -> str | None:
    """`text` as a `source` value laid out like `original` (a JSON string, or a list of line strings one per
    line); None if `original`'s layout cannot be told."""
    if original.startswith('"'):
        return json.dumps(text, ensure_ascii=ensure_ascii)
    match = re.fullmatch(r"\[(\s*)(.*?)(\s*)\]", original, re.S)
    if match is None or not match.group(2):
        return None
    first, body, last = match.groups()
    items = json.loads(original)
    separator = ","
    if len(items) > 1:
        between = re.match(r'"(?:[^"\\]|\\.)*"(\s*,\s*)', body)
        if between is None:
            return None
        separator = between.group(1)
    def layout(lines: list[str]) -> str:
        return "[" + first + separator.join(json.dumps(line, ensure_ascii=ensure_ascii) for line in lines) + last + "]"
    if layout(items) != original:
        return None
    return layout(split_lines(text))


def _splice_sources(raw_text: str, changed: dict[int, str]) -> str | None:
    """The notebook text with only the changed cells' `source` values replaced, each in its own layout."""
    spans = _source_spans(raw_text)
    if spans is None or any(index not in spans for index in changed):
        return None
    ensure_ascii = not any(ord(ch) > 127 for ch in raw_text)
    out = raw_text
    for index in sorted(changed, reverse=True):
        start, end = spans[index]
        value = _source_json(raw_text[start:end], changed[index], ensure_ascii)
        if value is None:
            return None
        out = out[:start] + value + out[end:]
    try:
        cells = json.loads(out)["cells"]
    except (ValueError, KeyError, TypeError):
        return None
    if any(_cell_text(cells[index]) != text for index, text in changed.items()):
        return None  # never write a notebook that does not read back as intended
    return out


def load_document(path: str, raw: bytes):
    if path.endswith(".ipynb"):
        return NotebookDocument(path, raw)
    return PythonDocument(decode_source(raw, path))


def offset_to_position(text: str, offset: int, starts: list[int] | None = None) -> tuple[int, int]:
    """1-based line and 0-based column of a character offset."""
    starts = starts or line_starts(text)
    lo, hi = 0, len(starts) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if starts[mid] <= offset:
            lo = mid
        else:
            hi = mid - 1
    return lo + 1, offset - starts[lo]
