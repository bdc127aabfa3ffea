"""The Language Server, end to end: pytest-lsp starts `tflint-notes server` and talks LSP over stdio."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

SEED = textwrap.dedent("""\
    import numpy as np
    import tensorflow as tf


    @tf.function
    def augment_data(image_batch):
        image_batch = np.append(image_batch, tf.image.flip_left_right(image_batch), axis=0)
        return image_batch
    """)


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "tflint_notes", "server"]))
async def client(lsp_client: LanguageClient, tmp_path_factory):
    root = tmp_path_factory.mktemp("workspace")
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=types.ClientCapabilities(), root_uri=root.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="ws")]))
    lsp_client.root = root
    yield
    await lsp_client.shutdown_session()


def _open(client: LanguageClient, name: str, text: str, version: int = 1) -> str:
    uri = (Path(client.root) / name).as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="python", version=version, text=text)))
    return uri


def _apply(text: str, edits: list[types.TextEdit]) -> str:
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(pos):
        return starts[pos.line] + pos.character if pos.line < len(starts) else len(text)

    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[:offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end):]
    return text


async def test_diagnostics_code_actions_and_updates(client: LanguageClient):
    uri = _open(client, "seed.py", SEED)
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    [diag] = client.diagnostics[uri]
    assert diag.code == "TFN101" and diag.source == "tflint-notes"
    assert diag.range.start == types.Position(line=6, character=18)
    assert diag.code_description.href.endswith("rules/TFN101.md")
    assert "fails at trace time" in diag.message

    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=diag.range,
        context=types.CodeActionContext(diagnostics=[diag])))
    titles = [a.title for a in actions]
    assert any(t.startswith("Fix TFN101") for t in titles)
    assert "Add `# noqa: TFN101`" in titles
    assert any(a.kind == "source.fixAll.tflint-notes" for a in actions)
    quick = next(a for a in actions if a.title.startswith("Fix TFN101"))
    assert quick.kind == types.CodeActionKind.QuickFix and quick.is_preferred
    fixed = _apply(SEED, quick.edit.changes[uri])
    assert "tf.concat([image_batch, tf.image.flip_left_right(image_batch)], axis=0)" in fixed

    # edit the document: diagnostics follow
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=fixed)]))
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert list(client.diagnostics[uri]) == []

    noqa = next(a for a in actions if a.title.startswith("Add `# noqa"))
    suppressed = _apply(SEED, noqa.edit.changes[uri])
    assert "axis=0)  # noqa: TFN101\n" in suppressed


async def test_fix_all_and_unsafe_labels(client: LanguageClient):
    text = SEED.replace("return image_batch", "return np.argmax(image_batch)")
    uri = _open(client, "two.py", text)
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert [d.code for d in client.diagnostics[uri]] == ["TFN101", "TFN101"]
    whole = types.Range(start=types.Position(0, 0), end=types.Position(20, 0))
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=whole,
        context=types.CodeActionContext(diagnostics=[], only=["source.fixAll.tflint-notes"])))
    [fix_all] = actions
    result = _apply(text, fix_all.edit.changes[uri])
    assert "tf.concat(" in result and "np.argmax(image_batch)" in result  # only safe fixes
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=whole,
        context=types.CodeActionContext(diagnostics=[])))
    assert any("(unsafe: may change behaviour)" in a.title for a in actions)


async def test_syntax_errors_and_non_tf_documents_are_quiet(client: LanguageClient):
    broken = _open(client, "broken.py", "import tensorflow as tf\nimport numpy\ndef f(:\n")
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert list(client.diagnostics[broken]) == []
    plain = _open(client, "plain.py", "import numpy as np\nx = np.append([1], [2])\n")
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert list(client.diagnostics[plain]) == []
    assert not [m for m in client.messages if m.type == types.MessageType.Error]


NOTEBOOK_CELLS = [
    "%%capture\n!echo installing\n",
    "import numpy as np\nimport keras\n",
    "!echo one \\\n    two\nfiles = !ls\n",
    "%%time\nclass Shift(keras.layers.Layer):\n    def call(self, x):\n        print('x =', x)\n"
    "        return np.exp(x)\n",
]


def _open_notebook(client: LanguageClient, name: str, cells: list[str]) -> tuple[str, list[str]]:
    uri = (Path(client.root) / name).as_uri()
    cell_uris = [f"vscode-notebook-cell:{uri}#cell{i}" for i in range(len(cells))]
    client.notebook_document_did_open(types.DidOpenNotebookDocumentParams(
        notebook_document=types.NotebookDocument(
            uri=uri, notebook_type="jupyter-notebook", version=1,
            cells=[types.NotebookCell(kind=types.NotebookCellKind.Code, document=c) for c in cell_uris]),
        cell_text_documents=[types.TextDocumentItem(uri=c, language_id="python", version=1, text=text)
                             for c, text in zip(cell_uris, cells)]))
    return uri, cell_uris


async def _diagnostics_for(client: LanguageClient, uri: str):
    for _ in range(20):
        if uri in client.diagnostics:
            return client.diagnostics[uri]
        await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    raise AssertionError(f"no diagnostics for {uri}")


async def test_notebook_cells_get_their_own_diagnostics_and_fixes(client: LanguageClient):
    uri, cells = _open_notebook(client, "nb.ipynb", NOTEBOOK_CELLS)
    found = await _diagnostics_for(client, cells[3])
    await _diagnostics_for(client, cells[1])
    assert sorted(d.code for d in found) == ["TFN101", "TFN103"]
    tfn103 = next(d for d in found if d.code == "TFN103")
    assert tfn103.range.start == types.Position(line=3, character=8)  # line 4 of the cell, IPython lines kept
    assert list(client.diagnostics[cells[1]]) == [] and list(client.diagnostics[cells[2]]) == []

    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=cells[3]), range=tfn103.range,
        context=types.CodeActionContext(diagnostics=[tfn103])))
    fix = next(a for a in actions if a.title.startswith("Fix TFN103"))
    assert "unsafe" in fix.title  # it adds `import tensorflow as tf` to a Keras-only notebook
    changes = fix.edit.changes
    assert set(changes) == {cells[1], cells[3]}  # the import goes into the first plain Python cell
    assert _apply(NOTEBOOK_CELLS[1], changes[cells[1]]) == "import numpy as np\nimport keras\nimport tensorflow as tf\n"
    assert "        tf.print('x =', x)\n" in _apply(NOTEBOOK_CELLS[3], changes[cells[3]])

    # editing a cell re-lints the notebook
    fixed_cell = NOTEBOOK_CELLS[3].replace("np.exp(x)", "keras.ops.exp(x)")
    client.notebook_document_did_change(types.DidChangeNotebookDocumentParams(
        notebook_document=types.VersionedNotebookDocumentIdentifier(uri=uri, version=2),
        change=types.NotebookDocumentChangeEvent(cells=types.NotebookDocumentCellChanges(text_content=[
            types.NotebookDocumentCellContentChanges(
                document=types.VersionedTextDocumentIdentifier(uri=cells[3], version=2),
                changes=[types.TextDocumentContentChangeWholeDocument(text=fixed_cell)])]))))
    for _ in range(20):
        await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        if [d.code for d in client.diagnostics[cells[3]]] == ["TFN103"]:
            break
    assert [d.code for d in client.diagnostics[cells[3]]] == ["TFN103"]

    client.notebook_document_did_close(types.DidCloseNotebookDocumentParams(
        notebook_document=types.NotebookDocumentIdentifier(uri=uri),
        cell_text_documents=[types.TextDocumentIdentifier(uri=c) for c in cells]))
    for _ in range(20):
        await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        if list(client.diagnostics[cells[3]]) == []:
            break
    assert list(client.diagnostics[cells[3]]) == []


async def test_project_target_and_a_saved_requirements_file(client: LanguageClient):
    """The server lints against the document's project (issue 22) and sees a requirements file saved later."""
    root = Path(client.root)
    requirements = root / "requirements.txt"
    requirements.write_text("tensorflow==2.15.*\n", encoding="utf-8")
    source = "import tensorflow as tf\nlayer = tf.keras.layers.experimental.preprocessing.Rescaling(0.5)\n"
    uri = _open(client, "model.py", source)
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert list(client.diagnostics[uri]) == []  # tf.keras is Keras 2 on TF 2.15
    requirements.write_text("tensorflow>=2.16\n", encoding="utf-8")
    client.text_document_did_save(types.DidSaveTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri=requirements.as_uri())))
    del client.diagnostics[uri]
    client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    assert [d.code for d in await _diagnostics_for(client, uri)] == ["TFN603"]


async def test_helper_module_sees_graph_code_of_another_module(client: LanguageClient):
    """The server reads the project index (issue 23): a NumPy helper is graph code because train.py's
    tf.function calls it with a tensor; once train.py is saved without that call, the helper is quiet."""
    root = Path(client.root)
    (root / "requirements.txt").write_text("tensorflow==2.21.*\n", encoding="utf-8")
    package = root / "app"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    train = package / "train.py"
    train.write_text(textwrap.dedent("""\
        import tensorflow as tf
        from .utils import normalize


        @tf.function
        def train_step(x):
            return normalize(tf.square(x))
        """), encoding="utf-8")
    helper = "import numpy as np\n\n\ndef normalize(x):\n    return x / np.sqrt(np.sum(x * x))\n"
    (package / "utils.py").write_text(helper, encoding="utf-8")
    uri = _open(client, "app/utils.py", helper)
    diagnostics = await _diagnostics_for(client, uri)
    assert [d.code for d in diagnostics] == ["TFN101", "TFN101"]
    assert all("train_step" in d.message and "train.py:7" in d.message for d in diagnostics)
    train.write_text(train.read_text(encoding="utf-8").replace("normalize(tf.square(x))", "tf.square(x)"),
                     encoding="utf-8")
    client.text_document_did_save(types.DidSaveTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri=train.as_uri())))
    del client.diagnostics[uri]
    client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    assert list(await _diagnostics_for(client, uri)) == []
