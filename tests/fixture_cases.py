"""Discovery of fixture programs: fixtures/<CODE>/<case>/{before,after,after_unsafe}.py."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
_MARK = re.compile(r"#\s*(TFN\d{3}(?:[\s,]+TFN\d{3})*)\s*$")
_EXPECT = re.compile(r"^expect-before:\s*(.+?)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Case:
    code: str
    name: str
    folder: Path

    @property
    def id(self) -> str:
        return f"{self.code}/{self.name}"

    @property
    def before(self) -> Path:
        return self.folder / "before.py"

    @property
    def after(self) -> Path | None:
        p = self.folder / "after.py"
        return p if p.exists() else None

    @property
    def after_unsafe(self) -> Path | None:
        p = self.folder / "after_unsafe.py"
        return p if p.exists() else None

    def expected_marks(self) -> list[tuple[int, str]]:
        """(line, code) for every `# TFNxxx` trailing marker in before.py."""
        marks = []
        for number, line in enumerate(self.before.read_text(encoding="utf-8").splitlines(), 1):
            match = _MARK.search(line)
            if match:
                marks.extend((number, code) for code in re.split(r"[\s,]+", match.group(1)))
        return sorted(marks)

    def expect_before(self) -> tuple[str, str] | None:
        """None if before.py must run cleanly, else (exception type name, message regex)."""
        match = _EXPECT.search(self.before.read_text(encoding="utf-8"))
        if match is None:
            raise AssertionError(f"{self.before}: missing 'expect-before:' line in the docstring")
        value = match.group(1)
        if value == "pass":
            return None
        kind, _, regex = value.partition(":")
        return kind.strip(), regex.strip()

    @property
    def positive(self) -> bool:
        return bool(self.expected_marks())

    def programs(self) -> list[Path]:
        return [p for p in (self.before, self.after, self.after_unsafe) if p is not None]


def all_cases() -> list[Case]:
    cases = []
    for code_dir in sorted(FIXTURES.iterdir()):
        if not code_dir.is_dir():
            continue
        for folder in sorted(code_dir.iterdir()):
            if (folder / "before.py").exists():
                cases.append(Case(code_dir.name, folder.name, folder))
    return cases
