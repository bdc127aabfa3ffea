"""The migration report: what changed, what needs a person and why, what could not be decided.

Markdown for a pull request (`tflint-migration-report.md`), or JSON (`--output-format json`) for tools.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from tflint_notes.docs import DOCS_URL
from tflint_notes.migrate.code import FileMigration
from tflint_notes.migrate.dependencies import DependencyPlan

ROUTE_TEXT = {
    "keras3": "keras3: the code is rewritten for Keras 3 (`tf.keras` of TensorFlow {to})",
    "tf_keras": "tf_keras: the code keeps Keras 2 through the `tf-keras` package (`TF_USE_LEGACY_KERAS=1`)",
}


@dataclass
class Migration:
    """One route's result over the whole run."""

    route: str
    to: str
    files: list[FileMigration] = field(default_factory=list)
    dependencies: list[DependencyPlan] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # "path: why" for files that could not be handled
    scanned: int = 0
    sources: list[tuple[str, str]] = field(default_factory=list)  # (project root, what it declared before)

    @property
    def person_items(self) -> int:
        return (sum(len(f.items) for f in self.files) + sum(len(d.items) for d in self.dependencies))

    @property
    def undecided(self) -> int:
        return sum(len(f.undecided) for f in self.files) + sum(len(d.problems) for d in self.dependencies)

    @property
    def left_for_a_person(self) -> int:
        return self.person_items + self.undecided

    def totals(self) -> dict:
        return {
            "files_scanned": self.scanned,
            "files_changed": sum(1 for f in self.files if f.new_bytes is not None),
            "code_changes": sum(len(f.changes) for f in self.files if f.new_bytes is not None),
            "dependency_files_changed": sum(len(d.new_bytes) for d in self.dependencies),
            "dependency_changes": sum(len(d.changes) for d in self.dependencies),
            "needs_a_person": self.person_items,
            "could_not_decide": self.undecided,
            "errors": len(self.errors),
        }


def _where(path: str, line: int, cell: int | None) -> str:
    return f"{path}:cell {cell}:{line}" if cell is not None else f"{path}:{line}"


def as_dict(chosen: Migration, why: str, written: bool, alternative: Migration | None) -> dict:
    routes = {chosen.route: chosen.left_for_a_person}
    if alternative is not None:
        routes[alternative.route] = alternative.left_for_a_person
    return {
        "to": chosen.to,
        "route": chosen.route,
        "why": why,
        "from": [{"root": root, "declared": declared} for root, declared in chosen.sources],
        "written": written,
        "left_for_a_person_by_route": routes,
        "totals": chosen.totals(),
        "files": [
            {
                "path": f.path,
                "changed": f.new_bytes is not None,
                "changes": [{"line": c.line, "cell": c.cell, "rule": c.code, "before": c.before, "after": c.after,
                             "adds": list(c.added)} for c in f.changes] if f.new_bytes is not None else [],
                "needs_a_person": [{"line": i.line, "cell": i.cell, "rule": i.code, "message": i.message,
                                    "url": _url(i.code)} for i in f.items],
                "could_not_decide": [{"line": i.line, "cell": i.cell, "rule": i.code, "message": i.message}
                                     for i in f.undecided],
            }
            for f in chosen.files if f.changes or f.items or f.undecided
        ],
        "dependencies": [
            {"file": c.file, "line": c.line, "before": c.before, "after": c.after, "why": c.why, "root": d.root}
            for d in chosen.dependencies for c in d.changes
        ],
        "dependency_items": [{"where": where, "message": message} for d in chosen.dependencies
                             for where, message in d.items],
        "dependency_problems": [p for d in chosen.dependencies for p in d.problems],
        "errors": list(chosen.errors),
    }


def _url(code: str) -> str | None:
    return DOCS_URL.format(code=code) if code.startswith("TFN") else None


def write_json(chosen: Migration, why: str, written: bool, alternative: Migration | None, out) -> None:
    json.dump(as_dict(chosen, why, written, alternative), out, indent=2)
    out.write("\n")


def _code(text: str) -> str:
    text = text.strip()
    if not text:
        return "—"
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text.replace('|', '&#124;')}{pad}{fence}"


def write_markdown(chosen: Migration, why: str, written: bool, alternative: Migration | None, out) -> None:
    data = as_dict(chosen, why, written, alternative)
    totals = data["totals"]
    w = out.write
    w(f"# Migration to TensorFlow {chosen.to}\n\n")
    w(f"**Route:** {ROUTE_TEXT[chosen.route].format(to=chosen.to)}.  \n")
    w(f"**Why this route:** {why}  \n")
    for source in data["from"]:
        w(f"**From:** `{source['root']}` declared {source['declared']}.  \n")
    w("**Status:** " + ("the changes below were written." if written else
                        "dry run: nothing was written (`tflint-notes migrate --write` applies it).") + "\n\n")
    w("Lines are those of the migrated files (cells and lines for notebooks).\n\n")
    w("## Totals\n\n| | |\n|---|---|\n")
    labels = {"files_scanned": "files scanned", "files_changed": "files changed", "code_changes": "code changes",
              "dependency_files_changed": "dependency files changed", "dependency_changes": "dependency changes",
              "needs_a_person": "items that need a person", "could_not_decide": "items the tool could not decide",
              "errors": "files that could not be handled"}
    for key, label in labels.items():
        w(f"| {label} | {totals[key]} |\n")
    if alternative is not None:
        w("\nLeft for a person by route: " + ", ".join(
            f"{route} {count}" for route, count in data["left_for_a_person_by_route"].items()) + ".\n")
    if data["dependencies"] or data["dependency_items"] or data["dependency_problems"]:
        w("\n## Dependencies\n\n")
        if data["dependencies"]:
            w("| file | line | before | after | why |\n|---|---|---|---|---|\n")
            for c in data["dependencies"]:
                w(f"| {c['file']} | {c['line']} | {_code(c['before'])} | {_code(c['after'])} | {c['why']} |\n")
            w("\n")
        for item in data["dependency_items"]:
            w(f"- **needs a person** `{item['where']}`: {item['message']}\n")
        for problem in data["dependency_problems"]:
            w(f"- **could not decide** {problem}\n")
    _per_file(w, "Changes", data["files"], "changes", "| line | rule | before | after |\n|---|---|---|---|\n", _change_row)
    _per_file(w, "Needs a person", data["files"], "needs_a_person", "", _person_row)
    _per_file(w, "Could not decide", data["files"], "could_not_decide", "", _undecided_row)
    if data["errors"]:
        w("\n## Not handled\n\n")
        for error in data["errors"]:
            w(f"- {error}\n")


def _per_file(w, title: str, files: list, key: str, header: str, row) -> None:
    """One section with a sub-heading per file that has entries under `key`."""
    chosen = [f for f in files if f[key]]
    if not chosen:
        return
    w(f"\n## {title}\n")
    for f in chosen:
        w(f"\n### {f['path']}\n\n{header}")
        for entry in f[key]:
            w(row(f["path"], entry))


def _change_row(path: str, c: dict) -> str:
    where = f"cell {c['cell']}:{c['line']}" if c["cell"] is not None else str(c["line"])
    after = _code(c["after"]) + "".join(f" (adds {_code(a)})" for a in c["adds"])
    return f"| {where} | {c['rule']} | {_code(c['before'])} | {after} |\n"


def _person_row(path: str, item: dict) -> str:
    rule = f"[{item['rule']}]({item['url']})" if item["url"] else item["rule"]
    return f"- `{_where(path, item['line'], item['cell'])}` {rule}: {item['message']}\n"


def _undecided_row(path: str, item: dict) -> str:
    return f"- `{_where(path, item['line'], item['cell'])}` {item['rule']}: {item['message']}\n"
