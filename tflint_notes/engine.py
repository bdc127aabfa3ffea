"""Lint and fix one source text: one parse, one traversal running every enabled rule."""

from __future__ import annotations

import ast
import re
import threading
import warnings
from dataclasses import dataclass, field
from typing import Callable, Iterable

import libcst as cst
from libcst._nodes.base import CSTNode
from libcst._position import CodeRange
from libcst.metadata import MetadataWrapper, PositionProvider
from libcst.metadata.position_provider import PositionProvidingCodegenState

from tflint_notes.analysis import Analysis
from tflint_notes.cells import first_plain_cell
from tflint_notes.collection import collection_paused
from tflint_notes.cstwalk import child_fields as _child_fields
from tflint_notes.cstwalk import contains as _contains
from tflint_notes.gate import FixGate
from tflint_notes.locator import Locator
from tflint_notes.noqa import NoqaIndex
from tflint_notes.project import NO_PROJECT, Project, Target
from tflint_notes.project.target import override
from tflint_notes.project.view import NO_VIEW, ModuleView
from tflint_notes.results import Diagnostic, Edit, Fix
from tflint_notes.rule import Candidate, PendingFix, Rule, all_rules
from tflint_notes.screen import FileFacts
from tflint_notes.source import line_starts


# Files that never mention these cannot use TensorFlow/Keras: they are not even parsed.
PREFILTER = ("tensorflow", "keras")
MAX_FIX_ROUNDS = 10

class ParseError(Exception):
    def __init__(self, message: str, line: int = 0, column: int = 0):
        super().__init__(message)
        self.line = line
        self.column = column


class InternalError(Exception):
    """A bug in tflint-notes (one rule, or the shared analysis) met on one file."""

    def __init__(self, code: str, error: BaseException):
        super().__init__(f"{type(error).__name__}: {error}")
        self.code = code
        self.error = error

    def describe(self) -> str:
        where = "the shared analysis" if self.code == "analysis" else f"rule {self.code}"
        return (f"internal error in {where}: {self} (please report it at "
                f"https://github.com/tflint-notes/tflint-notes/issues with the file)")


def _apply_noqa(text: str, raw: LintResult) -> LintResult:
    result = LintResult(internal_errors=raw.internal_errors, parsed_for=raw.parsed_for)
    noqa = NoqaIndex(text)
    if noqa.file_exempt:
        result.suppressed = len(raw.diagnostics)
        return result
    for diag in raw.diagnostics:
        if noqa.suppresses(diag.code, diag.line):
            result.suppressed += 1
        else:
            result.diagnostics.append(diag)
    return result


def _expected(cand: Candidate, regions) -> bool:
    """Is the finding in code that expects exactly this failure, or that runs eagerly?"""
    for kind, names in regions:
        if kind == "raises":
            return True  # inside assertRaises / pytest.raises: the failure is what the test checks
        if kind == "try" and not names.isdisjoint(cand.rule.expected_errors):
            return True  # `try: ... except TypeError:` around the call that raises TypeError: defensive code
        if kind == "eager" and cand.requires_graph:
            return True  # `with tf.init_scope():` inside graph code runs eagerly
    return False


def _failing_rule(exc: BaseException, active) -> type[Rule] | None:
    """The rule class whose code raised `exc`, from the traceback's frames."""
    tb = exc.__traceback__
    culprit = None
    while tb is not None:
        owner = tb.tb_frame.f_locals.get("self")
        if isinstance(owner, Rule) and type(owner) in active:
            culprit = type(owner)
        tb = tb.tb_next
    return culprit


@dataclass
class LintResult:
    diagnostics: list[Diagnostic] = field(default_factory=list)
    suppressed: int = 0
    internal_errors: list[InternalError] = field(default_factory=list)
    # The rules for which libcst parsed the text (their screens said "maybe"); empty when it was not parsed
    # (no rule passed its screen, or a cache hit).  `check --statistics` counts them.
    parsed_for: tuple[str, ...] = ()


class RuleSet:
    """The enabled rules and their visit/leave dispatch tables, built once per process."""

    def __init__(self, codes: Iterable[str]):
        registry = all_rules()
        self.rule_classes: list[type[Rule]] = [registry[c] for c in sorted(set(codes))]
        self.triggers = {cls: cls.triggers for cls in self.rule_classes}
        # rules share trigger words ('keras', 'numpy'): each distinct word is searched for at most once per
        # text, the broad ones first
        broad = ("keras", "tensorflow")
        self._ordered_triggers = {
            cls: (tuple(sorted(cls.triggers, key=lambda w: (w not in broad, broad.index(w) if w in broad else 0, w)))
                  if cls.triggers else None)
            for cls in self.rule_classes}
        self._dispatch_cache: dict[tuple, tuple[dict, dict]] = {}

    def active_for(self, text: str) -> tuple[type[Rule], ...]:
        # A word is searched for only until one of a rule's words is found: "keras" and "tensorflow" settle
        # most rules, so the rare words of the others are not looked for in every text.
        present: dict[str, bool] = {}
        active = []
        for cls in self.rule_classes:
            triggers = self._ordered_triggers[cls]
            if triggers is None:
                active.append(cls)
                continue
            for word in triggers:
                found = present.get(word)
                if found is None:
                    found = present[word] = word in text
                if found:
                    active.append(cls)
                    break
        return tuple(active)

    @staticmethod
    def screened(active: tuple[type[Rule], ...], facts: "FileFacts | ast.Module | None") -> tuple[type[Rule], ...]:
        """The rules whose screen says they may fire on this AST or its facts (see screen.py)."""
        if facts is None or not any(cls.screen is not None for cls in active):
            return active
        if isinstance(facts, ast.Module):
            try:
                facts = FileFacts(facts)
            except RecursionError:
                return active
        kept = []
        for cls in active:
            try:
                if cls.screen is None or cls.screen(facts):
                    kept.append(cls)
            except Exception:  # noqa: BLE001 - a broken screen must not hide findings: run the rule
                kept.append(cls)
        return tuple(kept)

    def dispatch(self, classes: tuple[type[Rule], ...]) -> tuple[dict, dict]:
        """{node type name: [(class index, unbound method)]} for visit_* and leave_*; cached."""
        cached = self._dispatch_cache.get(classes)
        if cached is None:
            visits: dict[str, list] = {}
            leaves: dict[str, list] = {}
            for index, cls in enumerate(classes):
                for attr in dir(cls):
                    if attr.startswith("visit_"):
                        visits.setdefault(attr[6:], []).append((index, getattr(cls, attr)))
                    elif attr.startswith("leave_"):
                        leaves.setdefault(attr[6:], []).append((index, getattr(cls, attr)))
            cached = self._dispatch_cache[classes] = (visits, leaves)
        return cached


def parse(text: str) -> cst.Module:
    return parse_with_lines(text)[0]


def compile_tree(text: str) -> ast.Module:
    """CPython's AST of `text`, or ParseError.  About a fifth of libcst's parse: it gives the familiar
    syntax error messages, it feeds the rules' screens, and it rejects nesting so deep that libcst's
    native parser would crash the process."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the user's invalid escape sequences are not our output
            return compile(text, "<tflint-notes>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as exc:
        raise ParseError(f"syntax error: {exc.msg}", exc.lineno or 0, max((exc.offset or 1) - 1, 0)) from None
    except (RecursionError, MemoryError):
        raise ParseError("nesting too deep to analyse") from None
    except ValueError as exc:  # e.g. "source code string cannot contain null bytes"
        raise ParseError(str(exc)) from None


def parse_with_lines(text: str, tree: ast.Module | None = None) -> tuple[cst.Module, "StatementMap"]:
    """The libcst module, and where each top-level statement starts (see Positions).  `tree`: the
    CPython AST of the same text, if the caller has it already."""
    if tree is None:
        tree = compile_tree(text)
    try:
        module = _parse_unvalidated(text)
        return module, StatementMap(_statement_lines(module.body, tree.body), tree)
    except cst.ParserSyntaxError as exc:
        raise ParseError(f"libcst cannot parse this valid Python (a libcst limitation): {exc.message}",
                         exc.raw_line, exc.raw_column) from None
    except RecursionError:
        raise ParseError("nesting too deep to analyse") from None


_VALIDATION = threading.Lock()


def _no_validation(self) -> None:
    pass


def _parse_unvalidated(text: str) -> cst.Module:
    """`cst.parse_module`, without each node's `_validate()`: the parser only builds valid nodes, and the
    checks cost 13 % of the parse (libcst's own comment in CSTNode.__post_init__ suggests skipping them when
    parsing).  Nodes that rules and fixes build are still validated: the switch holds only for the parse."""
    with _VALIDATION:
        validate = CSTNode.__post_init__
        CSTNode.__post_init__ = _no_validation
        try:
            return cst.parse_module(text)
        finally:
            CSTNode.__post_init__ = validate


def _statement_lines(statements, ast_body) -> list[int] | None:
    """For each libcst statement of a block, the line where its text (leading comments included)
    starts, from CPython's AST of the same block.  None if the two parsers disagree on the statements
    (then positions come from libcst's metadata for the whole module)."""
    lines: list[int] = []
    index = 0
    for stmt in statements:
        if index >= len(ast_body):
            return None
        first = ast_body[index]
        index += len(stmt.body) if isinstance(stmt, cst.SimpleStatementLine) else 1
        decorators = getattr(first, "decorator_list", None)
        line = decorators[0].lineno if decorators else first.lineno
        lines.append(line - len(stmt.leading_lines))
    return lines if index == len(ast_body) else None


@dataclass
class StatementMap:
    lines: list[int] | None  # per top-level statement
    tree: ast.Module


class Positions:
    """Node positions, computed only for the statements that hold findings.

    libcst's PositionProvider generates the code of the whole module to find any position. Here each
    top-level statement — or, inside a top-level class, each statement of the class body (a method) — is
    generated on its own, starting at its known line with its block's indentation, and the generated
    text is checked against the file; on any mismatch the whole-module metadata is used instead."""

    def __init__(self, text: str, module: cst.Module, statements: StatementMap | None):
        self.text = text
        self.module = module
        self.starts = line_starts(text)
        self.lines = statements.lines if statements is not None else None
        self.tree = statements.tree if statements is not None else None
        self._known: dict = {}
        self._done: set = set()
        self._full = False
        self._class_lines: dict[int, list[int] | None] = {}

    def prepare(self, stmt: cst.CSTNode | None, node: cst.CSTNode) -> None:
        if stmt is None or self.lines is None or self._full or node in self._known:
            return
        index = next((i for i, s in enumerate(self.module.body) if s is stmt), None)
        if index is None:
            return
        if isinstance(stmt, cst.ClassDef) and isinstance(stmt.body, cst.IndentedBlock):
            member = next((j for j, inner in enumerate(stmt.body.body) if _contains(inner, node)), None)
            if member is not None and self._member(index, member):
                return
        self._statement(index)

    def _generate(self, node: cst.CSTNode, first_line: int, indent: list[str], key) -> bool:
        if key in self._done:
            return True
        provider = PositionProvider()
        state = PositionProvidingCodegenState(default_indent=self.module.default_indent,
                                              default_newline=self.module.default_newline, provider=provider,
                                              indent_tokens=list(indent), line=first_line, column=0)
        node._codegen(state)
        code = "".join(state.tokens)
        start = self.starts[first_line - 1] if 0 < first_line <= len(self.starts) else -1
        if start < 0 or self.text[start:start + len(code)] != code:
            self._use_full()
            return False
        self._known.update(provider._computed)
        self._done.add(key)
        return True

    def _statement(self, index: int) -> bool:
        return self._generate(self.module.body[index], self.lines[index], [], index)

    def _member(self, index: int, member: int) -> bool:
        cls = self.module.body[index]
        if index not in self._class_lines:
            ast_cls = self._ast_statement(index)
            self._class_lines[index] = (_statement_lines(cls.body.body, ast_cls.body)
                                        if isinstance(ast_cls, ast.ClassDef) else None)
        lines = self._class_lines[index]
        if lines is None:
            return False
        indent = cls.body.indent if cls.body.indent is not None else self.module.default_indent
        return self._generate(cls.body.body[member], lines[member], [indent], (index, member))

    def _ast_statement(self, index: int):
        position = 0
        for i, stmt in enumerate(self.module.body):
            if i == index:
                return self.tree.body[position]
            position += len(stmt.body) if isinstance(stmt, cst.SimpleStatementLine) else 1
        return None

    def _use_full(self) -> None:
        self._full = True
        self._known = dict(MetadataWrapper(self.module, unsafe_skip_copy=True).resolve(PositionProvider))

    def __getitem__(self, node: cst.CSTNode) -> CodeRange:
        found = self._known.get(node)
        if found is not None:
            return found
        if not self._full and self.lines is not None:
            for index in range(len(self.module.body)):
                if index not in self._done and _contains(self.module.body[index], node):
                    if self._statement(index) and node in self._known:
                        return self._known[node]
                    break
        if not self._full:
            self._use_full()
        return self._known[node]



def _walk(module: cst.Module, ctx: Analysis, rules: list[Rule], visits: dict, leaves: dict) -> None:
    ctx_visit = {name[6:]: getattr(ctx, name) for name in dir(ctx) if name.startswith("visit_")}
    ctx_leave = {name[6:]: getattr(ctx, name) for name in dir(ctx) if name.startswith("leave_")}
    bound_visits: dict[type, list[Callable]] = {}
    bound_leaves: dict[type, list[Callable]] = {}
    child_fields = _child_fields
    base = cst.CSTNode

    def handlers(node_type: type) -> tuple[list, list]:
        name = node_type.__name__
        v = []
        if name in ctx_visit:
            v.append(ctx_visit[name])
        v.extend(getattr(rules[i], fn.__name__) for i, fn in visits.get(name, ()))
        lv = [getattr(rules[i], fn.__name__) for i, fn in leaves.get(name, ())]
        if name in ctx_leave:
            lv.append(ctx_leave[name])
        bound_visits[node_type] = v
        bound_leaves[node_type] = lv
        return v, lv

    def walk(node: cst.CSTNode) -> None:
        node_type = type(node)
        v = bound_visits.get(node_type)
        if v is None:
            v, lv = handlers(node_type)
        else:
            lv = bound_leaves[node_type]
        for fn in v:
            fn(node)
        for name in child_fields(node_type):
            value = getattr(node, name)
            if isinstance(value, base):
                walk(value)
            elif type(value) is tuple or type(value) is list:
                for item in value:
                    if isinstance(item, base):
                        walk(item)
        for fn in lv:
            fn(node)

    # The module's statements one by one, so that findings know their top-level statement.
    visit_module, leave_module = handlers(cst.Module)
    for fn in visit_module:
        fn(module)
    for stmt in module.body:
        ctx.current_top = stmt
        walk(stmt)
    ctx.current_top = None
    for fn in leave_module:
        fn(module)
    # `walk` refers to itself through its closure: a cycle that would keep the tree, the analysis and the
    # rules alive until the garbage collector finds it; with the cycle cut, they go when the file is done.
    walk = None  # noqa: F841


class Linter:
    def __init__(self, codes: Iterable[str], cache_dir=None, *, screen: bool = True, keras: str | None = None,
                 target_tensorflow: str | None = None, settings_source: str = "the configuration",
                 keep_parse: bool = False):
        self.rules = RuleSet(codes)
        self.screen = screen  # False: parse every triggered file (tests compare both ways)
        # The configuration's word on the target (`keras`, `target-tensorflow`): it overrides what a project
        # declares.  None: inferred per project.
        self.keras = keras
        self.target_tensorflow = target_tensorflow
        self.settings_source = settings_source
        self._targets: dict = {}
        # (text, CPython AST, FileFacts) of the last file parsed, kept for `parsed_facts` only when the caller
        # asks for it (the CLI, which then calls `forget_parse` when the file is done): a parse kept past the
        # file's work is alive when the collector next runs, so its cycles wait in an old generation.
        self.keep_parse = keep_parse
        self._last_parse: tuple | None = None
        self.cache = None
        if cache_dir is not None:
            from tflint_notes.cache import ResultCache

            key = ",".join(cls.code for cls in self.rules.rule_classes)
            self.cache = ResultCache(cache_dir, key)

    def _file_facts(self, text: str, tree: ast.Module, view: ModuleView,
                    prepared: "FileFacts | None" = None) -> "FileFacts | None":
        """The screen's facts of this parse (`prepared`: already walked for the project index by the caller),
        kept for `parsed_facts` (the project index reuses them)."""
        if prepared is not None and prepared.tree is tree:
            prepared.attach_view(view)
            facts = prepared
        else:
            try:
                facts = FileFacts(tree, view)
            except RecursionError:
                facts = None
        if facts is not None:
            facts.text = text
        if self.keep_parse:
            self._last_parse = (text, tree, facts)
        return facts

    def forget_parse(self) -> None:
        """Let the last file's trees go: called when its work is done, before the collector runs again, so
        that their cycles die young instead of waiting in the oldest generation for a full collection."""
        self._last_parse = None

    def parsed_facts(self, text: str, identity: tuple) -> dict | None:
        """The project-index facts (project/facts.py) of `text`, only if this linter parsed exactly this text
        last (its screen walk is reused); None otherwise: the index reads the module itself when needed.
        `identity`: (module name, is a package, path relative to the project root)."""
        from tflint_notes.project.facts import module_facts

        last = self._last_parse
        if last is None or last[0] is not text or last[2] is None:
            return None
        try:
            return module_facts(last[2], *identity)
        except RecursionError:
            return None

    def target_for(self, project: Project | None) -> tuple[Project, Target]:
        """The project (NO_PROJECT for None) and its target with the configuration applied."""
        project = project if project is not None else NO_PROJECT
        target = self._targets.get(project.target)
        if target is None:
            target = self._targets[project.target] = override(project.target, self.target_tensorflow, self.keras,
                                                   self.settings_source)
        return project, target

    def lint(self, text: str, *, apply_noqa: bool = True, tree: ast.Module | None = None,
             project: Project | None = None, view: ModuleView = NO_VIEW,
             file_facts: "FileFacts | None" = None) -> LintResult:
        """Diagnostics for one decoded source text (raises ParseError).  `tree`: its CPython AST, if
        the caller has it (flake8 does).  `project`: the project the text belongs to (its target and its own
        packages); None: no project, the newest TensorFlow the tables describe."""
        if view.trivial and not any(word in text for word in PREFILTER):
            return LintResult()
        project, target = self.target_for(project)
        # the key holds everything the rules that run depend on (the text, the enabled rules in the salt, the
        # target): a hit needs no search for trigger words
        scope = f"{target.fingerprint()};{','.join(sorted(project.first_party))};{view.fingerprint()}"
        cached = self.cache.get(text, scope) if self.cache is not None else None
        if cached is not None:
            raw = LintResult(cached[0])
        else:
            active = tuple(cls for cls in self.rules.active_for(text)
                           if cls.fails_from is None or target.fails_from(cls.fails_from))
            if not active:
                return LintResult()
            with collection_paused():
                raw = self._lint_raw(text, active, tree, project, target, view, file_facts)
            if self.cache is not None and not raw.internal_errors:
                self.cache.put(text, raw.diagnostics, 0, scope)
        if not apply_noqa or not raw.diagnostics:
            return raw
        return _apply_noqa(text, raw)

    def _lint_raw(self, text: str, active, tree: ast.Module | None = None, project: Project = NO_PROJECT,
                  target: Target | None = None, view: ModuleView = NO_VIEW,
                  file_facts: "FileFacts | None" = None) -> LintResult:
        """All diagnostics, `# noqa` not yet applied (that is what the cache stores)."""
        if tree is None:
            tree = compile_tree(text)
        if self.screen:
            facts = self._file_facts(text, tree, view, file_facts)
            if facts is not None:
                facts.set_target(target or project.target, project.first_party)
            active = self.rules.screened(active, facts)
            if not active:
                return LintResult()
        module, statement_lines = parse_with_lines(text, tree)
        failures: list[InternalError] = []
        try:
            candidates = self._run(module, active, failures, project, target or project.target, view)
        except RecursionError:
            raise ParseError("nesting too deep to analyse") from None
        result = LintResult(internal_errors=failures, parsed_for=tuple(cls.code for cls in active))
        if not candidates:
            return result
        result.diagnostics = self._to_diagnostics(text, module, statement_lines, candidates, failures)
        return result

    def _run(self, module: cst.Module, active: tuple[type[Rule], ...], failures: list, project: Project,
             target: Target, view: ModuleView = NO_VIEW) -> list[Candidate]:
        """One traversal with every active rule.  A rule that raises is dropped, reported as an internal
        error, and the traversal is redone without it (the normal path pays nothing for this)."""
        while True:
            ctx = Analysis(module)
            ctx.tf_keras_target = target.tf_keras or ctx.tf_keras_target
            ctx.keras2_target = target.keras2
            ctx.tf_newest = target.tf_newest
            ctx.first_party = project.first_party
            ctx.view = view
            sink: list[Candidate] = []
            rules = [cls(ctx, sink) for cls in active]
            visits, leaves = self.rules.dispatch(active)
            try:
                _walk(module, ctx, rules, visits, leaves)
                for rule in rules:
                    rule.finish()
                kept = self._filter(ctx, sink)
            except RecursionError:
                raise
            except Exception as exc:  # noqa: BLE001 - a bug in one rule must not stop the others
                culprit = _failing_rule(exc, active)
                if culprit is None:
                    raise InternalError("analysis", exc) from exc
                failures.append(InternalError(culprit.code, exc))
                active = tuple(cls for cls in active if cls is not culprit)
                if not active:
                    return []
                continue
            return kept

    @staticmethod
    def _filter(ctx: Analysis, sink: list[Candidate]) -> list[Candidate]:
        kept = []
        regions = ctx.region_kinds() if sink and (ctx.regions or ctx.expecting_functions) else {}
        for cand in sink:
            if cand.requires_graph and not ctx.in_graph(cand.graph_function):
                continue
            if cand.requires_tensor and not ctx.evidence_holds(cand.evidence):
                continue
            if cand.requires_keras is not None:
                func, param, accept = cand.requires_keras
                obj = ctx.param_keras_object(func, param)
                if obj is None or not accept(obj):
                    continue
            if regions and _expected(cand, regions.get(id(cand.node), ())):
                continue
            kept.append(cand)
        broad = {cls.narrows for cls in {type(c.rule) for c in kept} if cls.narrows}
        if broad:
            # A broad opt-in rule (TFN902) and its default form (TFN203) never report the same node twice.
            reported = {(c.rule.code, id(c.node)) for c in kept}
            kept = [c for c in kept if not (c.rule.narrows and (c.rule.narrows, id(c.node)) in reported)]
        return kept

    def _to_diagnostics(self, text: str, module: cst.Module, statement_lines, candidates: list[Candidate],
                        failures: list) -> list[Diagnostic]:
        # Positions are computed only for files with findings, and only for the statements involved.
        positions = Positions(text, module, statement_lines)
        for cand in candidates:
            positions.prepare(cand.top, cand.node)
        locator = Locator(text, module, positions,
                          statement_lines.tree if statement_lines is not None else compile_tree(text))
        out = []
        seen = set()
        for cand in candidates:
            where = positions[cand.node]
            fix = None
            if cand.fix is not None:
                try:
                    fix = self._edits(locator, cand.fix)
                except Exception as exc:  # noqa: BLE001 - report the finding without its broken fix
                    failures.append(InternalError(cand.rule.code, exc))
            message = cand.message
            if "{context}" in message:
                message = message.replace("{context}", cand.rule.ctx.graph_label(cand.graph_function))
            for index, named in enumerate(cand.lines):
                message = message.replace(f"{{line{index}}}", str(positions[named].start.line))
            diag = Diagnostic(cand.rule.code, message, where.start.line, where.start.column,
                              where.end.line, where.end.column, fix)
            key = (diag.code, diag.line, diag.column, diag.message)
            if key not in seen:
                seen.add(key)
                out.append(diag)
        out.sort(key=lambda d: (d.line, d.column, d.code))
        return out

    @staticmethod
    def _edits(locator: "Locator", pending: PendingFix) -> Fix | None:
        edits = []
        for rep in pending.replacements:
            start, end = locator.span(rep.node)
            code = rep.code if isinstance(rep.code, str) else locator.code_like(rep.node, rep.code)
            if code is None:
                return None
            edits.append(Edit(start, end, code))
        if pending.build_edits is not None:
            extra = pending.build_edits(locator)
            if extra is None:
                return None
            edits.extend(extra)
        safe, description = pending.safe, pending.description
        if pending.add_import:
            insertion = _import_insertion(locator.text, locator.module, pending.add_import,
                                          locator.positions, locator.starts)
            if insertion is None or (edits and insertion.start > min(e.start for e in edits)):
                return None  # no place for the import before the code that needs it
            edits.append(insertion)
            root = _imported_module(pending.add_import).split(".", 1)[0]
            if root not in locator.imported_roots():
                # A safe fix never adds a dependency: `import keras` must not start to need TensorFlow.
                safe = False
                description += f" (adds `{pending.add_import}`: the file did not import {root})"
        return Fix(tuple(sorted(edits)), safe, description)


def _imported_module(import_line: str) -> str:
    """`tensorflow` of "import tensorflow as tf" / "from tensorflow import keras"."""
    words = import_line.split()
    return words[1] if len(words) > 1 else ""


_CODING = re.compile(r"^[ \t\f]*#.*?coding[:=]")


def _is_docstring(stmt: cst.CSTNode) -> bool:
    return (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Expr)
            and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString)))


def _import_insertion(text: str, module: cst.Module, line: str, positions, starts) -> Edit | None:
    """Where an added import goes: after the module's leading block (docstring, `from __future__`, imports),
    else before its first statement, below the shebang and encoding lines.  In a notebook program, into the
    first plain Python cell (none: no place, None)."""
    newline = "\r\n" if "\r\n" in text else ("\r" if "\r" in text else "\n")
    region = first_plain_cell(text)
    if region == (-1, -1):
        return None
    low, high = region if region is not None else (0, len(text))

    def offset(stmt) -> int:
        return starts[positions[stmt].start.line - 1]

    statements = [stmt for stmt in module.body if low <= offset(stmt) < high]
    anchor = None
    for index, stmt in enumerate(statements):
        if isinstance(stmt, cst.SimpleStatementLine):
            if all(isinstance(s, (cst.Import, cst.ImportFrom)) for s in stmt.body):
                anchor = stmt
                continue
            if anchor is None and index == 0 and _is_docstring(stmt):
                anchor = stmt
                continue
        elif isinstance(stmt, cst.Try) and anchor is not None:
            continue  # `try: import x except ImportError: ...` inside the import block
        break
    if anchor is not None:
        end_line = positions[anchor].end.line
        if end_line < len(starts):
            at = starts[end_line]
            return Edit(at, at, line + newline)
        return Edit(len(text), len(text), newline + line + newline)
    if not statements:
        return None
    first = statements[0]
    spacing = newline * (3 if isinstance(first, (cst.FunctionDef, cst.ClassDef)) else 2)
    if region is not None:
        return Edit(low, low, line + spacing)
    first_line = positions[first].start.line
    lines = [text[starts[i]:starts[i + 1] if i + 1 < len(starts) else len(text)] for i in range(first_line - 1)]
    header = 0  # the shebang and encoding lines stay first
    for number, content in enumerate(lines[:2], 1):
        if (number == 1 and content.startswith("#!")) or _CODING.match(content):
            header = number
    block = first_line
    while block - 1 > header and lines[block - 2].lstrip().startswith("#"):
        block -= 1  # the comment block directly above the first statement belongs to it ...
    if block - 1 > header and not lines[block - 2].strip():
        at_line = block  # ... unless it is the file's header: then the import goes below it
    else:
        at_line = first_line
    at = starts[at_line - 1]
    return Edit(at, at, line + spacing)


# --- applying fixes ---------------------------------------------------------------------------


@dataclass
class FixOutcome:
    text: str
    applied: list[Diagnostic] = field(default_factory=list)
    dropped: list[tuple[Diagnostic, str]] = field(default_factory=list)  # (diag, why)
    remaining: list[Diagnostic] = field(default_factory=list)
    withheld_unsafe: int = 0
    internal_errors: list = field(default_factory=list)
    # (the text of a round, the fixes applied to it): kept by reference, read only by `changes()`
    rounds: list[tuple[str, list[Diagnostic]]] = field(default_factory=list)

    def changes(self) -> list[tuple[Diagnostic, str, str, tuple[str, ...]]]:
        """Per applied fix, in order: (diagnostic, its lines before, after, text it adds elsewhere) in the text
        of the round that applied it (`migrate`'s report: "line 7: before -> after")."""
        out = []
        for text, applied in self.rounds:
            starts = line_starts(text)
            out.extend(_line_change(text, starts, diag) for diag in applied)
        return out

    def _note(self, result: "LintResult") -> "LintResult":
        for error in result.internal_errors:
            if all(e.code != error.code for e in self.internal_errors):
                self.internal_errors.append(error)
        return result


def _overlaps(a: Edit, b: Edit) -> bool:
    if a == b:
        return False  # the same edit requested twice (e.g. one added import) is applied once
    if a.start == a.end and b.start == b.end:
        return a.start == b.start
    return a.start < b.end and b.start < a.end or (a.start == a.end and b.start < a.start < b.end) or (
        b.start == b.end and a.start < b.start < a.end)


def apply_edits(text: str, fixes: list[Fix]) -> tuple[str, list[int]]:
    """Apply the fixes whose edits do not overlap an earlier accepted fix; return indexes applied."""
    accepted: list[Edit] = []
    applied: list[int] = []
    order = sorted(range(len(fixes)), key=lambda i: (fixes[i].edits[0].start if fixes[i].edits else 0))
    for i in order:
        edits = fixes[i].edits
        if any(_overlaps(e, a) for e in edits for a in accepted):
            continue
        accepted.extend(e for e in edits if e not in accepted)
        applied.append(i)
    for edit in sorted(set(accepted), key=lambda e: (e.start, e.end), reverse=True):
        text = text[:edit.start] + edit.text + text[edit.end:]
    return text, sorted(applied)


def fix_text(linter: Linter, text: str, *, unsafe: bool = False, check=None, project: Project | None = None,
             view: ModuleView = NO_VIEW, after_first_lint: Callable[[], None] | None = None,
             accept: Callable[[Diagnostic], bool] | None = None) -> FixOutcome:
    """Apply fixes, re-lint and repeat until nothing changes (bounded).

    Every round's result passes the fix gate (gate.py): it compiles and reads no module name that
    nothing defines, where the original did not; `check(text)` may refuse more (a notebook compiles
    each cell).  A fix refused on its own is dropped and reported; fixes refused only together are
    applied one per round.  `accept(diagnostic)` may restrict which fixes are applied (`migrate` applies other
    rules' fixes only on the lines it changed)."""
    outcome = FixOutcome(text)
    rejected: set = set()
    last = None  # the lint of the text as it is now (a file with nothing to fix is linted once)
    for _ in range(MAX_FIX_ROUNDS):
        last = outcome._note(linter.lint(outcome.text, project=project, view=view))
        if after_first_lint is not None:
            after_first_lint()  # the original text was just parsed (the CLI keeps its project-index facts)
            after_first_lint = None
        diagnostics = last.diagnostics
        fixable = [d for d in diagnostics if d.fix is not None and (d.fix.safe or unsafe)
                   and _signature(outcome.text, d) not in rejected and (accept is None or accept(d))]
        if not fixable:
            break
        gate = FixGate(outcome.text, check)
        new_text, applied = apply_edits(outcome.text, [d.fix for d in fixable])
        if gate.refusal(new_text) is not None:
            good = []
            for d in fixable:
                single, _ = apply_edits(outcome.text, [d.fix])
                why = gate.refusal(single)
                if why is None:
                    good.append(d)
                else:
                    rejected.add(_signature(outcome.text, d))
                    outcome.dropped.append((d, why))
            new_text, applied = apply_edits(outcome.text, [d.fix for d in good])
            fixable = good
            if good and gate.refusal(new_text) is not None:  # fine alone, refused together: one per round
                new_text, applied = apply_edits(outcome.text, [good[0].fix])
        if new_text == outcome.text:
            break
        outcome.applied.extend(fixable[i] for i in applied)
        outcome.rounds.append((outcome.text, [fixable[i] for i in applied]))
        outcome.text = new_text
        last = None
    final = (last if last is not None else outcome._note(linter.lint(outcome.text, project=project,
                                                                      view=view))).diagnostics
    outcome.remaining = final
    outcome.withheld_unsafe = sum(1 for d in final if d.fix is not None and not d.fix.safe and not unsafe)
    return outcome


def _line_change(text: str, starts: list[int], diag: Diagnostic) -> tuple[Diagnostic, str, str, tuple[str, ...]]:
    """(diagnostic, the lines its fix rewrites before, after, what it adds elsewhere: an import) for a fix
    applied alone to `text`."""
    assert diag.fix is not None
    low = starts[min(diag.line, len(starts)) - 1]
    high = starts[diag.end_line] if diag.end_line < len(starts) else len(text)
    here = [e for e in diag.fix.edits if low <= e.start <= high] or list(diag.fix.edits)
    elsewhere = tuple(e.text.strip() for e in diag.fix.edits if e not in here and e.text.strip())
    start, end = min(e.start for e in here), max(e.end for e in here)
    first = text.rfind("\n", 0, start) + 1
    last = text.find("\n", end)
    last = len(text) if last < 0 else last
    after = text[first:last]
    for edit in sorted(here, key=lambda e: e.start, reverse=True):
        after = after[:edit.start - first] + edit.text + after[edit.end - first:]
    return diag, text[first:last].rstrip("\r"), after.rstrip("\r"), elsewhere


def _signature(text: str, diag: Diagnostic) -> tuple:
    assert diag.fix is not None
    return (diag.code,) + tuple((text[e.start:e.end], e.text) for e in diag.fix.edits)
