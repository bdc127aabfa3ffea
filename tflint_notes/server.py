"""`tflint-notes server`: a Language Server (stdio) with diagnostics as you type and fixes as quick fixes.

Needs the `lsp` extra (pygls).  Uses the same engine, `[tool.tflint-notes]` discovery, `# noqa` handling
and result cache as the CLI.  Plain text documents only: notebooks are not served (use the CLI).
"""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from tflint_notes import __version__
from tflint_notes.cache import DEFAULT_DIR_NAME
from tflint_notes.config import ConfigError, Settings, find_pyproject, load
from tflint_notes.docs import DOCS_URL
from tflint_notes.documents import offset_to_position
from tflint_notes.engine import InternalError, Linter, ParseError, fix_text
from tflint_notes.results import Diagnostic
from tflint_notes.source import line_starts, split_lines

FIX_ALL_KIND = "source.fixAll.tflint-notes"
DEBOUNCE_SECONDS = 0.25
_NOQA = re.compile(r"# noqa(?::\s?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)


class TFLintNotesServer(LanguageServer):
    def __init__(self):
        super().__init__("tflint-notes", __version__)
        self._pending: dict[str, asyncio.Task] = {}
        self._settings: dict[str, tuple[float, Settings]] = {}
        self._linters: dict[tuple, Linter] = {}

    # -- configuration and linting, shared with the CLI --

    def settings_for(self, path: str) -> Settings:
        config = find_pyproject(Path(path).parent)
        key = str(config)
        mtime = config.stat().st_mtime if config is not None else 0.0
        cached = self._settings.get(key)
        if cached is None or cached[0] != mtime:
            try:
                settings = load(config)
            except ConfigError as exc:
                self.window_log_message(types.LogMessageParams(types.MessageType.Warning, f"tflint-notes: {exc}"))
                settings = Settings()
            self._settings[key] = (mtime, settings)
        return self._settings[key][1]

    def linter_for(self, settings: Settings) -> Linter:
        codes = tuple(settings.enabled_codes())
        cache = None
        if not os.environ.get("TFLINT_NOTES_NO_CACHE"):
            cache = str((settings.root / (settings.cache_dir or DEFAULT_DIR_NAME)).resolve())
        key = (codes, cache)
        if key not in self._linters:
            self._linters[key] = Linter(codes, cache_dir=cache)
        return self._linters[key]

    def lint(self, uri: str) -> tuple[str, list[Diagnostic], Settings]:
        document = self.workspace.get_text_document(uri)
        text = document.source
        path = document.path or uri
        settings = self.settings_for(path)
        try:
            result = self.linter_for(settings).lint(text)
        except (ParseError, InternalError):
            return text, [], settings  # a half-typed line: no TFN diagnostics, no popups
        ignored = settings.ignored_for(path)
        diagnostics = [d for d in result.diagnostics if not (ignored and d.code.startswith(ignored))]
        return text, diagnostics, settings

    def publish(self, uri: str) -> None:
        text, diagnostics, _ = self.lint(uri)
        lines = split_lines(text)
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=uri, diagnostics=[to_lsp(d, lines) for d in diagnostics]))

    def schedule(self, uri: str, delay: float) -> None:
        previous = self._pending.pop(uri, None)
        if previous is not None:
            previous.cancel()

        async def later():
            try:
                await asyncio.sleep(delay)
                self.publish(uri)
            except asyncio.CancelledError:
                pass

        self._pending[uri] = asyncio.ensure_future(later())


def _utf16(line: str, column: int) -> int:
    return len(line[:column].encode("utf-16-le")) // 2


def position(lines: list[str], line: int, column: int) -> types.Position:
    """LSP position (UTF-16 code units) from our 1-based line and code-point column."""
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    return types.Position(line=line - 1, character=_utf16(text, column))


def to_lsp(diag: Diagnostic, lines: list[str]) -> types.Diagnostic:
    return types.Diagnostic(
        range=types.Range(start=position(lines, diag.line, diag.column),
                          end=position(lines, diag.end_line, diag.end_column)),
        message=diag.message,
        severity=types.DiagnosticSeverity.Warning,
        code=diag.code,
        code_description=types.CodeDescription(href=DOCS_URL.format(code=diag.code)),
        source="tflint-notes",
    )


def text_edits(text: str, edits, lines: list[str]) -> list[types.TextEdit]:
    starts = line_starts(text)
    out = []
    for edit in edits:
        sl, sc = offset_to_position(text, edit.start, starts)
        el, ec = offset_to_position(text, edit.end, starts)
        out.append(types.TextEdit(range=types.Range(start=position(lines, sl, sc), end=position(lines, el, ec)),
                                  new_text=edit.text))
    return out


def _overlaps(a: types.Range, b: types.Range) -> bool:
    def key(p):
        return (p.line, p.character)
    return key(a.start) <= key(b.end) and key(b.start) <= key(a.end)


def noqa_edit(lines: list[str], diag: Diagnostic) -> types.TextEdit:
    line = lines[diag.line - 1] if 0 < diag.line <= len(lines) else ""
    body = line.rstrip("\r\n")
    match = _NOQA.search(body)
    if match and match.group("codes"):
        start, end = match.span("codes")
        new_body = body[:end] + f", {diag.code}" + body[end:]
    elif match:
        return types.TextEdit(range=types.Range(start=types.Position(diag.line - 1, 0),
                                                end=types.Position(diag.line - 1, 0)), new_text="")
    else:
        new_body = body + f"  # noqa: {diag.code}"
    return types.TextEdit(range=types.Range(start=types.Position(diag.line - 1, 0),
                                            end=types.Position(diag.line - 1, _utf16(body, len(body)))),
                          new_text=new_body)


def build_server() -> TFLintNotesServer:
    server = TFLintNotesServer()

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: TFLintNotesServer, params: types.DidOpenTextDocumentParams):
        ls.schedule(params.text_document.uri, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: TFLintNotesServer, params: types.DidChangeTextDocumentParams):
        ls.schedule(params.text_document.uri, DEBOUNCE_SECONDS)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: TFLintNotesServer, params: types.DidSaveTextDocumentParams):
        ls.schedule(params.text_document.uri, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: TFLintNotesServer, params: types.DidCloseTextDocumentParams):
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=params.text_document.uri,
                                                                            diagnostics=[]))

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
        code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL_KIND]))
    def code_action(ls: TFLintNotesServer, params: types.CodeActionParams):
        uri = params.text_document.uri
        text, diagnostics, settings = ls.lint(uri)
        lines = split_lines(text)
        only = params.context.only
        actions: list[types.CodeAction] = []
        want_quickfix = not only or any(k.startswith(types.CodeActionKind.QuickFix) for k in only)
        want_fix_all = not only or any(FIX_ALL_KIND.startswith(k) or k == types.CodeActionKind.Source
                                       for k in only)
        if want_quickfix:
            for diag in diagnostics:
                lsp_diag = to_lsp(diag, lines)
                if not _overlaps(lsp_diag.range, params.range):
                    continue
                if diag.fix is not None and settings.is_fixable(diag.code):
                    label = "" if diag.fix.safe else " (unsafe: may change behaviour)"
                    actions.append(types.CodeAction(
                        title=f"Fix {diag.code}: {diag.fix.description}{label}",
                        kind=types.CodeActionKind.QuickFix, diagnostics=[lsp_diag], is_preferred=diag.fix.safe,
                        edit=types.WorkspaceEdit(changes={uri: text_edits(text, diag.fix.edits, lines)})))
                actions.append(types.CodeAction(
                    title=f"Add `# noqa: {diag.code}`", kind=types.CodeActionKind.QuickFix, diagnostics=[lsp_diag],
                    edit=types.WorkspaceEdit(changes={uri: [noqa_edit(lines, diag)]})))
        if want_fix_all and any(d.fix is not None and d.fix.safe for d in diagnostics):
            linter = ls.linter_for(settings)
            fixed = fix_text(linter, text).text
            if fixed != text:
                end = offset_to_position(text, len(text))
                whole = types.Range(start=types.Position(0, 0), end=position(lines, *end) if lines else
                                    types.Position(0, 0))
                actions.append(types.CodeAction(
                    title="tflint-notes: fix all safe findings in this file", kind=FIX_ALL_KIND,
                    edit=types.WorkspaceEdit(changes={uri: [types.TextEdit(range=whole, new_text=fixed)]})))
        return actions

    return server


def main() -> int:
    build_server().start_io()
    return 0
