"""`tflint-notes fix --unsafe-fixes` on real code, as a user upgrading a code base runs it, then checks
what it wrote.

    python bench/fix_check.py                      # copies of the installed keras, tf_keras, tensorflow/python
    python bench/fix_check.py DIR [DIR ...]        # copies of any source trees
    python bench/fix_check.py --sample 400         # a deterministic sample of the files (CI budget)

Every rule is selected, the off-by-default ones included.  The checks, with tools independent of the
fixer's own gate:
- every changed .py file compiles (`compile()`, not only the parser);
- pyflakes reports no undefined name in a changed file that it did not report before;
- a second `fix --unsafe-fixes` changes nothing and says "Fixed 0 finding(s) in 0 file(s).";
- the first run's summary is honest: "Fixed N finding(s) in M file(s)." with M the files that changed,
  its exit status is 1 exactly when `check` finds something afterwards, and it printed no error.
Exit status 0 when every check holds, 1 otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

PACKAGES = ("keras", "tf_keras", "tensorflow/python")
_SUMMARY = re.compile(r"Fixed (\d+) finding\(s\) in (\d+) file\(s\)\.")


def installed_roots() -> list[Path]:
    site = Path(sysconfig.get_paths()["purelib"])
    return [site / package for package in PACKAGES]


def copy_sources(roots: list[Path], target: Path, sample: int | None) -> list[Path]:
    files = []
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.suffix in (".py", ".ipynb") and path.is_file():
                files.append((root, path))
    if sample is not None and sample < len(files):
        # deterministic: by a hash of the path, so the sample is the same on every machine
        files = sorted(files, key=lambda rp: hashlib.sha1(str(rp[1].relative_to(rp[0].parent)).encode()).hexdigest())
        files = files[:sample]
    copied = []
    for root, path in files:
        destination = target / root.name / path.relative_to(root)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)
        copied.append(destination)
    return copied


def synthesize_notebooks(files: list[Path], target: Path, count: int) -> list[Path]:
    """Notebooks made from real TF modules: top-level statements become cells, mixed with the IPython
    syntax real notebooks have (cell magics, `!` lines with continuations, `x = !ls`, an indented cell,
    an automagic, `obj?`).  Deterministic: the same files give the same notebooks."""
    import ast
    import json
    import random

    out = []
    candidates = [p for p in files if p.suffix == ".py" and b"tensorflow" in p.read_bytes()[:20000]]
    for path in candidates[:count]:
        text = path.read_text(encoding="utf-8", errors="replace")
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        lines = text.splitlines(keepends=True)
        cells: list[str] = []
        for stmt in tree.body:
            start = (stmt.decorator_list[0].lineno if getattr(stmt, "decorator_list", None) else stmt.lineno) - 1
            chunk = "".join(lines[start:stmt.end_lineno])
            same_kind = cells and isinstance(stmt, (ast.Import, ast.ImportFrom)) and cells[-1].startswith(("import", "from"))
            if same_kind:
                cells[-1] += chunk
            else:
                cells.append(chunk)
        rng = random.Random(str(path.name))
        shaped = ['%%capture\n!pip install -q tensorflow \\\n    numpy\nprint("installed")\n', "%matplotlib inline\n"]
        for cell in cells:
            roll = rng.random()
            if roll < 0.15 and (cell.startswith(("def ", "class ", "@"))):
                cell = "%%time\n" + cell
            elif roll < 0.25 and "\n" not in cell.rstrip("\n") and '"""' not in cell and "\'\'\'" not in cell:
                cell = "    " + cell  # one statement, indented: IPython dedents the cell
            elif roll < 0.35:
                cell = cell + "files = !ls\n!echo one \\\n    two\n"
            shaped.append(cell)
            if rng.random() < 0.05:
                shaped.append('%%bash\necho "step"\n  echo "indented"\n')
        shaped += ["ls\n", "files?\n"]
        notebook = {"cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                               "source": cell.splitlines(keepends=True)} for cell in shaped],
                    "metadata": {"language_info": {"name": "python"}}, "nbformat": 4, "nbformat_minor": 5}
        destination = target / "notebooks" / (path.stem + f"_{len(out)}.ipynb")
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_text(json.dumps(notebook, indent=1) + "\n", encoding="utf-8")
        out.append(destination)
    return out


def notebook_problems(before: bytes, after: bytes) -> list[str]:
    """What is wrong with a fixed notebook, judged by IPython: each changed cell, transformed as Jupyter
    runs it, compiles; pyflakes finds no new undefined name in the notebook's code."""
    import json

    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()

    def cells(raw: bytes) -> list[str]:
        data = json.loads(raw)
        return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                for c in data["cells"] if c.get("cell_type") == "code"]

    old, new = cells(before), cells(after)
    problems = []
    if len(old) != len(new):
        return ["the number of code cells changed"]
    for number, (a, b) in enumerate(zip(old, new), 1):
        if a != b:
            try:
                compile(shell.transform_cell(b), f"cell {number}", "exec")
            except SyntaxError as exc:
                problems.append(f"code cell {number} no longer compiles in IPython: {exc}")
    program_old = "\n".join(shell.transform_cell(c) for c in old)
    program_new = "\n".join(shell.transform_cell(c) for c in new)
    names_old, names_new = undefined_names(program_old), undefined_names(program_new)
    if names_old is not None and names_new is not None and names_new - names_old:
        problems.append(f"new undefined name(s) {sorted(names_new - names_old)}")
    return problems


def undefined_names(text: str) -> set[str] | None:
    """Names pyflakes reports as undefined, or None if pyflakes cannot read the text."""
    from pyflakes import api, messages, reporter

    collected: list = []

    class Collect(reporter.Reporter):
        def __init__(self):
            super().__init__(io.StringIO(), io.StringIO())

        def flake(self, message):
            collected.append(message)

    try:
        api.check(text, "<file>", Collect())
    except Exception:  # noqa: BLE001 - pyflakes failing is not the fixer's fault
        return None
    return {m.message_args[0] for m in collected if isinstance(m, messages.UndefinedName)}


def run(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "tflint_notes", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=3600)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("roots", nargs="*", type=Path, help="source trees (default: installed TF/Keras)")
    parser.add_argument("--sample", type=int, help="check this many files (chosen by path hash)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--notebooks", type=int, default=0,
                        help="also make this many notebooks from the TF modules (needs IPython) and check them")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tflint_notes.rule import all_rules

    roots = args.roots or installed_roots()
    codes = ",".join(all_rules())
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="tflint-fix-check-") as tmp:
        work = Path(tmp)
        files = copy_sources(roots, work, args.sample)
        files += synthesize_notebooks(files, work, args.notebooks) if args.notebooks else []
        before = {path: path.read_bytes() for path in files}
        common = ["--isolated", "--no-cache", "--select", codes, "--jobs", str(args.jobs), str(work)]
        first = run("fix", "--unsafe-fixes", *common)
        changed = [path for path in files if path.read_bytes() != before[path]]
        summary = _SUMMARY.search(first.stdout)
        errors = [line for line in first.stderr.splitlines() if " fix not applied: " not in line]
        if errors:
            problems.append("the fix run printed errors:\n" + "\n".join(errors[:20]))
        if summary is None:
            problems.append(f"no summary line in the fix run's output:\n{first.stdout[-2000:]}")
        elif int(summary.group(2)) != len(changed) or int(summary.group(1)) < len(changed):
            problems.append(f"summary says {summary.group(0)!r} but {len(changed)} file(s) changed")
        new_undefined = 0
        for path in changed:
            if path.suffix == ".ipynb":
                problems.extend(f"{path.relative_to(work)}: {p}" for p in notebook_problems(before[path], path.read_bytes()))
                continue
            text = path.read_text(encoding="utf-8", errors="surrogateescape")
            try:
                compile(text, str(path), "exec", dont_inherit=True)
            except SyntaxError as exc:
                problems.append(f"{path.relative_to(work)}: the fixed file does not compile: {exc}")
                continue
            old = undefined_names(before[path].decode("utf-8", errors="surrogateescape"))
            new = undefined_names(text)
            if old is not None and new is not None and new - old:
                new_undefined += 1
                problems.append(f"{path.relative_to(work)}: new undefined name(s) {sorted(new - old)}")
        check = run("check", *common)
        remaining = check.returncode == 1
        if (first.returncode == 1) != remaining or first.returncode not in (0, 1):
            problems.append(f"fix exited {first.returncode} but check afterwards exited {check.returncode}")
        second_before = {path: path.read_bytes() for path in files}
        second = run("fix", "--unsafe-fixes", *common)
        again = [path for path in files if path.read_bytes() != second_before[path]]
        if again or "Fixed 0 finding(s) in 0 file(s)." not in second.stdout:
            problems.append(f"a second fix run changed {len(again)} file(s): "
                            f"{[str(p.relative_to(work)) for p in again[:10]]}\n{second.stdout[-500:]}")
        fixed = int(summary.group(1)) if summary else 0
        notebooks = sum(1 for p in files if p.suffix == ".ipynb")
        print(f"files: {len(files)} ({notebooks} notebooks); changed by fix --unsafe-fixes: {len(changed)} "
              f"({sum(1 for p in changed if p.suffix == '.ipynb')} notebooks); fixes applied: {fixed}; "
              f"findings remaining: {len(check.stdout.splitlines()) - 1 if remaining else 0}; "
              f"exit status {first.returncode}")
        dropped = [line for line in first.stderr.splitlines() if " fix not applied: " in line]
        print(f"fixes dropped by the fix gate: {len(dropped)}")
        for line in dropped[:20]:
            print(f"  {line.replace(str(work) + os.sep, '')}")
    if problems:
        print(f"\n{len(problems)} problem(s):")
        for problem in problems:
            print(f"- {problem}")
        return 1
    print("every changed file compiles, no new undefined name, a second run changes nothing, the summary is honest")
    return 0


if __name__ == "__main__":
    sys.exit(main())
