"""The `tflint-notes` command: check, fix, rule."""

from __future__ import annotations

import argparse
import difflib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tflint_notes import __version__
from tflint_notes.config import ConfigError, Settings, find_pyproject, load, validate_selectors
from tflint_notes.docs import rule_doc
from tflint_notes.engine import Linter, ParseError, fix_text
from tflint_notes.results import Diagnostic
from tflint_notes.rule import all_rules
from tflint_notes.source import SourceError, SourceFile, read_source, write_atomically

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


@dataclass
class Report:
    findings: int = 0
    fixable: int = 0
    unsafe_fixable: int = 0
    errors: int = 0
    fixed: int = 0
    files_changed: int = 0
    withheld_unsafe: int = 0
    lines: list[str] = field(default_factory=list)


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
        p.add_argument("paths", nargs="*", metavar="PATH", help="files or directories (default: .)")
        p.add_argument("--select", action="append", metavar="CODES",
                       help="only these rules (comma-separated codes or prefixes: TFN1 = all TFN1xx)")
        p.add_argument("--extend-select", action="append", metavar="CODES", help="add rules to the selection")
        p.add_argument("--ignore", action="append", metavar="CODES", help="skip these rules (codes or prefixes)")
        p.add_argument("--config", metavar="FILE", help="read settings from this pyproject.toml/TOML file")
        p.add_argument("--isolated", action="store_true", help="ignore all configuration files")
        p.add_argument("--exit-zero", action="store_true", help="exit 0 even if findings remain")
        p.add_argument("-q", "--quiet", action="store_true", help="print diagnostics only, no summary")

    check = sub.add_parser("check", help="report problems (writes nothing)")
    common(check)
    fix = sub.add_parser("fix", help="apply safe fixes, then report what remains")
    common(fix)
    fix.add_argument("--unsafe-fixes", action="store_true", help="also apply fixes that may change behaviour")
    fix.add_argument("--diff", action="store_true", help="print a unified diff instead of writing files")
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
        for code, rule in rules.items():
            state = "" if rule.default_enabled else "  (off by default)"
            print(f"{code}  {rule.name:<{width}}  {rule.summary}{state}")
        return EXIT_CLEAN
    code = args.code.upper()
    if code not in rules:
        print(f"tflint-notes: error: unknown rule {args.code!r}; see `tflint-notes rule --all`", file=sys.stderr)
        return EXIT_ERROR
    print(rule_doc(rules[code]))
    return EXIT_CLEAN


def _settings(args) -> Settings:
    if args.isolated:
        settings = Settings()
    elif args.config:
        settings = load(Path(args.config))
    else:
        first = Path(args.paths[0]) if args.paths else Path.cwd()
        start = first if first.is_dir() else first.parent
        settings = load(find_pyproject(start if str(start) else Path.cwd()))
    if args.select:
        settings.select = validate_selectors(_split(args.select), "--select")
    if args.extend_select:
        settings.extend_select += validate_selectors(_split(args.extend_select), "--extend-select")
    if args.ignore:
        settings.ignore += validate_selectors(_split(args.ignore), "--ignore")
    return settings


def discover(paths: list[str], settings: Settings, report: Report) -> list[str]:
    """Python files under `paths`; explicitly named files are always linted."""
    found: list[str] = []
    seen: set = set()
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not settings.is_excluded(os.path.join(root, d), path))
                for name in sorted(files):
                    if name.endswith(".py"):
                        full = os.path.join(root, name)
                        if not settings.is_excluded(full, path):
                            found.append(full)
        elif os.path.exists(path) or os.path.islink(path):
            found.append(path)
        else:
            report.errors += 1
            print(f"{path}: error: no such file or directory", file=sys.stderr)
    unique = []
    for f in found:
        key = os.path.normpath(f)
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique


def _display(path: str) -> str:
    return path[2:] if path.startswith("./") else path


def _format(path: str, diag: Diagnostic) -> str:
    return f"{_display(path)}:{diag.line}:{diag.column + 1}: {diag.code} {diag.message}"


def _run(args, settings: Settings) -> int:
    report = Report()
    codes = settings.enabled_codes()
    linter = Linter(codes)
    files = discover(args.paths or ["."], settings, report)
    fixing = args.command == "fix"
    for path in files:
        try:
            source = read_source(path)
        except SourceError as exc:
            report.errors += 1
            print(f"{_display(path)}: error: {exc}", file=sys.stderr)
            continue
        ignored = settings.ignored_for(path)
        try:
            if fixing:
                _fix_file(args, linter, source, ignored, report)
            else:
                for diag in linter.lint(source.text).diagnostics:
                    if not diag.code.startswith(ignored):
                        _emit(path, diag, report)
        except ParseError as exc:
            report.errors += 1
            where = f":{exc.line}:{exc.column + 1}" if exc.line else ""
            print(f"{_display(path)}{where}: error: {exc} (file not checked)", file=sys.stderr)
    _summary(args, report, fixing)
    if report.errors:
        return EXIT_ERROR
    if args.exit_zero:
        return EXIT_CLEAN
    if fixing and args.diff and report.files_changed:
        return EXIT_FINDINGS
    return EXIT_FINDINGS if report.findings else EXIT_CLEAN


def _emit(path: str, diag: Diagnostic, report: Report) -> None:
    report.findings += 1
    if diag.fix is not None:
        if diag.fix.safe:
            report.fixable += 1
        else:
            report.unsafe_fixable += 1
    print(_format(path, diag))


def _fix_file(args, linter: Linter, source: SourceFile, ignored: tuple, report: Report) -> None:
    path = source.path
    if ignored:
        linter = _FilteredLinter(linter, ignored)
    outcome = fix_text(linter, source.text, unsafe=args.unsafe_fixes)
    for diag, why in outcome.dropped:
        print(f"{_display(path)}:{diag.line}:{diag.column + 1}: {diag.code} fix not applied: {why}",
              file=sys.stderr)
    if outcome.text != source.text:
        report.files_changed += 1
        report.fixed += len(outcome.applied)
        if args.diff:
            name = _display(path)
            sys.stdout.writelines(difflib.unified_diff(
                source.text.splitlines(keepends=True), outcome.text.splitlines(keepends=True),
                fromfile=f"a/{name}", tofile=f"b/{name}"))
            if not outcome.text.endswith(("\n", "\r")):
                print()
        else:
            try:
                write_atomically(source, outcome.text)
            except SourceError as exc:
                report.errors += 1
                print(f"{_display(path)}: error: {exc}", file=sys.stderr)
                return
    report.withheld_unsafe += outcome.withheld_unsafe
    if not args.diff:
        for diag in outcome.remaining:
            _emit(path, diag, report)


class _FilteredLinter:
    """A linter view without the codes that per-file-ignores switch off for one file."""

    def __init__(self, linter: Linter, ignored: tuple):
        self._linter = linter
        self._ignored = ignored

    def lint(self, text: str, **kwargs):
        result = self._linter.lint(text, **kwargs)
        result.diagnostics = [d for d in result.diagnostics if not d.code.startswith(self._ignored)]
        return result


def _summary(args, report: Report, fixing: bool) -> None:
    if args.quiet:
        return
    out = []
    if fixing:
        verb = "Would fix" if args.diff else "Fixed"
        out.append(f"{verb} {report.fixed} finding(s) in {report.files_changed} file(s).")
        if report.findings:
            out.append(f"{report.findings} finding(s) remain.")
        if report.withheld_unsafe:
            out.append(f"{report.withheld_unsafe} unsafe fix(es) withheld (use --unsafe-fixes).")
    elif report.findings:
        hints = []
        if report.fixable:
            hints.append(f"{report.fixable} fixable with `tflint-notes fix`")
        if report.unsafe_fixable:
            hints.append(f"{report.unsafe_fixable} more with `--unsafe-fixes`")
        extra = f" ({', '.join(hints)})" if hints else ""
        out.append(f"Found {report.findings} finding(s){extra}.")
    else:
        out.append("All checks passed." if not report.errors else "No findings.")
    if report.errors:
        out.append(f"{report.errors} file(s) could not be checked (see errors above).")
    print(" ".join(out), file=sys.stderr if (fixing and args.diff) else sys.stdout)
