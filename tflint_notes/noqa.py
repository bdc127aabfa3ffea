"""`# noqa` handling that matches flake8's, so the CLI and the flake8 plugin agree."""

from __future__ import annotations

import io
import re
import tokenize

from tflint_notes.source import split_lines

# Same pattern as flake8.defaults.NOQA_INLINE_REGEXP (codes are matched as prefixes, like flake8).
NOQA_INLINE = re.compile(r"# noqa(?::[\s]?(?P<codes>([A-Z]+[0-9]+(?:[,\s]+)?)+))?", re.IGNORECASE)
# `# flake8: noqa` (flake8's file-level switch) and our own `# tflint-notes: noqa`, alone on a line.
NOQA_FILE = re.compile(r"\s*# (?:flake8|tflint-notes)[:=]\s*noqa\s*$", re.IGNORECASE)


def file_is_exempt(lines: list[str]) -> bool:
    return any(NOQA_FILE.match(line) for line in lines if "noqa" in line.lower())


def _logical_ranges(text: str, lines: list[str]) -> dict[int, str]:
    """flake8 searches a multi-line token's whole text (e.g. a triple-quoted string) for `# noqa`."""
    mapping: dict[int, str] = {}
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return mapping
    min_line, max_line = len(lines) + 2, -1
    for tok in tokens:
        if tok.type in (tokenize.ENDMARKER, tokenize.DEDENT):
            continue
        min_line = min(min_line, tok.start[0])
        max_line = max(max_line, tok.end[0])
        if tok.type in (tokenize.NL, tokenize.NEWLINE):
            if max_line > min_line:
                joined = "".join(lines[min_line - 1:max_line])
                for number in range(min_line, max_line + 1):
                    mapping[number] = joined
            min_line, max_line = len(lines) + 2, -1
    return mapping


class NoqaIndex:
    """Answers "is this code suppressed on this line?" for one source text."""

    def __init__(self, text: str):
        self._text = text
        self._lines = split_lines(text)
        self._has_noqa = "noqa" in text.lower()
        self._multi: dict[int, str] | None = None

    def suppresses(self, code: str, line: int) -> bool:
        if not self._has_noqa:
            return False
        if self._multi is None:
            self._multi = _logical_ranges(self._text, self._lines)
        physical = self._multi.get(line)
        if physical is None:
            physical = self._lines[line - 1] if 0 < line <= len(self._lines) else ""
        match = NOQA_INLINE.search(physical)
        if match is None:
            return False
        codes = match.group("codes")
        if codes is None:
            return True
        listed = tuple(c for c in re.split(r"[,\s]", codes) if c)
        return code in listed or code.startswith(listed)

    @property
    def file_exempt(self) -> bool:
        return self._has_noqa and file_is_exempt(self._lines)
