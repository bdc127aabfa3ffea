"""Where nodes are in the source text, for building fix edits.

Kept apart from the engine because the rules build edits with it (`PendingFix.build_edits`) and must not
depend on the engine that runs them: the engine imports the rules, the rules import this.
"""

from __future__ import annotations

import ast
import bisect
import re

import libcst as cst
from libcst._nodes.internal import CodegenState

from tflint_notes.source import line_starts

_NEWLINE = re.compile(r"\r\n|\r|\n")


class Locator:
    """Offsets and lines of nodes in the source text, for building fix edits.  `positions`: node -> CodeRange;
    `tree`: CPython's AST of `text`."""

    def __init__(self, text: str, module: cst.Module, positions, tree: ast.Module):
        self.text = text
        self.module = module
        self.positions = positions
        self.tree = tree
        self._roots: set | None = None
        self.starts = line_starts(text)
        match = _NEWLINE.search(text)
        self.newline = match.group(0) if match else "\n"

    def imported_roots(self) -> set:
        """Top-level packages the file imports anywhere (`tensorflow` for `from tensorflow import keras`)."""
        if self._roots is None:
            roots = set()
            for node in ast.walk(self.tree):
                if isinstance(node, ast.Import):
                    roots.update(alias.name.split(".", 1)[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                    roots.add(node.module.split(".", 1)[0])
            self._roots = roots
        return self._roots

    def offset(self, pos) -> int:
        return self.starts[pos.line - 1] + pos.column

    def span(self, node: cst.CSTNode) -> tuple[int, int]:
        rng = self.positions[node]
        return self.offset(rng.start), self.offset(rng.end)

    def first_line(self, node: cst.CSTNode) -> int:
        return self.positions[node].start.line

    def last_line(self, node: cst.CSTNode) -> int:
        return self.positions[node].end.line

    def line_of(self, offset: int) -> int:
        """The 1-based line holding character `offset`."""
        return bisect.bisect_right(self.starts, offset)

    def line_start(self, line: int) -> int:
        """Offset where 1-based `line` starts (len(text) past the end)."""
        return self.starts[line - 1] if line - 1 < len(self.starts) else len(self.text)

    def line_text(self, line: int) -> str:
        return self.text[self.line_start(line):self.line_start(line + 1)]

    def indent_of(self, line: int) -> str:
        content = self.line_text(line)
        return content[:len(content) - len(content.lstrip(" \t"))]

    def code(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

    def code_like(self, original: cst.CSTNode, new: cst.CSTNode) -> str | None:
        """Source for `new`, to replace `original`'s span (parentheses excluded, as in `span`).

        A multi-line node generated on its own loses the indentation of its block; find the
        indentation that regenerates `original` byte for byte and generate `new` with it.
        None if there is none (then the fix is not offered rather than risk a wrong edit)."""
        start, end = self.span(original)
        source = self.text[start:end]
        # The span excludes `original`'s own parentheses, which stay in the text; `new` keeps
        # parentheses of its own (e.g. the receiver in `(a + b).numpy()` -> `(a + b)`).
        if getattr(new, "lpar", None) == getattr(original, "lpar", None):
            new = _strip_parens(new)
        original = _strip_parens(original)
        if sorted(_comments(original)) != sorted(_comments(new)):
            return None  # the rewrite would drop or duplicate a comment: no fix rather than lose it
        if "\n" not in source and "\r" not in source:
            return self._generate(new, "")
        first = self.first_line(original)
        tried = set()
        for line in range(first, max(0, first - 200), -1):
            indent = self.indent_of(line)
            if indent in tried:
                continue
            tried.add(indent)
            if self._generate(original, indent) == source:
                return self._generate(new, indent)
        return None

    def _generate(self, node: cst.CSTNode, indent: str) -> str:
        state = CodegenState(default_indent=self.module.default_indent, default_newline=self.module.default_newline)
        if indent:
            state.indent_tokens.append(indent)
        node._codegen(state)
        return "".join(state.tokens)


def _comments(node: cst.CSTNode) -> list[str]:
    out = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Comment):
            out.append(current.value)
        stack.extend(current.children)  # all fields: comments live in whitespace nodes
    return out


def _strip_parens(node: cst.CSTNode) -> cst.CSTNode:
    return node.with_changes(lpar=[], rpar=[]) if getattr(node, "lpar", None) else node
