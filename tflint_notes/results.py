"""Plain result values shared by the engine, the CLI and the flake8 plugin."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class Edit:
    """Replace source[start:end] (character offsets into the decoded text) with `text`."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Fix:
    edits: tuple[Edit, ...]
    safe: bool
    description: str = ""


@dataclass(frozen=True)
class Diagnostic:
    code: str
    message: str
    line: int  # 1-based
    column: int  # 0-based, in characters (flake8 adds 1 itself)
    end_line: int
    end_column: int
    fix: Fix | None = field(default=None, compare=False)
