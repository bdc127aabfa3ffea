"""`tflint-notes server`: a Language Server (stdio) with diagnostics as you type and fixes as quick fixes.

Needs the `lsp` extra (pygls).  Uses the same engine, `[tool.tflint-notes]` discovery, `# noqa` handling
and result cache as the CLI.  Python documents and Jupyter notebooks (`notebookDocument/*` sync): a
notebook's code cells are linted as one program, as the CLI does, and each cell gets its own diagnostics
and quick fixes (a fix may edit two cells: an import added to the first plain cell).
"""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

from lsprotocol import types
from pygls import uris
from pygls.lsp.server import LanguageServer

from tflint_notes import __version__
from tflint_notes.cache import DEFAULT_DIR_NAME
from tflint_notes.cells import CellProgram
from tflint_notes.config import ConfigError, Settings, find_pyproject, load
from tflint_notes.docs import DOCS_URL
from tflint_notes.documents import bound_names, offset_to_position
from tflint_notes.engine import InternalError, Linter, ParseError, fix_text
from tflint_notes.project import ProjectStore
from tflint_notes.project.declared import ENVIRONMENT_FILE, REQUIREMENT_FILE
from tflint_notes.project.layout import PROJECT_FILES
from tflint_notes.results import Diagnostic
from tflint_notes.source import line_starts, split_lines

FIX_ALL_KIND = "source.fixAll.tflint-notes"
DEBOUNCE_SECONDS = 0.25
_NOQA = re.compile(r"# noqa(?::\s?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)


def is_project_file(uri: str) -> bool:
    """A file the project model reads: its description files, package `__init__.py`s and `conftest.py`."""
    name = uri.rstrip("/").rsplit("/", 1)[-1]
    return (name in PROJECT_FILES or name in ("__init__.py", "conftest.py", "METADATA")
            or bool(REQUIREMENT_FILE.match(name) or ENVIRONMENT_FILE.match(name)))


NOTEBOOK_SYNC = types.NotebookDocumentSyncOptions(notebook_selector=[
    types.NotebookDocumentFilterWithCells(cells=[types.NotebookCellLanguage(language="python")], notebook="*")])


class NotebookView:
    """An open notebook as one program (cells.py), with the way back from program offsets to cells."""

    def __init__(self, notebook: types.NotebookDocument, workspace):
        self.uri = notebook.uri
        self.cell_uri: dict[int, str] = {}
        self.cell_lines: dict[int, list[str]] = {}
        code = []
        for index, cell in enumerate(notebook.cells):
            if cell.kind != types.NotebookCellKind.Code:
                continue
            document = workspace.get_text_document(cell.document)
            if document.language_id not in (None, "", "python"):
                continue
            code.append((index, document.source))
            self.cell_uri[index] = cell.document
            self.cell_lines[index] = split_lines(document.source)
        self.program = CellProgram(code, bound_names([text for _, text in code]))
        self.text = self.program.text
        self._starts = line_starts(self.text)

    def cell_of(self, uri: str) -> int | None:
        return next((index for index, cell_uri in self.cell_uri.items() if cell_uri == uri), None)

    def place(self, line: int, column: int) -> tuple[int, int, int] | None:
        """(cell index, 1-based line in the cell, column) of a program position; None on a marker line,
        except at its very start, which is the end of the cell before (where an added import may go)."""
        mapping = self.program.cell_of_line
        found = mapping[line - 1] if 0 < line <= len(mapping) else None
        if found is None and line == len(mapping) + 1 and column == 0 and mapping:
            found = (mapping[-1][0], 0)  # the very end of the program
            return found[0], len(self.cell_lines[found[0]]) + 1, 0
        if found is None:
            return None
        if found[1] == 0:
            if column != 0 or line < 2 or mapping[line - 2][1] == 0:
                return None
            index = mapping[line - 2][0]
            return index, len(self.cell_lines[index]) + 1, 0
        return found[0], found[1], column

    def cell_diagnostic(self, diag: Diagnostic) -> tuple[int, Diagnostic] | None:
        start, end = self.place(diag.line, diag.column), self.place(diag.end_line, diag.end_column)
        if start is None or end is None or start[0] != end[0]:
            return None
        return start[0], Diagnostic(diag.code, diag.message, start[1], start[2], end[1], end[2], diag.fix)

    def cell_edits(self, edits) -> dict[str, list[types.TextEdit]] | None:
        """Program edits as edits of cell documents; None if one touches a marker or an IPython line."""
        out: dict[str, list[types.TextEdit]] = {}
        for edit in edits:
            if "tflint-notes-" in self.text[edit.start:edit.end] or "tflint-notes-" in edit.text:
                return None
            start = self.place(*offset_to_position(self.text, edit.start, self._starts))
            end = self.place(*offset_to_position(self.text, edit.end, self._starts))
            if start is None or end is None or start[0] != end[0]:
                return None
            lines = self.cell_lines[start[0]]
            out.setdefault(self.cell_uri[start[0]], []).append(types.TextEdit(
                range=types.Range(start=position(lines, start[1], start[2]), end=position(lines, end[1], end[2])),
                new_text=edit.text))
        return out

    def whole_cell_edits(self, new_text: str) -> dict[str, list[types.TextEdit]]:
        """Replace each cell that `new_text` (a fixed program) changes."""
        out = {}
        for index, restored in self.program.split(new_text).items():
            lines = self.cell_lines.get(index)
            if lines is None:
                continue
            original = "".join(lines)
            if original and not original.endswith(("\n", "\r")) and restored.endswith("\n"):
                restored = restored[:-1]
            if restored != original:
                end = offset_to_position(original, len(original)) if original else (1, 0)
                whole = types.Range(start=types.Position(0, 0), end=position(lines, *end) if lines else
                                    types.Position(0, 0))
                out[self.cell_uri[index]] = [types.TextEdit(range=whole, new_text=restored)]
        return out


class TFLintNotesServer(LanguageServer):
    def __init__(self):
        super().__init__("tflint-notes", __version__, notebook_document_sync=NOTEBOOK_SYNC)
        self._pending: dict[str, asyncio.Task] = {}
        self._settings: dict[str, tuple[float, Settings]] = {}
        self._linters: dict[tuple, Linter] = {}
        # Project models (target TensorFlow/Keras, own packages): re-read when a file they came from changes,
        # rebuilt when a project file is saved.
        self.projects = ProjectStore(revalidate=True)

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
        key = (codes, cache, settings.keras, settings.target_tensorflow)
        if key not in self._linters:
            self._linters[key] = Linter(codes, cache_dir=cache, keras=settings.keras,
                                        target_tensorflow=settings.target_tensorflow,
                                        settings_source=settings.source or "the configuration")
        return self._linters[key]

    def project_for(self, path: str):
        return self.projects.for_path(path if os.path.isabs(path) else None)

    def view_for(self, path: str, project):
        """What the project index says of this module (other modules' Keras bases and graph callers); the
        index re-reads a module that changed on disk, so a saved file is seen at the next keystroke."""
        return self.projects.view_for(path if os.path.isabs(path) else None, project)

    def lint(self, uri: str) -> tuple[str, list[Diagnostic], Settings]:
        document = self.workspace.get_text_document(uri)
        text = document.source
        path = document.path or uri
        settings = self.settings_for(path)
        try:
            project = self.project_for(path)
            result = self.linter_for(settings).lint(text, project=project, view=self.view_for(path, project))
        except (ParseError, InternalError):
            return text, [], settings  # a half-typed line: no TFN diagnostics, no popups
        ignored = settings.ignored_for(path)
        diagnostics = [d for d in result.diagnostics if not (ignored and d.code.startswith(ignored))]
        return text, diagnostics, settings

    def notebook_for(self, uri: str) -> NotebookView | None:
        """The notebook `uri` is, or holds as a cell."""
        notebook = self.workspace.get_notebook_document(notebook_uri=uri) or (
            self.workspace.get_notebook_document(cell_uri=uri))
        return NotebookView(notebook, self.workspace) if notebook is not None else None

    def lint_notebook(self, view: NotebookView) -> tuple[dict[int, list[Diagnostic]], Settings]:
        path = uris.to_fs_path(view.uri) or view.uri
        settings = self.settings_for(path)
        per_cell: dict[int, list[Diagnostic]] = {index: [] for index in view.cell_uri}
        try:
            result = self.linter_for(settings).lint(view.text, project=self.project_for(path))
        except (ParseError, InternalError):
            return per_cell, settings
        ignored = settings.ignored_for(path)
        for diag in result.diagnostics:
            if ignored and diag.code.startswith(ignored):
                continue
            placed = view.cell_diagnostic(diag)
            if placed is not None:
                per_cell[placed[0]].append(placed[1])
        return per_cell, settings

    def publish(self, uri: str) -> None:
        view = self.notebook_for(uri)
        if view is not None:
            per_cell, _ = self.lint_notebook(view)
            for index, diagnostics in per_cell.items():
                lines = view.cell_lines[index]
                self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
                    uri=view.cell_uri[index], diagnostics=[to_lsp(d, lines) for d in diagnostics]))
            return
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
        if is_project_file(params.text_document.uri):
            ls.projects.invalidate()  # a saved pyproject.toml/requirements.txt/__init__.py may change the target
        elif params.text_document.uri.endswith(".py"):
            ls.projects.invalidate_indexes()  # a new or changed module: other modules' views may change
        ls.schedule(params.text_document.uri, 0)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(ls: TFLintNotesServer, params: types.DidChangeWatchedFilesParams):
        if any(is_project_file(change.uri) for change in params.changes):
            ls.projects.invalidate()

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: TFLintNotesServer, params: types.DidCloseTextDocumentParams):
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=params.text_document.uri,
                                                                            diagnostics=[]))

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)
    def notebook_did_open(ls: TFLintNotesServer, params: types.DidOpenNotebookDocumentParams):
        ls.schedule(params.notebook_document.uri, 0)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
    def notebook_did_change(ls: TFLintNotesServer, params: types.DidChangeNotebookDocumentParams):
        ls.schedule(params.notebook_document.uri, DEBOUNCE_SECONDS)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_SAVE)
    def notebook_did_save(ls: TFLintNotesServer, params: types.DidSaveNotebookDocumentParams):
        ls.schedule(params.notebook_document.uri, 0)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)
    def notebook_did_close(ls: TFLintNotesServer, params: types.DidCloseNotebookDocumentParams):
        for cell in params.cell_text_documents:
            ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=cell.uri, diagnostics=[]))

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
        code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL_KIND]))
    def code_action(ls: TFLintNotesServer, params: types.CodeActionParams):
        uri = params.text_document.uri
        view = ls.workspace.get_notebook_document(cell_uri=uri) and ls.notebook_for(uri)
        if view is not None:
            return _notebook_code_actions(ls, view, uri, params)
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
            path = ls.workspace.get_text_document(uri).path or uri
            project = ls.project_for(path)
            fixed = fix_text(linter, text, project=project, view=ls.view_for(path, project)).text
            if fixed != text:
                end = offset_to_position(text, len(text))
                whole = types.Range(start=types.Position(0, 0), end=position(lines, *end) if lines else
                                    types.Position(0, 0))
                actions.append(types.CodeAction(
                    title="tflint-notes: fix all safe findings in this file", kind=FIX_ALL_KIND,
                    edit=types.WorkspaceEdit(changes={uri: [types.TextEdit(range=whole, new_text=fixed)]})))
        return actions

    return server


def _notebook_code_actions(ls: TFLintNotesServer, view: NotebookView, uri: str, params: types.CodeActionParams):
    index = view.cell_of(uri)
    if index is None:
        return []
    per_cell, settings = ls.lint_notebook(view)
    lines = view.cell_lines[index]
    only = params.context.only
    actions: list[types.CodeAction] = []
    want_quickfix = not only or any(k.startswith(types.CodeActionKind.QuickFix) for k in only)
    want_fix_all = not only or any(FIX_ALL_KIND.startswith(k) or k == types.CodeActionKind.Source for k in only)
    if want_quickfix:
        for diag in per_cell.get(index, []):
            lsp_diag = to_lsp(diag, lines)
            if not _overlaps(lsp_diag.range, params.range):
                continue
            if diag.fix is not None and settings.is_fixable(diag.code):
                changes = view.cell_edits(diag.fix.edits)
                if changes is not None:
                    label = "" if diag.fix.safe else " (unsafe: may change behaviour)"
                    actions.append(types.CodeAction(
                        title=f"Fix {diag.code}: {diag.fix.description}{label}", kind=types.CodeActionKind.QuickFix,
                        diagnostics=[lsp_diag], is_preferred=diag.fix.safe, edit=types.WorkspaceEdit(changes=changes)))
            actions.append(types.CodeAction(
                title=f"Add `# noqa: {diag.code}`", kind=types.CodeActionKind.QuickFix, diagnostics=[lsp_diag],
                edit=types.WorkspaceEdit(changes={uri: [noqa_edit(lines, diag)]})))
    if want_fix_all and any(d.fix is not None and d.fix.safe for found in per_cell.values() for d in found):
        fixed = fix_text(ls.linter_for(settings), view.text, check=view.program.cell_errors,
                         project=ls.project_for(uris.to_fs_path(view.uri) or view.uri)).text
        changes = view.whole_cell_edits(fixed) if fixed != view.text else {}
        if changes:
            actions.append(types.CodeAction(title="tflint-notes: fix all safe findings in this notebook",
                                            kind=FIX_ALL_KIND, edit=types.WorkspaceEdit(changes=changes)))
    return actions


def main() -> int:
    build_server().start_io()
    return 0
