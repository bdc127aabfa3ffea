"""Discovery of fixture programs: fixtures/<CODE>/<case>/{before,after,after_unsafe}.py, and the
multi-module fixture projects fixtures/projects/<case>/ that have run*.py entry programs at their root."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
_MARK = re.compile(r"#\s*(TFN\d{3}(?:[\s,]+TFN\d{3})*)\s*$")
_EXPECT = re.compile(r"^expect-before(?:\[(?P<flavour>[a-z_0-9]+)\])?:\s*(?P<value>.+?)\s*$", re.MULTILINE)
FLAVOURS = ("keras3", "tf_keras")
PROJECTS = FIXTURES / "projects"
_PROJECT_MARK = re.compile(r"#\s*expect:\s*(TFN\d{3})")


def expect_before(program: Path, flavour: str) -> tuple[str, str] | None:
    """None if `program` must run cleanly under `flavour`, else (exception type name, message regex).

    `expect-before: ...` applies to both Keras flavours; `expect-before[keras3]: ...` and
    `expect-before[tf_keras]: ...` override it for one (the bug often shows differently)."""
    found = {}
    for match in _EXPECT.finditer(program.read_text(encoding="utf-8")):
        found[match.group("flavour")] = match.group("value")
    value = found.get(flavour, found.get(None))
    if value is None:
        raise AssertionError(f"{program}: no 'expect-before:' line for {flavour}")
    if value == "pass":
        return None
    kind, _, regex = value.partition(":")
    return kind.strip(), regex.strip()


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
        """See `expect_before`: how before.py behaves under `flavour`."""
        return expect_before(self.before, flavour)

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


@dataclass(frozen=True)
class ProjectCase:
    """A multi-module fixture project executed under TensorFlow: fixtures/projects/<name>/ with `run.py` (and
    optionally more `run_*.py`) at its root, each with `main()` and an `expect-before:` line; the linter's
    expectations are `# expect: TFNxxx` marks in the project's modules (tests/test_projects.py)."""

    name: str
    root: Path

    @property
    def id(self) -> str:
        return f"projects/{self.name}"

    def programs(self, root: Path | None = None) -> list[Path]:
        """The entry programs (run.py first), in this project or in a copy of it at `root`."""
        found = sorted((root or self.root).glob("run*.py"))
        return sorted(found, key=lambda p: (p.name != "run.py", p.name))

    def expected_marks(self) -> set[tuple[str, int, str]]:
        """(path relative to the root, line, code) of every `# expect: TFNxxx` mark."""
        marks = set()
        for path in sorted(self.root.rglob("*.py")):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                marks.update((path.relative_to(self.root).as_posix(), number, code)
                             for code in _PROJECT_MARK.findall(line))
        return marks


def project_cases() -> list[ProjectCase]:
    return [ProjectCase(p.name, p) for p in sorted(PROJECTS.iterdir()) if p.is_dir() and (p / "run.py").exists()]
