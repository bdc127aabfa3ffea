"""Discovery of fixture programs: fixtures/<CODE>/<case>/{before,after,after_unsafe}.py."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
_MARK = re.compile(r"#\s*(TFN\d{3}(?:[\s,]+TFN\d{3})*)\s*$")
_EXPECT = re.compile(r"^expect-before(?:\[(?P<flavour>[a-z_0-9]+)\])?:\s*(?P<value>.+?)\s*$", re.MULTILINE)
FLAVOURS = ("keras3", "tf_keras")


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

    def expect_before(self, flavour: str) -> tuple[str, str] | None:
        """None if before.py must run cleanly under `flavour`, else (exception type name, message regex).

        `expect-before: ...` applies to both Keras flavours; `expect-before[keras3]: ...` and
        `expect-before[tf_keras]: ...` override it for one (the bug often shows differently)."""
        found = {}
        for match in _EXPECT.finditer(self.before.read_text(encoding="utf-8")):
            found[match.group("flavour")] = match.group("value")
        value = found.get(flavour, found.get(None))
        if value is None:
            raise AssertionError(f"{self.before}: no 'expect-before:' line for {flavour}")
        if value == "pass":
            return None
        kind, _, regex = value.partition(":")
        return kind.strip(), regex.strip()

    @property
    def corrected(self) -> Path | None:
        """For rules without a fix: the hand-corrected program, executed to prove the advice works."""
        p = self.folder / "corrected.py"
        return p if p.exists() else None

    @property
    def positive(self) -> bool:
        return bool(self.expected_marks())

    def programs(self) -> list[Path]:
        return [p for p in (self.before, self.after, self.after_unsafe, self.corrected) if p is not None]


def all_cases() -> list[Case]:
    cases = []
    for code_dir in sorted(FIXTURES.iterdir()):
        if not code_dir.is_dir():
            continue
        for folder in sorted(code_dir.iterdir()):
            if (folder / "before.py").exists():
                cases.append(Case(code_dir.name, folder.name, folder))
    return cases
