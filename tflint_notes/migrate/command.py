"""`tflint-notes migrate`: take a TF1 / Keras 2 project to a TensorFlow 2.x release with Keras 3 inside.

Each route runs over every file in the CLI's file pass (worker processes, the project index), computing the
migrated bytes without writing; `auto` computes both and keeps the one that leaves a person less to do.  Only
then, with `--write`, are the files and dependency files replaced, each atomically; the report says what was
done and what is left.
"""

from __future__ import annotations

import collections
import dataclasses
import difflib
import os
import re
import sys

from tflint_notes.cli import (
    EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, Job, _cache_dir, _display, _jobs, _outcomes, _Progress, _settings, discover)
from tflint_notes.config import ConfigError, validate_selectors
from tflint_notes.migrate.code import FileMigration, RouteOptions, imports_tensorflow, migrate_document
from tflint_notes.migrate.dependencies import Policy, plan
from tflint_notes.migrate.report import Migration, write_json, write_markdown
from tflint_notes.output import FileResult
from tflint_notes.project import store_for
from tflint_notes.project.target import KERAS3_FROM, newest_tensorflow, show
from tflint_notes.source import SourceError, write_atomically_bytes

DEFAULT_REPORT = "tflint-migration-report.md"
ROUTES = ("keras3", "tf_keras")
_NOTEBOOK_IMPORTS_TF = re.compile(r"""["\s](?:import|from)\s+(?:tensorflow|keras|tf_keras)\b""")


def add_parser(sub) -> None:
    p = sub.add_parser("migrate", help="take TF1 / Keras 2 code to TensorFlow 2.21 (Keras 3 or tf-keras), with a report")
    p.add_argument("paths", nargs="*", metavar="PATH", help="files or directories (default: .)")
    p.add_argument("--to", metavar="VERSION",
                   help=f"the TensorFlow release to migrate to (default: {show(newest_tensorflow())}, the newest the "
                        f"tables describe)")
    p.add_argument("--route", choices=(*ROUTES, "auto"), default="auto",
                   help="keras3: rewrite the code for Keras 3; tf_keras: keep Keras 2 through tf-keras; auto "
                        "(default): the route that leaves fewer items for a person")
    p.add_argument("--write", action="store_true", help="apply the changes (default: a dry run that writes nothing "
                                                        "but the report)")
    p.add_argument("--diff", action="store_true", help="print the changes as a unified diff")
    p.add_argument("--report", metavar="FILE",
                   help=f"where to write the report (default: {DEFAULT_REPORT}; `-` for standard output)")
    p.add_argument("--output-format", choices=("markdown", "json"), default="markdown", help="the report's format")
    p.add_argument("--config", metavar="FILE", help="read settings from this pyproject.toml/TOML file")
    p.add_argument("--isolated", action="store_true", help="ignore all configuration files")
    p.add_argument("-j", "--jobs", type=int, metavar="N", help="worker processes")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the result cache")
    p.add_argument("--cache-dir", metavar="DIR", help="where to keep the result cache")
    p.add_argument("-q", "--quiet", action="store_true", help="no summary")
    p.set_defaults(select=None, extend_select=None, ignore=None, stdin_filename=None, keras=None,
                   target_tensorflow=None, unsafe_fixes=None)


def target_release(value: str | None) -> tuple[int, int]:
    newest = newest_tensorflow()
    if value is None:
        return newest
    match = re.fullmatch(r"\s*(\d+)\.(\d+)(?:\.\d+)?\s*", value)
    release = (int(match.group(1)), int(match.group(2))) if match else None
    if release is None or not KERAS3_FROM <= release <= newest:
        raise ConfigError(f"--to: expected a TensorFlow release from {show(KERAS3_FROM)} to {show(newest)} (the "
                          f"newest the tables describe), got {value!r}")
    return release


def run(args) -> int:
    to = target_release(args.to)
    settings = _settings(args)
    errors: list[FileResult] = []
    paths = args.paths or ["."]
    if "-" in paths:
        raise ConfigError("migrate works on files and folders, not standard input")
    files = discover(paths, settings, errors)
    for error in errors:
        print(f"{error.path}: error: {error.error}", file=sys.stderr)
    if not files:
        print(f"tflint-notes: error: no Python files or notebooks under {', '.join(paths)}", file=sys.stderr)
        return EXIT_ERROR
    cache_dir = _cache_dir(args, settings)
    jobs = _jobs(args, len(files))
    routes = ROUTES if args.route == "auto" else (args.route,)
    results = {route: _migrate(route, show(to), to, files, settings, cache_dir, jobs) for route in routes}
    chosen, why = _choose(results, args.route)
    alternative = next((m for r, m in results.items() if r != chosen.route), None)
    chosen.errors[:0] = [f"{e.path}: {e.error}" for e in errors]
    if args.write:
        _write(chosen, files)
    if args.diff:
        _print_diff(chosen, files)
    code = _report(args, chosen, why, alternative)
    for error in chosen.errors[len(errors):]:
        print(f"tflint-notes: error: {error}", file=sys.stderr)
    if not args.quiet:
        _summary(chosen, args.write, sys.stderr if args.report == "-" or args.diff else sys.stdout)
    if code is not None:
        return code
    if chosen.errors:
        return EXIT_ERROR
    pending = not args.write and chosen.totals()["files_changed"] + chosen.totals()["dependency_files_changed"]
    return EXIT_FINDINGS if pending or chosen.left_for_a_person else EXIT_CLEAN


def _migrate(route: str, to_text: str, to: tuple[int, int], files: list[str], settings, cache_dir, jobs) -> Migration:
    other = tuple(c for c in settings.enabled_codes() if not c.startswith("TFN6")) if route == "keras3" else ()
    routed = dataclasses.replace(settings, select=validate_selectors(["TFN6"], "migrate"), extend_select=[],
                                 keras=route, target_tensorflow=to_text, unsafe_fixes=True)
    options = RouteOptions(route, to_text, other, legacy_switch_paths(files) if route == "tf_keras" else frozenset(),
                           cache_dir)
    job = Job("migrate", False, None, routed, cache_dir, handler=migrate_document, options=options)
    migration = Migration(route, to_text, scanned=len(files))
    progress = _Progress(len(files))
    for outcome in _outcomes(files, job, jobs, progress):
        for error in outcome.errors:
            migration.errors.append(f"{error.path}: {error.error}")
        if outcome.result.error:
            migration.errors.append(f"{outcome.result.path}{outcome.result.error_at}: {outcome.result.error}")
        migration.files.append(outcome.payload if isinstance(outcome.payload, FileMigration)
                               else FileMigration(outcome.result.path))
    progress.done()
    keep_tf_keras = route == "keras3" and any(_imports_tf_keras(path, m) for path, m in zip(files, migration.files))
    policy = Policy(route, to, keep_tf_keras)
    projects = {p.root: p for p in (store_for(cache_dir).for_path(path) for path in files) if p.root}
    for root in sorted(projects):
        migration.dependencies.append(plan(root, policy))
        shown = _display(os.path.relpath(root)) if not os.path.relpath(root).startswith("..") else root
        migration.sources.append((shown, projects[root].target.describe()))
    for dependencies in migration.dependencies:
        migration.errors.extend(p for p in dependencies.problems if "not edited" in p and "edit by hand" not in p)
    return migration


def _imports_tf_keras(path: str, migration: FileMigration) -> bool:
    raw = migration.new_bytes
    if raw is None:
        try:
            with open(path, "rb") as handle:
                raw = handle.read()
        except OSError:
            return False
    return re.search(rb"(?:^|[\s\"])(?:import|from)\s+tf_keras\b", raw, re.MULTILINE) is not None


def legacy_switch_paths(files: list[str]) -> frozenset:
    """Where TF_USE_LEGACY_KERAS=1 takes effect: the `__init__.py` of each top-level package with a module
    that imports TensorFlow/Keras (it runs before any of its modules, `python -m pkg.tool` included), and each
    module outside a package, or notebook, that imports them (it may run first)."""
    listed = {os.path.normcase(os.path.abspath(f)) for f in files}
    out = set()
    for path in files:
        try:
            with open(path, "rb") as handle:
                text = handle.read().decode("utf-8", "replace")
        except OSError:
            continue
        notebook = path.endswith(".ipynb")
        if not (_NOTEBOOK_IMPORTS_TF.search(text) if notebook else imports_tensorflow(text)):
            continue
        me = os.path.normcase(os.path.abspath(path))
        top = _top_package_init(path)
        if top is not None and top in listed:
            out.add(top)
        if notebook or top is None or top not in listed:
            out.add(me)
    return frozenset(out)


def _top_package_init(path: str) -> str | None:
    folder = os.path.dirname(os.path.abspath(path))
    found = None
    while os.path.isfile(os.path.join(folder, "__init__.py")):
        found = os.path.join(folder, "__init__.py")
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    return os.path.normcase(found) if found else None


def _choose(results: dict, asked: str) -> tuple[Migration, str]:
    if asked != "auto":
        return results[asked], f"asked for with `--route {asked}`."
    keras3, legacy = results["keras3"], results["tf_keras"]
    if legacy.left_for_a_person < keras3.left_for_a_person:
        return legacy, (f"`--route auto`: tf_keras leaves {legacy.left_for_a_person} item(s) for a person, keras3 "
                        f"{keras3.left_for_a_person}.")
    return keras3, (f"`--route auto`: keras3 leaves {keras3.left_for_a_person} item(s) for a person, tf_keras "
                    f"{legacy.left_for_a_person}" + (" (a tie goes to keras3: Keras 2 is not developed further)."
                                                     if legacy.left_for_a_person == keras3.left_for_a_person else "."))


def _write(migration: Migration, files: list[str]) -> None:
    for path, file in zip(files, migration.files):
        if file.new_bytes is None:
            continue
        try:
            write_atomically_bytes(path, file.old_bytes, file.new_bytes)
        except SourceError as exc:
            migration.errors.append(f"{file.path}: {exc}")
            file.new_bytes = None
    for dependencies in migration.dependencies:
        for path, (old, new) in list(dependencies.new_bytes.items()):
            try:
                write_atomically_bytes(path, old, new)
            except SourceError as exc:
                migration.errors.append(f"{_display(os.path.relpath(path))}: {exc}")
                del dependencies.new_bytes[path]
                shown = os.path.relpath(path, dependencies.root).replace(os.sep, "/")
                dependencies.changes = [c for c in dependencies.changes if c.file != shown]


def _print_diff(migration: Migration, files: list[str]) -> None:
    out = sys.stdout
    pairs = [(f.path, f.old_bytes, f.new_bytes) for f in migration.files if f.new_bytes is not None]
    for dependencies in migration.dependencies:
        pairs += [(_display(os.path.relpath(p)), old, new) for p, (old, new) in dependencies.new_bytes.items()]
    for shown, old, new in pairs:
        old_text = old.decode("utf-8", "replace")
        new_text = new.decode("utf-8", "replace")
        out.writelines(difflib.unified_diff(old_text.splitlines(keepends=True), new_text.splitlines(keepends=True),
                                            fromfile=f"a/{shown}", tofile=f"b/{shown}"))
        if not new_text.endswith("\n"):
            out.write("\n")


def _report(args, chosen: Migration, why: str, alternative) -> int | None:
    writer = write_json if args.output_format == "json" else write_markdown
    target = args.report or DEFAULT_REPORT
    if target == "-":
        writer(chosen, why, args.write, alternative, sys.stdout)
        return None
    import io

    buffer = io.StringIO()
    writer(chosen, why, args.write, alternative, buffer)
    data = buffer.getvalue().encode("utf-8")
    try:
        if os.path.exists(target) and not os.path.isfile(target):  # /dev/null, a named pipe
            with open(target, "wb") as handle:
                handle.write(data)
            return None
        old = None
        if os.path.exists(target):
            with open(target, "rb") as handle:
                old = handle.read()
        if old is None:
            with open(target, "xb") as handle:
                handle.write(data)
        elif old != data:
            write_atomically_bytes(target, old, data)
    except (OSError, SourceError) as exc:
        print(f"tflint-notes: error: cannot write the report {target}: {exc}", file=sys.stderr)
        return EXIT_ERROR
    return None


def _summary(migration: Migration, written: bool, out) -> None:
    verb = "Changed" if written else "Would change"
    for file in migration.files:
        if file.new_bytes is not None:
            counts = collections.Counter(c.code for c in file.changes)
            shown = ", ".join(f"{n} × {code}" for code, n in sorted(counts.items()))
            out.write(f"{verb} {file.path}: {shown}\n")
    for dependencies in migration.dependencies:
        for path in dependencies.new_bytes:
            out.write(f"{verb} {_display(os.path.relpath(path))}: "
                      f"{sum(1 for c in dependencies.changes if os.path.join(dependencies.root, c.file) == path)} "
                      f"requirement(s)\n")
    totals = migration.totals()
    out.write(f"Route {migration.route} to TensorFlow {migration.to}: {totals['files_changed']} file(s) and "
              f"{totals['dependency_files_changed']} dependency file(s) {'changed' if written else 'to change'}; "
              f"{totals['needs_a_person']} item(s) need a person, {totals['could_not_decide']} could not be decided"
              + (f", {totals['errors']} error(s)" if totals["errors"] else "") + ".\n")
