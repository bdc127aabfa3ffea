"""Notebook cells as one Python program, read the way IPython reads them.

Jupyter runs a cell through IPython's input transformer (`IPython.core.inputtransformer2`) before
Python sees it: `%magic`, `!cmd` (with `\\` continuation lines), `x = !cmd`, `x = %magic`, `obj?`,
cell magics (`%%time`), automagics in one-line cells (`pip install x`), and a cell whose lines share an
indentation is dedented.  This module does the same with placeholders that keep every line where it
was, so diagnostics map back to cell lines and columns unchanged:

- an IPython line becomes `<indent>pass  # tflint-notes-magic N` (a statement, so it can be the
  body of a block), or a comment for a cell that is not Python at all (`%%bash`, `%%writefile`, ...);
- a cell magic whose body is Python (`%%time`, `%%timeit`, `%%capture`, `%%prun`) keeps its body;
- a cell whose lines share an indentation is wrapped in `if True:` on its marker line.

Each cell starts with a marker line, `# %%tflint-notes-cell <index>[ <kind>]`.  The engine reads the
markers to place an added import in the first plain Python cell (`first_plain_cell`).  The reference
for all of this is IPython's own transformer: tests/test_cells.py compares against it shape by shape.
IPython is never imported here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tflint_notes.source import split_lines

MARK = "# %%tflint-notes-cell"
MARK_RE = re.compile(r"^(?:if True:  )?# %%tflint-notes-cell (\d+)(?: ([a-z]+))?\r?\n", re.MULTILINE)
_PLACEHOLDER_RE = re.compile(r"^[ \t]*(?:pass  |if True:  |import __future__  )?# tflint-notes-magic (\d+)[ \t]*(\r?)$",
                             re.MULTILINE)
_FUTURE_PLACEHOLDER_RE = re.compile(r"^[ \t]*import __future__  # tflint-notes-magic (\d+)[ \t]*(\r?)$", re.MULTILINE)
# `from __future__ import x` is legal as the first statement of each cell, not in the middle of the
# program the cells make: it stands in as `import __future__` (an import, legal anywhere).
_FUTURE = re.compile(r"^[ \t]*from[ \t]+__future__[ \t]+import[ \t]+[\w, \t]+(?:#.*)?$")

#: Cell magics whose body is Python run in the notebook's namespace: linted and fixed.
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun"})
#: IPython 9's line magics: a one-line cell starting with one of them runs as a magic (automagic).
LINE_MAGICS = frozenset({
    "alias", "alias_magic", "autoawait", "autocall", "automagic", "bookmark", "cat", "cd", "code_wrap",
    "colors", "conda", "config", "cp", "debug", "dhist", "dirs", "doctest_mode", "ed", "edit", "env", "gui",
    "hist", "history", "killbgscripts", "ldir", "lf", "lk", "ll", "load", "load_ext", "loadpy", "logoff",
    "logon", "logstart", "logstate", "logstop", "ls", "lsmagic", "lx", "macro", "magic", "mamba",
    "matplotlib", "micromamba", "mkdir", "mv", "notebook", "page", "pastebin", "pdb", "pdef", "pdoc",
    "pfile", "pinfo", "pinfo2", "pip", "popd", "pprint", "precision", "prun", "psearch", "psource", "pushd",
    "pwd", "pycat", "pylab", "quickref", "recall", "rehashx", "reload_ext", "rep", "rerun", "reset",
    "reset_selective", "rm", "rmdir", "run", "save", "sc", "set_env", "sx", "system", "tb", "time",
    "timeit", "unalias", "unload_ext", "uv", "who", "who_ls", "whos", "xdel", "xmode",
    # extensions commonly loaded in TF notebooks
    "tensorboard",
})
_ESCAPES = ("!", "?", "%", ",", ";", "/")
_OPERATORS = ("!=", "%=", "/=", "//")  # tokens that start with an escape character but are Python
_PROMPT = re.compile(r"^(?:\s*>>>( |$)|((\[nav\]|\[ins\])? )?In \[\d+\]: )")
_AUTOMAGIC = re.compile(r"^\s*([\w.*]+)(.*)$", re.DOTALL)
_CELL_MAGIC = re.compile(r"^%%(\w*)")
_ASSIGN_MAGIC_FOLLOW = re.compile(r"\s*(!|%[A-Za-z_])")

PLAIN, MAGIC, SKIP, INDENTED = "", "magic", "skip", "indented"


@dataclass
class _Scan:
    """Bracket/string state of Python code read line by line (enough to find logical lines)."""

    depth: int = 0
    string: str | None = None  # the closing delimiter of an open string
    continued: bool = False  # the last line ended with a backslash outside a string

    def at_logical_start(self) -> bool:
        return self.depth == 0 and self.string is None and not self.continued

    def feed(self, line: str) -> None:
        body = line.rstrip("\r\n")
        i, n = 0, len(body)
        self.continued = False
        escaped_end = False
        while i < n:
            ch = body[i]
            if self.string is not None:
                if ch == "\\":
                    if i + 1 >= n:
                        escaped_end = True
                    i += 2
                    continue
                if body.startswith(self.string, i):
                    i += len(self.string)
                    self.string = None
                    continue
                i += 1
                continue
            if ch == "#":
                break
            if ch in "'\"":
                triple = body[i:i + 3]
                self.string = triple if triple in ("'''", '"""') else ch
                i += len(self.string)
                continue
            if ch in "([{":
                self.depth += 1
            elif ch in ")]}":
                self.depth = max(0, self.depth - 1)
            elif ch == "\\" and i == n - 1:
                self.continued = True
            i += 1
        if self.string in ("'", '"') and not escaped_end:
            self.string = None  # an unterminated one-line string: a syntax error either way


def _code_chars(body: str, comment: list | None = None):
    """(offset, character) of a one-line code's characters outside strings, up to a comment (whose
    offset is appended to `comment`, if given)."""
    i, n, string = 0, len(body), None
    while i < n:
        ch = body[i]
        if string is not None:
            if ch == "\\":
                i += 2
            elif body.startswith(string, i):
                i += len(string)
                string = None
            else:
                i += 1
            continue
        if ch == "#":
            if comment is not None:
                comment.append(i)
            return
        if ch in "'\"":
            triple = body[i:i + 3]
            string = triple if triple in ("'''", '"""') else ch
            i += len(string)
            continue
        yield i, ch
        i += 1


def _first_code(line: str) -> str:
    """The line without its comment (quotes respected), right-stripped."""
    body = line.rstrip("\r\n")
    comment: list = []
    for _ in _code_chars(body, comment):
        pass
    return body[:comment[0] if comment else len(body)].rstrip()


def _assign_magic(line: str) -> bool:
    """`x = !cmd` / `x = %magic`: the first `=` outside brackets and strings is followed by `!` or `%name`."""
    body = line.rstrip("\r\n")
    depth = 0
    for i, ch in _code_chars(body):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
        elif ch == "=" and depth == 0:
            before = body[i - 1] if i else ""
            after = body[i + 1:i + 2]
            if after == "=" or before in "=!<>+-*/%&|^@:":
                return False  # ==, !=, augmented assignment, walrus: not an assignment IPython rewrites
            return bool(_ASSIGN_MAGIC_FOLLOW.match(body, i + 1))
    return False


def _is_magic_start(line: str) -> bool:
    stripped = line.lstrip(" \t")
    if stripped.startswith(_ESCAPES) and not stripped.startswith(_OPERATORS):
        return True
    if _assign_magic(line):
        return True
    return _first_code(line).endswith("?")


def _dedents(lines: list[str]) -> bool:
    """Would IPython dedent these lines (they share an indentation) into code that needs a block?"""
    code = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not code:
        return False
    margin = _margin("".join(lines))
    # The `if True:` block starts at the first code line: it must sit at the common indentation (if it is
    # indented deeper, IPython's dedented cell fails with "unexpected indent", and so must ours).
    return bool(margin) and not code[0][len(margin):][:1].isspace()


_LEADING_WHITESPACE = re.compile(r"(^[ \t]*)(?:[^ \t\n])", re.MULTILINE)


def _margin(text: str) -> str:
    """The whitespace every non-blank line starts with, as `textwrap.dedent` (IPython's dedent) finds it."""
    margin = None
    for indent in _LEADING_WHITESPACE.findall(text):
        if margin is None or margin.startswith(indent):
            margin = indent
        elif not indent.startswith(margin):
            common = 0
            for a, b in zip(margin, indent):
                if a != b:
                    break
                common += 1
            margin = margin[:common]
        if not margin:
            return ""
    return margin or ""


@dataclass
class CellProgram:
    """Code cells as one program.  `cells`: (index in the notebook, source text) of each code cell."""

    cells: list
    bound_names: frozenset = frozenset()  # names the notebook binds (they shadow automagics)
    text: str = ""
    magics: list = field(default_factory=list)  # original lines behind placeholders
    cell_of_line: list = field(default_factory=list)  # program line (0-based) -> (cell index, line in cell)
    kinds: dict = field(default_factory=dict)  # cell index -> kind

    def __post_init__(self):
        parts: list[str] = []
        for index, source in self.cells:
            kind, masked = self._mask_cell(source)
            self.kinds[index] = kind
            mark = f"{MARK} {index}" + (f" {kind}" if kind else "")
            if kind == INDENTED:
                mark = "if True:  " + mark
            parts.append(mark + "\n")
            self.cell_of_line.append((index, 0))
            if masked and not masked.endswith(("\n", "\r")):
                masked += "\n"
            parts.append(masked)
            for number in range(len(split_lines(masked))):
                self.cell_of_line.append((index, number + 1))
        self.text = "".join(parts)

    # -- masking --

    def _placeholder(self, original: str, prefix: str) -> str:
        body = original.rstrip("\r\n")
        ending = original[len(body):]
        self.magics.append(body)
        return f"{prefix}# tflint-notes-magic {len(self.magics) - 1}{ending}"

    def _mask_cell(self, source: str) -> tuple[str, str]:
        lines = split_lines(source)
        content = [line for line in lines if line.strip()]
        if not content:
            return PLAIN, source
        first = content[0]
        if _PROMPT.match(first) or (len(content) > 1 and _PROMPT.match(content[1])):
            return SKIP, "".join(self._placeholder(line, "") for line in lines)
        dedented = _dedents(lines)
        start = first.lstrip() if dedented else first
        magic = _CELL_MAGIC.match(start)
        if magic is not None:
            first_index = lines.index(first)
            if magic.group(1) in PYTHON_CELL_MAGICS and not re.match(r"%%\w+\?", start):
                body = lines[first_index + 1:]
                body_dedented = _dedents(body)
                head = lines[:first_index]  # blank lines
                head.append(self._placeholder(first, "if True:  " if body_dedented else "pass  "))
                return MAGIC, "".join(head) + self._mask_python(body)
            return SKIP, "".join(self._placeholder(line, "") for line in lines)
        if len(content) == 1 and lines.index(first) == len(lines) - 1 and self._automagic(first):
            return PLAIN, "".join(lines[:-1]) + self._placeholder(first, "pass  ")
        return (INDENTED if dedented else PLAIN), self._mask_python(lines)

    def _automagic(self, line: str) -> bool:
        match = _AUTOMAGIC.match(line.rstrip("\r\n"))
        if match is None or _is_magic_start(line):
            return False
        name, rest = match.group(1), match.group(2).lstrip()
        return name in LINE_MAGICS and name not in self.bound_names and not rest.startswith(("=", ","))

    def _mask_python(self, lines: list[str]) -> str:
        out: list[str] = []
        scan = _Scan()
        in_magic = False  # inside an IPython line continued with backslashes
        logical = 0
        for line in lines:
            if in_magic:  # a `\` continuation of an IPython line: a comment, not a statement
                out.append(self._placeholder(line, ""))
                if not line.rstrip("\r\n").endswith("\\"):
                    in_magic = False
                continue
            if scan.at_logical_start() and _FUTURE.match(line.rstrip("\r\n")):
                indent = line[:len(line) - len(line.lstrip(" \t"))]
                out.append(self._placeholder(line, indent + "import __future__  "))
                continue
            if scan.at_logical_start() and line.strip() and _is_magic_start(line):
                indent = line[:len(line) - len(line.lstrip(" \t"))]
                out.append(self._placeholder(line, indent + "pass  "))
                in_magic = line.rstrip("\r\n").endswith("\\")
                continue
            if scan.at_logical_start():
                logical = len(out)  # where this logical line starts in `out`
            scan.feed(line)
            out.append(line)
            ended = scan.at_logical_start() or (line is lines[-1] and scan.string is None)
            if ended and len(out) - logical > 1 and _first_code(line).endswith("?"):
                # `obj(a,\n    b)?`: IPython's help syntax ends a logical line of several lines
                originals = out[logical:]
                indent = originals[0][:len(originals[0]) - len(originals[0].lstrip(" \t"))]
                out[logical:] = [self._placeholder(originals[0], indent + "pass  ")] + [
                    self._placeholder(other, "") for other in originals[1:]]
        return "".join(out)

    # -- mapping back --

    def location(self, line: int) -> tuple[int, int] | None:
        """(cell index, 1-based line in the cell) of a 1-based program line."""
        if 0 < line <= len(self.cell_of_line):
            index, cell_line = self.cell_of_line[line - 1]
            return index, max(cell_line, 1)
        return None

    def restore(self, text: str) -> str:
        """Placeholders back to the IPython lines they stand for."""
        return _PLACEHOLDER_RE.sub(lambda m: self.magics[int(m.group(1))] + m.group(2), text)

    def split(self, new_text: str) -> dict[int, str]:
        """{cell index: restored cell source} of a (fixed) program text."""
        pieces = MARK_RE.split(new_text)
        # pieces: [before the first mark, index, kind, text, index, kind, text, ...]
        prefix = pieces[0]
        out: dict[int, str] = {}
        for i in range(1, len(pieces), 3):
            index, text = int(pieces[i]), pieces[i + 2]
            if prefix and not out:
                text = prefix + text
            out[index] = self.restore(text)
        return out

    def cell_errors(self, new_text: str) -> str | None:
        """Why a fixed program cannot be written back cell by cell, or None: every cell must still be
        a program of its own that compiles (a fix must not move code across a cell boundary)."""
        from tflint_notes.gate import compile_error

        pieces = MARK_RE.split(new_text)
        if pieces[0].strip():
            return "the fix added code before the first cell"
        seen = []
        for i in range(1, len(pieces), 3):
            index, kind, text = int(pieces[i]), pieces[i + 1] or "", pieces[i + 2]
            seen.append(index)
            text = _FUTURE_PLACEHOLDER_RE.sub(lambda m: self.magics[int(m.group(1))] + m.group(2), text)
            program = ("if True:\n" if kind == INDENTED else "") + text
            error = compile_error(program)
            if error is not None:
                return f"cell {index + 1} would not compile: {error}"
        if seen != [index for index, _ in self.cells]:
            return "the fix would move code across cells"
        return None


def first_plain_cell(text: str) -> tuple[int, int] | None:
    """(start offset, end offset) of the first plain Python cell of a program with cell markers:
    the text after its marker line up to the next marker.  None if the text has no markers."""
    first = None
    for match in MARK_RE.finditer(text):
        if first is None:
            first = match
        if match.group(2) is None and not match.group(0).startswith("if"):
            following = MARK_RE.search(text, match.end())
            return match.end(), following.start() if following else len(text)
    return (-1, -1) if first is not None else None
