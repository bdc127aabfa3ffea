"""Output formats: concise, full, json, github, sarif."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import TextIO

from tflint_notes import __version__
from tflint_notes.docs import DOCS_URL
from tflint_notes.documents import Location, offset_to_position
from tflint_notes.results import Diagnostic
from tflint_notes.rule import all_rules

FORMATS = ("concise", "full", "json", "github", "sarif")


@dataclass
class FileResult:
    path: str  # as shown to the user
    document: object | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    applied: list[Diagnostic] = field(default_factory=list)  # fixes applied (for --show-fixes)
    error: str | None = None
    error_at: str = ""  # ":cell 2:3:1" where an error was found, if known
    target: object | None = None  # the project.Target the file was checked against


def display_location(result: FileResult, diag: Diagnostic) -> tuple[Location, Location]:
    doc = result.document
    start = doc.location(diag.line, diag.column)
    end = doc.location(diag.end_line, diag.end_column)
    return start, end


def _where(result: FileResult, loc: Location) -> str:
    cell = f"cell {loc.cell}:" if loc.cell is not None else ""
    return f"{result.path}:{cell}{loc.line}:{loc.column + 1}"


class _Style:
    def __init__(self, enabled: bool):
        self.enabled = enabled

    def __call__(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.enabled else text


def use_colour(stream: TextIO) -> bool:
    return stream.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def _headline(result: FileResult, diag: Diagnostic, start: Location, style: _Style) -> str:
    return f"{style(_where(result, start), '1')}: {style(diag.code, '1;31')} {diag.message}\n"


def write_concise(results: list[FileResult], out: TextIO, colour: bool) -> None:
    style = _Style(colour)
    for result in results:
        for diag in result.diagnostics:
            out.write(_headline(result, diag, display_location(result, diag)[0], style))


def write_full(results: list[FileResult], out: TextIO, colour: bool) -> None:
    style = _Style(colour)
    for result in results:
        for diag in result.diagnostics:
            start, end = display_location(result, diag)
            out.write(_headline(result, diag, start, style))
            line = result.document.source_line(start)
            number = str(start.line)
            pad = " " * len(number)
            width = (end.column if end.line == start.line and end.cell == start.cell else len(line)) - start.column
            out.write(f"{pad} |\n{style(number, '34')} | {line}\n")
            out.write(f"{pad} | {' ' * start.column}{style('^' * max(1, width), '1;31')}\n")
            if diag.fix is not None:
                kind = "safe fix" if diag.fix.safe else "unsafe fix (--unsafe-fixes)"
                out.write(f"{pad} = {style(kind, '32')}: {diag.fix.description}\n")
            out.write("\n")


def _edits_json(result: FileResult, diag: Diagnostic) -> list[dict]:
    text = result.document.text
    out = []
    for edit in diag.fix.edits:
        sl, sc = offset_to_position(text, edit.start)
        el, ec = offset_to_position(text, edit.end)
        s, e = result.document.location(sl, sc), result.document.location(el, ec)
        out.append({"content": edit.text, "location": {"row": s.line, "column": s.column + 1, "cell": s.cell},
                    "end_location": {"row": e.line, "column": e.column + 1, "cell": e.cell}})
    return out


def write_json(results: list[FileResult], out: TextIO, colour: bool = False) -> None:
    items = []
    for result in results:
        for diag in result.diagnostics:
            start, end = display_location(result, diag)
            fix = None
            if diag.fix is not None:
                fix = {"applicability": "safe" if diag.fix.safe else "unsafe", "message": diag.fix.description,
                       "edits": _edits_json(result, diag)}
            items.append({
                "code": diag.code, "message": diag.message, "filename": result.path, "cell": start.cell,
                "location": {"row": start.line, "column": start.column + 1},
                "end_location": {"row": end.line, "column": end.column + 1},
                "fix": fix, "url": DOCS_URL.format(code=diag.code),
                "target": result.target.as_dict() if result.target is not None else None,
            })
    json.dump(items, out, indent=2)
    out.write("\n")


def _gh_escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_escape(text).replace(":", "%3A").replace(",", "%2C")


def write_github(results: list[FileResult], out: TextIO, colour: bool = False) -> None:
    for result in results:
        for diag in result.diagnostics:
            start, end = display_location(result, diag)
            title = f"tflint-notes ({diag.code})"
            cell = f" (cell {start.cell})" if start.cell is not None else ""
            out.write(f"::error title={_gh_property(title)},file={_gh_property(result.path)},line={start.line},"
                      f"col={start.column + 1},endLine={end.line},endColumn={end.column + 1}::"
                      f"{_gh_escape(diag.code + ' ' + diag.message + cell)}\n")


def sarif_document(results: list[FileResult]) -> dict:
    rules = all_rules()
    codes = sorted(rules)
    index = {code: i for i, code in enumerate(codes)}
    driver_rules = []
    for code in codes:
        rule = rules[code]
        driver_rules.append({
            "id": code,
            "name": rule.name,
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": rule.summary},
            "helpUri": DOCS_URL.format(code=code),
            "defaultConfiguration": {"level": "error", "enabled": rule.default_enabled},
        })
    sarif_results = []
    for result in results:
        uri = result.path.replace(os.sep, "/")
        for diag in result.diagnostics:
            start, end = display_location(result, diag)
            region = {"startLine": start.line, "startColumn": start.column + 1, "endLine": end.line,
                      "endColumn": end.column + 1}
            item = {
                "ruleId": diag.code,
                "ruleIndex": index[diag.code],
                "level": "error",
                "message": {"text": diag.message},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri}, "region": region}}],
            }
            properties = {}
            if start.cell is not None:
                properties["cell"] = start.cell
            if result.target is not None:
                properties["target"] = result.target.as_dict()
            if properties:
                item["properties"] = properties
            if diag.fix is not None and getattr(result.document, "kind", "") == "python":
                replacements = []
                for edit in _edits_json(result, diag):
                    replacements.append({
                        "deletedRegion": {"startLine": edit["location"]["row"],
                                          "startColumn": edit["location"]["column"],
                                          "endLine": edit["end_location"]["row"],
                                          "endColumn": edit["end_location"]["column"]},
                        "insertedContent": {"text": edit["content"]},
                    })
                item["fixes"] = [{
                    "description": {"text": diag.fix.description + ("" if diag.fix.safe else " (unsafe)")},
                    "artifactChanges": [{"artifactLocation": {"uri": uri}, "replacements": replacements}],
                }]
            sarif_results.append(item)
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "tflint-notes", "version": __version__,
                                "informationUri": "https://github.com/tflint-notes/tflint-notes",
                                "rules": driver_rules}},
            "columnKind": "unicodeCodePoints",
            "results": sarif_results,
        }],
    }


def write_sarif(results: list[FileResult], out: TextIO, colour: bool = False) -> None:
    json.dump(sarif_document(results), out, indent=2)
    out.write("\n")


WRITERS = {"concise": write_concise, "full": write_full, "json": write_json, "github": write_github,
           "sarif": write_sarif}
