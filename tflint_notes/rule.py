"""The rule base class.  Subclassing registers a rule: there is no hand-kept list of rules."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, ClassVar

import libcst as cst

if TYPE_CHECKING:
    from tflint_notes.analysis import Analysis, Evidence, FunctionInfo
    from tflint_notes.locator import Locator
    from tflint_notes.results import Edit
    from tflint_notes.screen import FileFacts

REGISTRY: dict[str, type["Rule"]] = {}
_CODE = re.compile(r"^TFN\d{3}$")


@dataclass(eq=False)
class Replacement:
    """Replace the source of `node` (without its own parentheses) by `code`: a string, or a new node
    (generated with the original's indentation, so multi-line nodes stay right)."""

    node: cst.CSTNode
    code: "str | cst.CSTNode"


@dataclass(eq=False)
class PendingFix:
    replacements: list[Replacement]
    safe: bool
    description: str
    add_import: str | None = None  # e.g. "import tensorflow as tf", added after the top imports
    # For fixes that move or insert whole lines: called with a Locator once positions are known;
    # returns the edits, or None if the fix turns out not to be possible.
    build_edits: "Callable[[Locator], list[Edit] | None] | None" = None


@dataclass(eq=False)
class Candidate:
    """A finding as reported during the traversal; the engine turns it into a Diagnostic."""

    rule: "Rule"
    node: cst.CSTNode
    message: str
    fix: PendingFix | None = None
    # Kept only if, once the whole module is known, this function is graph code ...
    graph_function: "FunctionInfo | None" = None
    requires_graph: bool = False
    # ... and this evidence shows a tensor.
    evidence: "Evidence | None" = None
    requires_tensor: bool = False
    top: cst.CSTNode | None = None  # the module-level statement containing `node`
    # (function, parameter, accept): kept only if the parameter turns out to hold a Keras object (see
    # `Analysis.param_keras_object`) that `accept(obj)` takes.
    requires_keras: "tuple | None" = None
    # Nodes whose line numbers the message names: "{line0}", "{line1}", ... are replaced once positions are known.
    lines: tuple = ()


class Rule:
    """One catalogue rule.  Subclasses define `code`, `name`, `message`-building logic and
    `visit_<Node>`/`leave_<Node>` methods; they are called during the shared traversal.

    The class docstring is the rule's documentation page (rules/<code>.md is generated from it).
    """

    code: ClassVar[str] = ""
    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    default_enabled: ClassVar[bool] = True
    #: "safe", "unsafe", "safe/unsafe" (depends on the case) or "none": shown by `rule --all` and the README.
    fix_kind: ClassVar[str] = "none"
    #: The rule cannot fire unless one of these strings occurs in the source (cheap pre-filter).
    triggers: ClassVar[tuple[str, ...]] = ()
    #: `screen(facts) -> bool`: False when the rule surely cannot fire in a file, judged from cheap facts
    #: of CPython's AST (see screen.py); the file is then not parsed for this rule.  None: always parse.
    screen: ClassVar["Callable[[FileFacts], bool] | None"] = None
    #: The rule's condition is syntactic (literal values, table lookups, keyword names, callees resolved through
    #: the imports): its screen is exact, so a file without this finding is never parsed with libcst for it.
    #: The rule page says so; tests/test_screen.py fails when the screen says "maybe" on a fixture program the
    #: rule stays silent on.
    syntactic: ClassVar[bool] = False
    #: The exceptions the flagged code raises at run time: a finding inside `try:` whose handler catches
    #: one of them is defensive code, not a bug, and is not reported.
    expected_errors: ClassVar[tuple[str, ...]] = ()
    #: For a broad opt-in rule (TFN9xx): the default rule it widens.  Where both report the same node,
    #: only the default one is kept.
    narrows: ClassVar[str] = ""
    #: The first TensorFlow release (major, minor) in which the flagged code fails: the rule does not run on
    #: projects whose every allowed TensorFlow is older (TF1 keywords fail from 2.0).  None: any release.
    fails_from: ClassVar["tuple[int, int] | None"] = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not cls.code:
            return  # an abstract helper base
        if not _CODE.match(cls.code):
            raise ValueError(f"bad rule code {cls.code!r} on {cls.__name__}")
        if cls.code in REGISTRY and REGISTRY[cls.code] is not cls:
            raise ValueError(f"rule code {cls.code} registered twice")
        REGISTRY[cls.code] = cls

    def __init__(self, ctx: "Analysis", sink: list[Candidate]):
        self.ctx = ctx
        self._sink = sink

    def finish(self) -> None:
        """Called once after the traversal, for rules that report what they collected."""

    def report(self, node: cst.CSTNode, message: str, *, fix: PendingFix | None = None,
               in_graph: bool = False, evidence: "Evidence | None" = None,
               requires_tensor: bool = False, requires_keras: "tuple | None" = None,
               top: cst.CSTNode | None = None, lines: tuple = ()) -> None:
        """Report a finding at `node`.  `in_graph=True`: only if the enclosing function turns out to be
        graph code; `requires_tensor=True`: only if `evidence` turns out to show a tensor;
        `requires_keras=(function, parameter, accept)`: only if that parameter holds a Keras object `accept`
        takes.  `top`: the module-level statement containing `node`, for findings reported after the
        traversal (`finish`).  `lines`: nodes whose line numbers replace "{line0}", "{line1}", ... in `message`."""
        self._sink.append(Candidate(self, node, message, fix, self.ctx.current_function, in_graph,
                                    evidence, requires_tensor, top or self.ctx.current_top, requires_keras, lines))

    def module_alias_for(self, module: str, preferred: str) -> tuple[str, str | None] | None:
        """The name to write for `module` in a fix and the import line to add if it is not imported.

        Keeps the user's alias (`import tensorflow as tf2` -> "tf2"); None if no name can be used safely.
        """
        ctx = self.ctx
        alias = ctx.module_alias(module)
        if alias is not None and ctx.resolve(cst.Name(alias)) == module:
            return alias, None
        if ctx.resolve(cst.Name(preferred)) == module:  # e.g. a function-local import
            return preferred, None
        if ctx.name_is_free(preferred) and not any(preferred in f.bindings() for f in ctx.function_stack):
            return preferred, f"import {module} as {preferred}"
        return None


def all_rules() -> dict[str, type[Rule]]:
    import tflint_notes.rules  # noqa: F401  (importing the package registers every rule)

    return dict(sorted(REGISTRY.items()))
