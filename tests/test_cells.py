"""Notebook cells are read the way IPython reads them.

The oracle is IPython itself (a test dependency only): `InteractiveShell.transform_cell` turns a cell into
the Python that Jupyter runs, with every IPython construct as a `get_ipython()...` call.  The program
`cells.py` makes for the same cell must have the same Python statements, with a placeholder `pass` where
IPython has a `get_ipython()` call, a cell magic whose body is Python contributing that body, and the
other cell magics nothing.
"""

from __future__ import annotations

import ast
import os
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tflint_notes.cells import PYTHON_CELL_MAGICS, CellProgram, first_plain_cell

IPython = pytest.importorskip("IPython")  # in the test extra: never skipped in CI
from IPython.core.interactiveshell import InteractiveShell  # noqa: E402

SHELL = InteractiveShell.instance()

SHAPES = [
    # cell magics whose body is Python, with indented and IPython lines inside
    "%%time\nfor i in range(3):\n    x = i\n",
    "%%capture out\nimport os\nif True:\n    y = 1\n",
    "%%capture\n    x = 1\n    if x:\n        y = 2\n",
    "%%timeit -n 2\nsum(range(10))\n",
    "%%prun\nimport os\n",
    "%%time\n!ls\nx = 1\n",
    "\n%%time\nx = 1\n",
    # cell magics whose body is not Python: skipped, never an error
    "%%bash\necho hi\n  indented\n",
    "%%writefile f.py\nimport os\n    def broken(:\n",
    "%%html\n<div>\n  <p>x</p>\n</div>\n",
    "%%script python\nprint(1)\n",
    "%%sh\nls\n",
    # shell escapes and line magics, with continuation lines
    "!pip install foo \\\n  bar\nx = 1\n",
    "!echo a \\\n    b \\\n    c\nimport os\n",
    "!!ls\n",
    "%matplotlib inline\nimport numpy as np\n",
    "%load_ext tensorboard\n%tensorboard --logdir logs\n",
    "%time x = 1\n",
    "x = 1 + \\\n    2\n%ls\n",
    "def f():\n    !ls\n    return 1\n",
    "if True:\n    %timeit f()\n    x = 1\n",
    "for i in range(2):\n    !echo {i}\n",
    # assignments from magics
    "x = !ls\nprint(x)\n",
    "files = %sx ls\n",
    'd = {"a": 1}\nd["a"] = !ls\n',
    # help
    "x?\n",
    "obj.method??\n",
    "?obj\n",
    # not IPython at all: continuation lines that start with % or !=, strings, comments
    's = ("value: %d"\n     % (3,))\n',
    "y = (a\n     != (b))\n",
    "x = 1  # !not magic\n",
    "s = '''\n%notmagic\n!neither\n'''\n",
    'x = "%d" % 3\ny = 10 % 3\n',
    'print("?")\n',
    'f"{x!r}"\n',
    # a cell whose lines share an indentation is dedented
    "    x = 1\n    y = 2\n",
    "\tx = 1\n\tif x:\n\t\ty = 2\n",
    "    %%time\n    x = 1\n",
    "  !ls\n  x = 1\n",
    # whitespace-only lines do not make a cell "indented" (textwrap.dedent normalises them)
    "class A:\n    x = 1\n    \n    y = 2\n",
    "    x = 1\n    \n    y = 2\n",
    # automagic: one-line cells only, unless the name is assigned
    "pip install foo\n",
    "cd /tmp\n",
    "ls\n",
    "\n\npip install x\n",
    "ls = 5\n",
    "time.sleep(1)\n",
    "ls, 3\n",
    # `from __future__` is the first statement of its cell, not of the program the cells make
    "from __future__ import annotations\nimport os\n",
    "from __future__ import annotations  # typing\nx: int = 1\n",
    # empty and comment-only cells
    "",
    "# just a comment\n",
    "\n\n",
]


def _is_ipython_call(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "get_ipython"
               for n in ast.walk(node))


def _oracle(cell: str) -> list:
    """The statements Jupyter runs for `cell`, IPython constructs as `pass`."""
    code = SHELL.transform_cell(cell)
    compile(code, "<ipython>", "exec")
    return _normalise_ipython(ast.parse(code).body)


def _normalise_ipython(body: list) -> list:
    out = []
    for stmt in body:
        call = stmt.value if isinstance(stmt, ast.Expr) else None
        if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                and call.func.attr == "run_cell_magic"):
            name, _, cell_body = (a.value for a in call.args)
            if name in PYTHON_CELL_MAGICS:
                out.append(ast.Pass())
                out.extend(_oracle(cell_body))
            continue
        if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
            stmt = ast.Import(names=[ast.alias(name="__future__")])  # the program's stand-in
        if isinstance(stmt, (ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign)) and _is_ipython_call(stmt):
            out.append(ast.Pass())
            continue
        for field in ("body", "orelse", "finalbody"):
            if isinstance(getattr(stmt, field, None), list):
                setattr(stmt, field, _normalise_ipython(getattr(stmt, field)))
        out.append(stmt)
    return out


def _ours(cell: str) -> list:
    program = CellProgram([(0, cell)])
    return _normalise_ours(ast.parse(program.text).body)


def _normalise_ours(body: list) -> list:
    out = []
    for stmt in body:
        if isinstance(stmt, ast.If) and isinstance(stmt.test, ast.Constant) and stmt.test.value is True and (
                stmt.lineno == 1):
            out.extend(_normalise_ours(stmt.body))  # the marker line's `if True:` of a dedented cell
            continue
        if isinstance(stmt, ast.If) and isinstance(stmt.test, ast.Constant) and stmt.test.value is True and (
                not stmt.orelse and stmt.col_offset == 0 and _is_placeholder_line(stmt)):
            out.append(ast.Pass())  # the `%%time` line of a cell magic with an indented body
            out.extend(_normalise_ours(stmt.body))
            continue
        for field in ("body", "orelse", "finalbody"):
            if isinstance(getattr(stmt, field, None), list):
                setattr(stmt, field, _normalise_ours(getattr(stmt, field)))
        out.append(stmt)
    return out


_PLACEHOLDER_IFS: set = set()


def _is_placeholder_line(stmt: ast.If) -> bool:
    return stmt.lineno in _PLACEHOLDER_IFS


def _compare(cell: str) -> None:
    program = CellProgram([(0, cell)])
    _PLACEHOLDER_IFS.clear()
    _PLACEHOLDER_IFS.update(number for number, line in enumerate(program.text.splitlines(), 1)
                            if line.startswith("if True:  # tflint-notes-magic"))
    try:
        expected = _oracle(cell)
    except SyntaxError:
        expected = None
    try:
        compile(program.text, "<cell>", "exec")
        ours = _ours(cell)
    except SyntaxError:
        ours = None
    assert (ours is None) == (expected is None), (cell, program.text)
    if ours is not None:
        dump = [_dump(s) for s in ours]
        assert dump == [_dump(s) for s in expected], program.text
    # every line keeps its place, and the cell comes back byte for byte
    assert program.split(program.text) == {0: cell if cell.endswith("\n") or not cell else cell + "\n"} or (
        program.split(program.text)[0].rstrip("\n") == cell.rstrip("\n"))
    assert len(program.text.splitlines()) == 1 + len(cell.splitlines())


def _dump(node: ast.AST) -> str:
    # IPython dedents a cell's text, string literals included; the program keeps the cell's bytes (the
    # linter never reads what a string says), so string contents are compared without line indentation.
    text = ast.dump(node)
    return re.sub(r"(?: |\\t|\\n)+", " ", text)


@pytest.mark.parametrize("cell", SHAPES)
def test_cell_shapes_match_ipython(cell):
    _compare(cell)


def test_automagic_names_match_ipython():
    from tflint_notes.cells import LINE_MAGICS

    assert set(SHELL.magics_manager.lsmagic()["line"]) <= LINE_MAGICS


def test_automagic_is_not_assumed_for_a_name_the_notebook_binds():
    program = CellProgram([(0, "ls = [1]\n"), (1, "ls\n")], bound_names=frozenset({"ls"}))
    assert "ls\n" in program.text.split("cell 1\n", 1)[1]


def test_skipped_and_prompt_cells_are_comments_only():
    for cell in ("%%bash\n  echo 1\n", ">>> x = 1\n>>> y = 2\n", "In [1]: x = 1\n"):
        program = CellProgram([(0, cell)])
        assert ast.parse(program.text).body == []
        assert program.split(program.text)[0] == cell


def test_first_plain_cell_skips_magic_and_indented_cells():
    program = CellProgram([(0, "%%capture\nimport os\n"), (2, "    x = 1\n"), (3, "import numpy\n")])
    start, end = first_plain_cell(program.text)
    assert program.text[start:end] == "import numpy\n"
    assert first_plain_cell("x = 1\n") is None
    assert first_plain_cell(CellProgram([(0, "%%bash\nls\n")]).text) == (-1, -1)


# Units that are well-formed on their own (a bracket opened is closed), combined in random order.
PYTHON_UNITS = ["x = 1", "import os", "if x:\n    y = 2", "def f():\n    return 1", "s = ('a'\n     % (1,))",
                "t = '''\n!inside string\n%and this\n'''", "# comment", "", "    ", "print(x)  # ?",
                "z = [1,\n     != 2]", "w = (1 +\n     2) % 3", "u = 1 + \\\n    2"]
IPYTHON_UNITS = ["!ls", "!echo a \\\n  b", "%matplotlib inline", "%time x = 1", "x = !ls", "y = %who_ls",
                 "x?", "obj.attr??", "if x:\n    !ls", "def g():\n    %timeit f()\n    return 2"]


@settings(max_examples=int(os.environ.get("CELL_EXAMPLES", 300)), deadline=None)
@given(st.lists(st.sampled_from(PYTHON_UNITS + IPYTHON_UNITS), max_size=8),
       st.sampled_from(["", "%%time\n", "%%capture\n", "    "]))
def test_random_cells_match_ipython(units, head):
    body = "\n".join(units) + "\n"
    if head == "    ":
        body = "".join("    " + line if line.strip() else line for line in body.splitlines(keepends=True))
        head = ""
    _compare(head + body)
