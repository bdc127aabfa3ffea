"""The `tflint-notes` command: check, fix, rule."""

from __future__ import annotations

import argparse
import collections
import difflib
import marshal
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tflint_notes import __version__
from tflint_notes.cache import DEFAULT_DIR_NAME
from tflint_notes.collection import collection_paused
from tflint_notes.config import ConfigError, Settings, find_pyproject, load, validate_selectors
from tflint_notes.docs import rule_doc
from tflint_notes.documents import load_document
from tflint_notes.engine import PREFILTER, InternalError, Linter, ParseError, fix_text
from tflint_notes.output import FORMATS, WRITERS, FileResult, use_colour
from tflint_notes.project import Project, store_for
from tflint_notes.project.index import facts_unless_cached, module_identity
from tflint_notes.project.view import NO_VIEW
from tflint_notes.project.target import valid_tensorflow_setting
from tflint_notes.results import Diagnostic
from tflint_notes.rule import all_rules
from tflint_notes.source import SourceError, read_bytes, write_atomically_bytes

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
SOURCE_SUFFIXES = (".py", ".ipynb")


@dataclass
class Totals:
    findings: int = 0
    fixable: int = 0
    unsafe_fixable: int = 0
    errors: int = 0
    fixed: int = 0
    files_changed: int = 0
    withheld_unsafe: int = 0


def _split(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for value in values or []:
        out.extend(v for v in value.replace(" ", ",").split(",") if v)
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tflint-notes",
        description="Find and fix TensorFlow 2 / Keras pitfalls.",
        epilog="Exit status: 0 clean, 1 findings remain, 2 usage, I/O, configuration or syntax errors.",
    )
    parser.add_argument("--version", action="version", version=f"tflint-notes {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("paths", nargs="*", metavar="PATH",
                       help="files or directories (default: .); `-` reads standard input")
        p.add_argument("--select", action="append", metavar="CODES",
                       help="only these rules (comma-separated codes or prefixes: TFN1 = all TFN1xx)")
        p.add_argument("--extend-select", action="append", metavar="CODES", help="add rules to the selection")
        p.add_argument("--ignore", action="append", metavar="CODES", help="skip these rules (codes or prefixes)")
        p.add_argument("--config", metavar="FILE", help="read settings from this pyproject.toml/TOML file")
        p.add_argument("--isolated", action="store_true", help="ignore all configuration files")
        p.add_argument("--exit-zero", action="store_true", help="exit 0 even if findings remain")
        p.add_argument("--output-format", choices=FORMATS, default="concise", help="how to print findings")
        p.add_argument("--statistics", action="store_true", help="print the number of findings per rule")
        p.add_argument("--stdin-filename", metavar="NAME", help="the name to report for `-` (standard input)")
        p.add_argument("-q", "--quiet", action="store_true", help="print findings only, no summary")
        p.add_argument("-j", "--jobs", type=int, metavar="N",
                       help="worker processes (default: the CPU count for large runs, 1 for small ones)")
        p.add_argument("--no-cache", action="store_true", help="neither read nor write the result cache")
        p.add_argument("--cache-dir", metavar="DIR", help=f"where to keep the result cache (default: "
                                                          f"{DEFAULT_DIR_NAME}/ next to the configuration)")
        p.add_argument("--keras", choices=("keras3", "tf_keras"),
                       help="what `tf.keras` is in the checked code: Keras 3 or legacy tf_keras (TF_USE_LEGACY_KERAS=1); "
                            "overrides the configuration's `keras` and what each project declares")
        p.add_argument("--target-tensorflow", metavar="VERSION",
                       help="check against this TensorFlow (\"2.15\", or a specifier set \">=2.13,<2.16\"); overrides "
                            "the configuration's `target-tensorflow` and what each project declares")
        p.add_argument("--show-target", action="store_true",
                       help="print, per project, the TensorFlow/Keras the files are checked against and where that "
                            "came from, then exit")
        p.add_argument("-v", "--verbose", action="store_true",
                       help="also warn on stderr about project files that could not be read")

    check = sub.add_parser("check", help="report problems (writes nothing)")
    common(check)
    fix = sub.add_parser("fix", help="apply safe fixes, then report what remains")
    common(fix)
    fix.add_argument("--unsafe-fixes", action="store_true", default=None,
                     help="also apply fixes that may change behaviour")
    fix.add_argument("--diff", action="store_true", help="print a unified diff instead of writing files")
    fix.add_argument("--show-fixes", action="store_true", help="list the fixes that were applied")
    from tflint_notes.migrate.command import add_parser as add_migrate

    add_migrate(sub)
    sub.add_parser("server", help="run the Language Server on stdio (needs the `lsp` extra: pygls)")
    rule = sub.add_parser("rule", help="show a rule's documentation")
    rule.add_argument("code", nargs="?", help="e.g. TFN101")
    rule.add_argument("--all", action="store_true", help="list every rule")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_ERROR
    try:
        if args.command == "rule":
            return _rule_command(args)
        if args.command == "migrate":
            from tflint_notes.migrate.command import run as migrate

            return migrate(args)
        if args.command == "server":
            try:
                from tflint_notes.server import main as serve
            except ImportError as exc:
                print(f"tflint-notes: error: the server needs pygls: pip install 'tflint-notes[lsp]' ({exc})",
                      file=sys.stderr)
                return EXIT_ERROR
            return serve()
        settings = _settings(args)
        return _run(args, settings)
    except ConfigError as exc:
        print(f"tflint-notes: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_ERROR


def _rule_command(args) -> int:
    rules = all_rules()
    if args.all or not args.code:
        width = max(len(r.name) for r in rules.values())
        print(f"{'code':<7} {'name':<{width}}  {'fix':<12} {'default':<8} summary")
        for code, rule in rules.items():
            state = "on" if rule.default_enabled else "off"
            print(f"{code:<7} {rule.name:<{width}}  {rule.fix_kind:<12} {state:<8} {rule.summary}")
        return EXIT_CLEAN
    code = args.code.upper()
    if code not in rules:
        print(f"tflint-notes: error: unknown rule {args.code!r}; see `tflint-notes rule --all`", file=sys.stderr)
        return EXIT_ERROR
    print(rule_doc(rules[code]), end="")
    return EXIT_CLEAN


def _settings(args) -> Settings:
    if args.isolated:
        settings = Settings()
    elif args.config:
        settings = load(Path(args.config))
    else:
        given = [p for p in args.paths if p != "-"]
        if args.stdin_filename and not given:
            given = [args.stdin_filename]
        first = Path(given[0]) if given else Path.cwd()
        start = first if first.is_dir() else (first.parent if str(first.parent) else Path.cwd())
        settings = load(find_pyproject(start))
    if args.select:
        settings.select = validate_selectors(_split(args.select), "--select")
    if args.extend_select:
        settings.extend_select += validate_selectors(_split(args.extend_select), "--extend-select")
    if args.ignore:
        settings.ignore += validate_selectors(_split(args.ignore), "--ignore")
    if getattr(args, "unsafe_fixes", None) is not None:
        settings.unsafe_fixes = args.unsafe_fixes
    if getattr(args, "keras", None):
        settings.keras = args.keras
    if getattr(args, "target_tensorflow", None):
        if not valid_tensorflow_setting(args.target_tensorflow):
            raise ConfigError(f"--target-tensorflow: expected a TensorFlow version such as 2.15 or a specifier set "
                              f"such as '>=2.13,<2.16', got {args.target_tensorflow!r}")
        settings.target_tensorflow = args.target_tensorflow
    return settings


def discover(paths: list[str], settings: Settings, errors: list[FileResult]) -> list[str]:
    """Source files under `paths`; explicitly named files are always linted."""
    found: list[str] = []
    for path in paths:
        if path == "-":
            found.append(path)
        elif os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not settings.is_excluded(os.path.join(root, d), path))
                for name in sorted(files):
                    if name.endswith(SOURCE_SUFFIXES):
                        full = os.path.join(root, name)
                        if not settings.is_excluded(full, path):
                            found.append(full)
        elif os.path.exists(path) or os.path.islink(path):
            found.append(path)
        else:
            errors.append(FileResult(_display(path), error="no such file or directory"))
    unique, seen = [], set()
    for f in found:
        key = os.path.normpath(f)
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique


def _display(path: str) -> str:
    return path[2:] if path.startswith("./") else path


class _FilteredLinter:
    """A linter view without the codes that per-file-ignores switch off for one file."""

    def __init__(self, linter: Linter, ignored: tuple, fixable):
        self._linter = linter
        self._ignored = ignored
        self._fixable = fixable

    def target_for(self, project):
        return self._linter.target_for(project)

    def parsed_facts(self, text: str, identity):
        return self._linter.parsed_facts(text, identity)

    def lint(self, text: str, **kwargs):
        result = self._linter.lint(text, **kwargs)
        kept = []
        for diag in result.diagnostics:
            if self._ignored and diag.code.startswith(self._ignored):
                continue
            if diag.fix is not None and not self._fixable(diag.code):
                diag = Diagnostic(diag.code, diag.message, diag.line, diag.column, diag.end_line, diag.end_column)
            kept.append(diag)
        result.diagnostics = kept
        return result


def _read(path: str, stdin_name: str | None):
    if path == "-":
        raw = sys.stdin.buffer.read()
        return load_document(stdin_name or "-", raw)
    return load_document(path, read_bytes(path))


@dataclass(frozen=True)
class Job:
    """Everything a worker process needs to handle one file (picklable)."""

    command: str
    diff: bool
    stdin_filename: str | None
    settings: Settings
    cache_dir: str | None
    # another command's per-document step (`migrate`), called like `_fix_document`: a module-level function,
    # so that it pickles for the worker processes; `options` is what it needs beyond the settings
    handler: object = None
    options: object = None


@dataclass
class Outcome:
    """What handling one file produced; the parent process prints it, in file order."""

    result: FileResult
    errors: list[FileResult]
    stdout: bytes = b""
    stderr: str = ""
    fixed: int = 0
    changed: bool = False
    # (module name, its facts for the project index marshalled, written to its cache already) for a module
    # of a project (see project/index.py)
    facts: tuple | None = None
    withheld_unsafe: int = 0
    payload: object = None  # what a `Job.handler` hands back
    parsed_for: tuple = ()  # the rules libcst parsed the file for (`--statistics`)


_WORKER_LINTER: dict = {}


def _linter_for(job: Job) -> Linter:
    settings = job.settings
    key = (tuple(settings.enabled_codes()), job.cache_dir, settings.keras, settings.target_tensorflow)
    linter = _WORKER_LINTER.get(key)
    if linter is None:
        # TFLINT_NOTES_UNSCREENED=1: parse every file with libcst (bench/run.py --verify-screen compares)
        linter = _WORKER_LINTER[key] = Linter(key[0], cache_dir=job.cache_dir, keras=settings.keras,
                                              screen=not os.environ.get("TFLINT_NOTES_UNSCREENED"),
                                              target_tensorflow=settings.target_tensorflow,
                                              settings_source=settings.source or "the command line",
                                              keep_parse=True)
    return linter


def project_of(path: str, job: Job) -> Project:
    """The project a file belongs to (for `-`, the project of --stdin-filename, else of the working directory)."""
    name = (job.stdin_filename or "-") if path == "-" else path
    return store_for(job.cache_dir).for_path(name)


def process_file(path: str, job: Job, view=None) -> Outcome:
    """Lint or fix one file.  `view`: what the project index says to this module; None on the first pass,
    which also hands back the module's facts for the index (see `_outcomes`)."""
    with collection_paused():
        try:
            return _process_file(path, job, view)
        finally:
            _linter_for(job).forget_parse()  # the file's trees die before the collector looks again


def _process_file(path: str, job: Job, view) -> Outcome:
    settings = job.settings
    shown = _display(job.stdin_filename if path == "-" and job.stdin_filename else path)
    try:
        document = _read(path, job.stdin_filename)
    except SourceError as exc:
        return Outcome(FileResult(shown, error=str(exc)), [])
    ignore_path = (job.stdin_filename or path) if path == "-" else path
    linter = _FilteredLinter(_linter_for(job), settings.ignored_for(ignore_path), settings.is_fixable)
    result = FileResult(shown, document)
    project = project_of(path, job)
    result.target = linter.target_for(project)[1]
    outcome = Outcome(result, [])
    first_pass = view is None
    if view is None:
        view = NO_VIEW if path != "-" else store_for(job.cache_dir).view_for(job.stdin_filename, project)
    try:
        keep_facts = None
        if first_pass and path != "-" and project.root is not None and path.endswith(".py"):
            identity = module_identity(project.root, _installed_top(project), path)

            def keep_facts():
                if identity is None:
                    return
                facts, cached = linter.parsed_facts(document.text, identity), False
                if facts is None and not any(word in document.text for word in PREFILTER):
                    # not parsed for linting, as it never mentions TensorFlow: derived here, in parallel, not by
                    # the index later (a result from the cache: the index's cache has the facts too)
                    facts = facts_unless_cached(job.cache_dir, path, identity)
                    cached = job.cache_dir is not None  # written there already
                if facts is not None:
                    # marshal, not pickle: it keeps the strings interned (the AST's names are), so the
                    # index in the main process shares them instead of holding a copy per module
                    outcome.facts = (identity[0], marshal.dumps(facts), cached)
        if job.handler is not None:
            internal = job.handler(job, linter, path, document, outcome, project, view, keep_facts)
        elif job.command == "fix":
            internal = _fix_document(job, linter, path, document, outcome, project, view, keep_facts)
        else:
            linted = linter.lint(document.text, project=project, view=view)
            result.diagnostics, internal = linted.diagnostics, linted.internal_errors
            outcome.parsed_for = linted.parsed_for
            if keep_facts is not None:
                keep_facts()
        for error in internal:
            outcome.errors.append(FileResult(shown, error=error.describe()))
        if document.kind == "notebook":
            result.diagnostics = document.localise(result.diagnostics)
    except ParseError as exc:
        if exc.line:
            loc = document.location(exc.line, exc.column)
            cell = f":cell {loc.cell}" if loc.cell is not None else ""
            result.error_at = f"{cell}:{loc.line}:{loc.column + 1}"
        result.error = f"{exc} (file not checked)"
    except SourceError as exc:
        result.error = str(exc)
    except InternalError as exc:
        result.error = exc.describe()
    if not result.diagnostics and not result.applied:
        result.document = None  # nothing to show: do not ship the text back from a worker
    return outcome


def _worker(batch: list, job: Job) -> list[Outcome]:
    return [process_file(path, job, view) for path, view in batch]


def _jobs(args, count: int) -> int:
    if args.jobs is not None:
        return max(1, args.jobs)
    if count < 64:
        return 1  # starting processes costs more than it saves
    return max(1, min(os.cpu_count() or 1, count // 32))


def _outcomes(files: list[str], job: Job, jobs: int, progress) -> list[Outcome]:
    """Every file's outcome, in file order, in two passes.  The first lints each file alone and collects the
    facts the project index needs from the parse it made anyway; then the index tells each module what the
    other modules of its project say about it (a Keras base class elsewhere, graph code elsewhere calling
    its helpers).  Only the files for which that changes something are linted again, with that view: the
    results are the same whatever the order of the files and the number of jobs."""
    store = store_for(job.cache_dir)
    indexes = {}
    packed = _packed_views(files, job, store, indexes) if job.command == "check" else None
    if packed is not None:  # no module changed since the last check: one pass, each file with its view
        return _run_pass([(path, packed.get(path, NO_VIEW)) for path in files], job, jobs, progress)
    first = _run_pass([(path, None) for path in files], job, jobs, progress)
    again = []
    computed: dict = {}  # project root -> {module: view}, packed for the next run
    for index_in_run, (path, outcome) in enumerate(zip(files, first)):
        project = project_of(path, job)
        if project.root is None:
            continue
        index = _index_of(project, store, indexes)
        if outcome.facts is not None:
            name, facts, cached = outcome.facts
            index.supply(path, name, marshal.loads(facts), cached)
            outcome.facts = None  # the index holds them now
    for index_in_run, path in enumerate(files):
        if path == "-" or first[index_in_run].result.error:
            continue
        project = project_of(path, job)
        index = indexes.get(project.root) or (store.index_for(project) if project.root else None)
        if index is None:
            continue
        indexes[project.root] = index
        view = index.view(path)
        module = index.module_name(path)
        if module is not None:
            computed.setdefault(project.root, {})[module] = view
        if not view.trivial:
            again.append((index_in_run, path, view))
    if job.command == "check":  # `fix` may have changed the modules the views were computed from
        for root, views in computed.items():
            indexes[root].save_views(views)
    if again:
        redone = _run_pass([(path, view) for _, path, view in again], job, jobs, None)
        for (position, _, _), outcome in zip(again, redone):
            first[position] = _merge_passes(first[position], outcome, job)
    return first


def _index_of(project, store, indexes: dict):
    """The project's index, once per run; a new one loads the views the last `check` packed (they stand while
    no module of the project changed)."""
    index = indexes.get(project.root)
    if index is None:
        index = indexes[project.root] = store.index_for(project)
        index.load_views()
    return index


def _packed_views(files: list[str], job: Job, store, indexes: dict) -> dict | None:
    """{path: view} when the views packed by the last `check` stand for every project of these files (no
    module of theirs changed since); None otherwise (then the two passes of `_outcomes` run)."""
    views = {}
    for path in files:
        if path == "-":
            return None
        project = project_of(path, job)
        if project.root is None:
            continue
        view = _index_of(project, store, indexes).packed_view(path)
        if view is None:
            return None
        views[path] = view
    return views


def _merge_passes(first: Outcome, second: Outcome, job: Job) -> Outcome:
    """The second pass decides, except that fixes the first pass already wrote to disk stay counted."""
    second.parsed_for = tuple(sorted({*first.parsed_for, *second.parsed_for}))  # parsed in either pass
    if job.command != "fix" or job.diff or not first.changed:
        return second
    second.result.applied = list(first.result.applied or ()) + list(second.result.applied or ())
    second.fixed += first.fixed
    second.changed = True
    second.stderr = first.stderr + second.stderr
    return second


def _run_pass(tasks: list, job: Job, jobs: int, progress) -> list[Outcome]:
    if jobs <= 1 or len(tasks) < 2:
        out = []
        for path, view in tasks:
            if progress is not None:
                progress.step(path)
            out.append(process_file(path, job, view))
        return out
    import concurrent.futures

    size = max(4, min(64, len(tasks) // (jobs * 8) or 4))
    batches = [tasks[i:i + size] for i in range(0, len(tasks), size)]
    out = []
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs) as pool:
        for batch, outcomes in zip(batches, pool.map(_worker, batches, [job] * len(batches))):
            for (path, _), outcome in zip(batch, outcomes):
                if progress is not None:
                    progress.step(path)
                out.append(outcome)
    return out


def _installed_top(project: Project) -> str | None:
    """The package name of a project that is an installed distribution (its modules are named from the
    site-packages folder), else None."""
    from tflint_notes.project.layout import site_package_root

    site = site_package_root(project.root)
    return site[1] if site is not None else None


def _cache_dir(args, settings: Settings) -> str | None:
    if args.no_cache or os.environ.get("TFLINT_NOTES_NO_CACHE"):
        return None
    if args.cache_dir:
        return str(Path(args.cache_dir).resolve())
    if settings.cache_dir:
        return str((settings.root / settings.cache_dir).resolve())
    return str((settings.root / DEFAULT_DIR_NAME).resolve())


def _show_targets(files: list[str], job: Job, out) -> None:
    """`--show-target`: each project's target, where it came from, and what could not be read."""
    linter = _linter_for(job)
    projects: dict = {}
    for path in files:
        project = project_of(path, job)
        projects.setdefault(project.root, [project, 0])[1] += 1
    for root, (project, count) in sorted(projects.items(), key=lambda kv: kv[0] or ""):
        target = linter.target_for(project)[1]
        shown = _display(os.path.relpath(root)) if root and not os.path.relpath(root).startswith("..") else root
        out.write(f"{shown or '(no project files found)'}: {count} file(s)\n")
        out.write(f"  TensorFlow {target.tensorflow_text()}: {target.tensorflow_why}\n")
        tf_keras = "Keras 2 (legacy)" if target.tf_keras else "Keras 3"
        out.write(f"  tf.keras: {tf_keras} ({target.tf_keras_why or 'default'})\n")
        out.write(f"  keras: {'Keras 2' if target.keras2 else 'Keras 3'} ({target.keras_why or 'default'})\n")
        if project.first_party:
            out.write(f"  own top-level packages and modules (not checked against the TF/Keras API): {', '.join(sorted(project.first_party))}\n")
        if project.sources:
            out.write(f"  read: {', '.join(project.sources)}\n")
        for note in target.notes:
            out.write(f"  not read / fallback: {note}\n")


def _warn_unreadable(files: list[str], job: Job) -> None:
    seen = set()
    for path in files:
        project = project_of(path, job)
        if project.root in seen:
            continue
        seen.add(project.root)
        for note in project.target.notes:
            print(f"tflint-notes: warning: {project.root}: {note}", file=sys.stderr)


def _run(args, settings: Settings) -> int:
    totals = Totals()
    errors: list[FileResult] = []
    files = discover(args.paths or ["."], settings, errors)
    fixing = args.command == "fix"
    job = Job(args.command, bool(getattr(args, "diff", False)), args.stdin_filename, settings,
              _cache_dir(args, settings))
    if args.show_target:
        for error in errors:
            print(f"{error.path}: error: {error.error}", file=sys.stderr)
        _show_targets(files, job, sys.stdout)
        return EXIT_ERROR if errors else EXIT_CLEAN
    if args.verbose:
        _warn_unreadable(files, job)
    results: list[FileResult] = []
    screening = ScreenCounts()
    progress = _Progress(len(files))
    stdin_only = files == ["-"]
    for outcome in _outcomes(files, job, 1 if stdin_only else _jobs(args, len(files)), progress):
        if outcome.stdout:
            sys.stdout.buffer.write(outcome.stdout)
            sys.stdout.flush()
        if outcome.stderr:
            sys.stderr.write(outcome.stderr)
        errors.extend(outcome.errors)
        screening.add(outcome)
        totals.withheld_unsafe += outcome.withheld_unsafe
        if outcome.changed:
            totals.files_changed += 1
            totals.fixed += outcome.fixed
        if outcome.result.error:
            errors.append(outcome.result)
        else:
            results.append(outcome.result)
    progress.done()
    for result in results:
        for diag in result.diagnostics:
            totals.findings += 1
            if diag.fix is not None:
                if diag.fix.safe:
                    totals.fixable += 1
                else:
                    totals.unsafe_fixable += 1
    for error in errors:
        print(f"{error.path}{error.error_at}: error: {error.error}", file=sys.stderr)
    totals.errors = len(errors)
    out = sys.stdout
    results = [r for r in results if r.diagnostics or r.applied]
    if not (fixing and (args.diff or stdin_only)):
        WRITERS[args.output_format](results, out, use_colour(out) and args.output_format in ("concise", "full"))
    if fixing and args.show_fixes:
        _show_fixes(results, sys.stderr if args.diff or stdin_only else out)
    if args.statistics:
        _statistics(results, screening, sys.stderr if args.output_format in ("json", "sarif") else out)
    if args.output_format in ("concise", "full") and not args.quiet:
        _summary(args, totals, fixing, sys.stderr if fixing and (args.diff or stdin_only) else out)
    if totals.errors:
        return EXIT_ERROR
    if args.exit_zero:
        return EXIT_CLEAN
    if fixing and args.diff and totals.files_changed:
        return EXIT_FINDINGS
    return EXIT_FINDINGS if totals.findings else EXIT_CLEAN


def _fix_document(job: Job, linter, path, document, outcome: Outcome, project: Project, view, keep_facts=None):
    result = outcome.result
    fixed = fix_text(linter, document.text, unsafe=bool(job.settings.unsafe_fixes), check=getattr(document, "check", None),
                     project=project, view=view, after_first_lint=keep_facts)
    for diag, why in fixed.dropped:
        start = document.location(diag.line, diag.column)
        cell = f"cell {start.cell}:" if start.cell is not None else ""
        outcome.stderr += f"{result.path}:{cell}{start.line}:{start.column + 1}: {diag.code} fix not applied: {why}\n"
    raw = document.raw if hasattr(document, "raw") else document.source.raw
    new_bytes = document.render(fixed.text) if fixed.text != document.text else raw
    if new_bytes != raw:
        outcome.changed = True
        outcome.fixed = len(fixed.applied)
        result.applied = fixed.applied
        if path == "-":
            outcome.stdout = new_bytes
        elif job.diff:
            old_text = document.raw_text if hasattr(document, "raw_text") else document.text
            new_text = new_bytes.decode("utf-8") if hasattr(document, "raw_text") else fixed.text
            diff = "".join(difflib.unified_diff(
                old_text.splitlines(keepends=True), new_text.splitlines(keepends=True),
                fromfile=f"a/{result.path}", tofile=f"b/{result.path}"))
            if not new_text.endswith(("\n", "\r")):
                diff += "\n"
            outcome.stdout = diff.encode("utf-8")
        else:
            write_atomically_bytes(path, raw, new_bytes)
    elif path == "-":
        outcome.stdout = raw
    outcome.withheld_unsafe = fixed.withheld_unsafe
    if not job.diff or path == "-":
        result.diagnostics = fixed.remaining
    return fixed.internal_errors


def _show_fixes(results: list[FileResult], out) -> None:
    for result in results:
        if result.applied:
            counts = collections.Counter(d.code for d in result.applied)
            out.write(f"Fixed in {result.path}: " + ", ".join(f"{n} × {c}" for c, n in sorted(counts.items())) + "\n")


@dataclass
class ScreenCounts:
    """How many files libcst parsed, and for which rules (`--statistics`): the price of a run, since files
    that no rule's AST screen lets through are decided on CPython's AST alone (screen.py)."""

    files: int = 0
    parsed: int = 0
    with_findings: int = 0
    # rule -> files parsed for it where it found nothing (what a sharper screen would save)
    idle: collections.Counter = field(default_factory=collections.Counter)

    def add(self, outcome: Outcome) -> None:
        if outcome.result.error:
            return
        self.files += 1
        found = {d.code for d in outcome.result.diagnostics}
        self.with_findings += bool(found)
        if outcome.parsed_for:
            self.parsed += 1
            self.idle.update(code for code in outcome.parsed_for if code not in found)

    def write(self, out) -> None:
        share = lambda n: f"{n / self.files:.1%}" if self.files else "0%"  # noqa: E731
        out.write(f"{self.files} file(s) checked: {self.parsed} parsed with libcst ({share(self.parsed)}), "
                  f"{self.with_findings} with findings ({share(self.with_findings)})\n")
        if os.environ.get("TFLINT_NOTES_SCREEN_REPORT") and self.idle:
            # for rule authors: which screens let files through that their rule then finds nothing in
            out.write("parsed for a rule that found nothing there: " + ", ".join(
                f"{code} {n}" for code, n in self.idle.most_common()) + "\n")


def _statistics(results: list[FileResult], screening: ScreenCounts, out) -> None:
    counts = collections.Counter(d.code for r in results for d in r.diagnostics)
    fixable = collections.Counter(d.code for r in results for d in r.diagnostics if d.fix is not None and d.fix.safe)
    rules = all_rules()
    for code, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        mark = "[*]" if fixable[code] else "   "
        out.write(f"{count:>6}  {code}  {mark} {rules[code].name}\n")
    screening.write(out)


def _summary(args, totals: Totals, fixing: bool, out) -> None:
    parts = []
    if fixing:
        verb = "Would fix" if args.diff else "Fixed"
        parts.append(f"{verb} {totals.fixed} finding(s) in {totals.files_changed} file(s).")
        if totals.findings:
            parts.append(f"{totals.findings} finding(s) remain.")
        if totals.withheld_unsafe:
            parts.append(f"{totals.withheld_unsafe} unsafe fix(es) withheld (use --unsafe-fixes).")
    elif totals.findings:
        hints = []
        if totals.fixable:
            hints.append(f"{totals.fixable} fixable with `tflint-notes fix`")
        if totals.unsafe_fixable:
            hints.append(f"{totals.unsafe_fixable} more with `--unsafe-fixes`")
        extra = f" ({', '.join(hints)})" if hints else ""
        parts.append(f"Found {totals.findings} finding(s){extra}.")
    else:
        parts.append("All checks passed." if not totals.errors else "No findings.")
    if totals.errors:
        parts.append(f"{totals.errors} file(s) could not be checked (see errors above).")
    print(" ".join(parts), file=out)


class _Progress:
    """`[n/total] path` on stderr for long runs, only when stderr is a terminal."""

    def __init__(self, total: int):
        self.total = total
        self.enabled = total >= 200 and sys.stderr.isatty() and not os.environ.get("CI")
        self.count = 0

    def step(self, path: str) -> None:
        self.count += 1
        if self.enabled and (self.count % 25 == 0 or self.count == self.total):
            sys.stderr.write(f"\r\x1b[K[{self.count}/{self.total}] {path[-60:]}")
            sys.stderr.flush()

    def done(self) -> None:
        if self.enabled:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()

