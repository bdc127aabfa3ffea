"""Autodiff rules (TFN4xx): gradients that silently come back None, tapes used twice.

The analysis is deliberately local: within one function body (or the module level), in statement
order, it tracks which names hold a GradientTape, a tf.Variable/tf.constant (and whether its literal is
an int), and which names were computed after a tape's `with` block ended.  Rebinding a name forgets
what was known about it.  Constants of enclosing scopes (the module, an outer function) reach a
function that reads them without binding the name; nothing else flows between functions.  Loops are
tracked so that one gradient call site that runs twice counts twice.  When unsure, the rules stay silent.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

import libcst as cst

from tflint_notes.analysis import MODULE, canonical, names_bound_by_target
from tflint_notes.cstwalk import contains
from tflint_notes.fixes import append_call_argument
from tflint_notes.results import Edit
from tflint_notes.rule import PendingFix, Replacement, Rule
from tflint_notes.screen import FileFacts

_GRADIENT_METHODS = ("gradient", "jacobian", "batch_jacobian")


def _gradient_calls(facts: FileFacts) -> int:
    """How many `<x>.gradient/jacobian/batch_jacobian(...)` calls the file has (the rules' screen)."""
    return sum(1 for c in facts.calls if type(c.node.func) is ast.Attribute and c.node.func.attr in _GRADIENT_METHODS)


def _gradient_sources(facts: FileFacts) -> set:
    """Names passed as the sources (second argument) of `<x>.gradient(...)`, alone or in a list/tuple."""
    names: set = set()
    for c in facts.calls:
        func = c.node.func
        if type(func) is not ast.Attribute or func.attr != "gradient":
            continue
        value = c.node.args[1] if len(c.node.args) > 1 else next(
            (k.value for k in c.node.keywords if k.arg == "sources"), None)
        elements = value.elts if type(value) in (ast.List, ast.Tuple) else [value]
        names.update(e.id for e in elements if type(e) is ast.Name)
    return names


def _bound_to(facts: FileFacts, callees: tuple, first_argument) -> set:
    """Names assigned a call of one of `callees` (canonical names) whose first argument passes the test."""
    names: set = set()
    for node, _ in facts.assignments:
        value = getattr(node, "value", None)
        if type(node) is not ast.Assign or type(value) is not ast.Call or not value.args:
            continue
        if first_argument is not None and not first_argument(value.args[0]):
            continue
        if any(canonical(q) in callees for q in facts.qualnames(value.func)):
            for target in node.targets:
                names.update(t.id for t in ast.walk(target) if type(t) is ast.Name)
    return names


def _is_int_literal(node: ast.AST) -> bool:
    if type(node) is ast.UnaryOp:
        return _is_int_literal(node.operand)
    if type(node) in (ast.List, ast.Tuple):
        return bool(node.elts) and all(_is_int_literal(e) for e in node.elts)
    return type(node) is ast.Constant and type(node.value) is int


def _target_assigned_after_tape(facts: FileFacts) -> bool:
    ends: dict = {}  # tape name -> the last lines of its `with` blocks
    for node in ast.walk(facts.tree):
        if type(node) in (ast.With, ast.AsyncWith):
            for item in node.items:
                if type(item.optional_vars) is ast.Name and type(item.context_expr) is ast.Call and any(
                        canonical(q) == "tensorflow.GradientTape" for q in facts.qualnames(item.context_expr.func)):
                    ends.setdefault(item.optional_vars.id, []).append(node.end_lineno or node.lineno)
    if not ends:
        return False
    assigned: dict = {}
    for node, _ in facts.assignments:
        for target in node.targets if type(node) is ast.Assign else [node.target]:
            for name in ast.walk(target):
                if type(name) is ast.Name:
                    assigned.setdefault(name.id, []).append(node.lineno)
    for c in facts.calls:
        func = c.node.func
        if (type(func) is ast.Attribute and func.attr in _GRADIENT_METHODS and type(func.value) is ast.Name
                and func.value.id in ends and c.node.args and type(c.node.args[0]) is ast.Name):
            if any(line > end for line in assigned.get(c.node.args[0].id, ()) for end in ends[func.value.id]):
                return True
    return False


_FLOAT_DTYPES = ("float16", "float32", "float64", "bfloat16", "half", "double", "complex64", "complex128")


@dataclass(eq=False)
class Tape:
    name: str
    creation: cst.Call
    persistent: bool
    with_node: cst.With | None
    closed: bool = False
    gradient_calls: list = field(default_factory=list)
    watched: set = field(default_factory=set)
    watches_unknown: bool = False  # watched something we cannot name (`tape.watch(params)`, map_structure)
    reopened: list = field(default_factory=list)  # later `with tape:` blocks
    assigned_after: set = field(default_factory=set)
    assigned_inside: set = field(default_factory=set)
    loops: tuple = ()  # the loops (of its function) the tape is created in


@dataclass(eq=False)
class Source:
    """A name bound to tf.Variable(...) / tf.constant(...)."""

    kind: str  # "Variable" | "constant"
    call: cst.Call
    int_literals: list  # Integer nodes to make float (empty if the value is not an int literal)
    explicit_dtype: str | None  # "float", "int" or None
    defined_before: set = field(default_factory=set)  # tapes whose with block started after this


def _dtype_kind(ctx, call: cst.Call) -> str | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "dtype":
            text = ctx.resolve(arg.value) or (arg.value.value if isinstance(arg.value, cst.SimpleString) else None)
            if text is None:
                return "unknown"
            last = text.strip("'\"").rsplit(".", 1)[-1]
            return "float" if last in _FLOAT_DTYPES else "int"
    return None


def _int_literals(node: cst.BaseExpression) -> list | None:
    """The Integer nodes of an int literal (or nested list/tuple of them); None if not such a literal."""
    if isinstance(node, cst.Integer):
        return [node] if node.value.replace("_", "").isdigit() else None
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, (cst.Minus, cst.Plus)):
        return _int_literals(node.expression)
    if isinstance(node, (cst.List, cst.Tuple)) and node.elements:
        out = []
        for element in node.elements:
            inner = _int_literals(element.value)
            if inner is None:
                return None
            out.extend(inner)
        return out
    return None


def _unpacks_recorded(value, tape: Tape) -> bool:
    """Is `value` only names (or string-keyed items of names) that the tape's block computed?"""
    if value is None:
        return False
    parts = [e.value for e in value.elements] if isinstance(value, (cst.Tuple, cst.List)) else [value]
    for part in parts:
        if isinstance(part, cst.Subscript) and len(part.slice) == 1 and isinstance(
                getattr(part.slice[0].slice, "value", None), cst.SimpleString):
            part = part.value  # outputs["loss"]: a dict of the recorded tensors
        if not (isinstance(part, cst.Name) and part.value in tape.assigned_inside
                and part.value not in tape.assigned_after):
            return False
    return True


class _Facts:
    def __init__(self):
        self.tapes: dict[str, Tape] = {}
        self.sources: dict[str, Source] = {}
        self.open_tapes: list[Tape] = []


class _AutodiffRule(Rule):
    """Shared tracking; each TFN4xx rule reads the facts and reports its own findings."""

    def __init__(self, ctx, sink):
        super().__init__(ctx, sink)
        self._facts: dict = {}

    def facts(self) -> _Facts:
        key = self.ctx.current_function
        found = self._facts.get(key)
        if found is None:
            found = self._facts[key] = _Facts()
        return found

    def visit_With(self, node: cst.With) -> None:
        facts = self.facts()
        for item in node.items:
            call = item.item
            if not isinstance(call, cst.Call) or item.asname is None or not isinstance(item.asname.name, cst.Name):
                continue
            if self._is_tape(call):
                tape = Tape(item.asname.name.value, call, self._persistent(call), node, loops=self.ctx.current_loops())
                facts.tapes[tape.name] = tape
                facts.open_tapes.append(tape)
                for source in facts.sources.values():
                    source.defined_before.add(tape)
        for item in node.items:  # `with tape:` records again (the loss-scaling pattern)
            if isinstance(item.item, cst.Name) and item.item.value in facts.tapes:
                tape = facts.tapes[item.item.value]
                # a (released) tape records anew when entered: inside a loop, once per iteration
                tape.loops = tuple(dict.fromkeys((*tape.loops, *self.ctx.current_loops())))
                if tape.closed and tape not in facts.open_tapes:
                    tape.closed = False
                    tape.reopened.append(node)
                    facts.open_tapes.append(tape)

    def leave_With(self, node: cst.With) -> None:
        facts = self.facts()
        for tape in list(facts.open_tapes):
            if tape.with_node is node or (tape.reopened and tape.reopened[-1] is node):
                tape.closed = True
                facts.open_tapes.remove(tape)

    def _is_tape(self, call: cst.Call) -> bool:
        qual = self.ctx.resolve(call.func)
        return qual is not None and canonical(qual) == "tensorflow.GradientTape"

    @staticmethod
    def _persistent(call: cst.Call) -> bool:
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value == "persistent":
                return not (isinstance(arg.value, cst.Name) and arg.value.value == "False")
        return False

    def leave_Assign(self, node: cst.Assign) -> None:
        names = [n for t in node.targets for n in names_bound_by_target(t.target)]
        self._assigned(names, node.value if len(node.targets) == 1 else None)

    def leave_AugAssign(self, node: cst.AugAssign) -> None:
        self._assigned(list(names_bound_by_target(node.target)), None, augmented=True)

    def leave_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._assigned(list(names_bound_by_target(node.target)), node.value)

    def _assigned(self, names: list, value, augmented: bool = False) -> None:
        facts = self.facts()
        for name in names:
            if not augmented:
                facts.tapes.pop(name, None)
                facts.sources.pop(name, None)
            for tape in facts.tapes.values():
                if tape.with_node is None:
                    continue
                if tape in facts.open_tapes or (not augmented and _unpacks_recorded(value, tape)):
                    # `out, aux = out` / `loss = outputs["loss"]`: Python unpacking of a value the tape
                    # recorded computes nothing new
                    tape.assigned_inside.add(name)
                    tape.assigned_after.discard(name)
                elif tape.closed:
                    tape.assigned_after.add(name)
        if len(names) != 1 or not isinstance(value, cst.Call) or augmented:
            return
        name = names[0]
        qual = self.ctx.resolve(value.func)
        if qual is None:
            return
        q = canonical(qual)
        if q == "tensorflow.GradientTape":
            facts.tapes[name] = Tape(name, value, self._persistent(value), None, loops=self.ctx.current_loops())
        elif q in ("tensorflow.Variable", "tensorflow.constant") and value.args and value.args[0].keyword is None:
            literals = _int_literals(value.args[0].value) or []
            facts.sources[name] = Source(q.rsplit(".", 1)[-1], value, literals, _dtype_kind(self.ctx, value))

    def gradient_call(self, node: cst.Call) -> tuple[Tape, str] | None:
        func = node.func
        if not (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name)):
            return None
        tape = self.facts().tapes.get(func.value.value)
        if tape is None:
            return None
        return tape, func.attr.value

    @staticmethod
    def sources_of(node: cst.Call) -> list[str]:
        """Names passed as `sources` (second argument) of tape.gradient: a name or a list/tuple of names."""
        arg = node.args[1] if len(node.args) > 1 and node.args[1].keyword is None else next(
            (a for a in node.args if a.keyword is not None and a.keyword.value == "sources"), None)
        if arg is None:
            return []
        value = arg.value
        if isinstance(value, cst.Name):
            return [value.value]
        if isinstance(value, (cst.List, cst.Tuple)):
            return [e.value.value for e in value.elements if isinstance(e.value, cst.Name)]
        return []


class IntegerGradientSource(_AutodiffRule):
    """## What it does
    Flags a `tf.Variable(<int literal>)` or `tf.constant(<int literal>)` without a float `dtype`
    that is later used as a source of `tape.gradient(...)` in the same function.

    ## Why is this bad?
    Gradients are only defined for floating-point sources. `tf.Variable(3)` is an `int32` variable,
    so `tape.gradient(y, x)` returns `None` — silently, with at most a log warning — and the training
    step that follows does nothing or crashes on the `None`.

    ## Example
    ```python
    x = tf.Variable(3)
    with tf.GradientTape() as tape:
        y = x * x
    tape.gradient(y, x)  # None
    ```

    ## Use instead
    ```python
    x = tf.Variable(3.0)
    ```

    ## Fix safety
    **Safe**: the int literal becomes a float literal (`3` → `3.0`, also inside lists). With an explicit
    integer `dtype=` the finding has no fix. `dtype=tf.float32` on an int literal is already fine and is
    not flagged.

    ## Proof
    [`fixtures/TFN401/`](../fixtures/TFN401/): `before.py` gets a `None` gradient; `after.py` gets
    d(x²)/dx at 3.0 = 6.0.
    """

    code = "TFN401"
    fix_kind = "safe"
    name = "integer-gradient-source"
    summary = "integer tf.Variable/tf.constant used as a gradient source (gradient is None)"

    @staticmethod
    def screen(facts: FileFacts) -> bool:
        # A name bound to tf.Variable/tf.constant of an integer literal, passed as a gradient's source.
        return bool(_gradient_sources(facts) & _bound_to(facts, ("tensorflow.Variable", "tensorflow.constant"),
                                                       _is_int_literal))
    triggers = ("GradientTape",)

    def visit_Call(self, node: cst.Call) -> None:
        found = self.gradient_call(node)
        if found is None or found[1] != "gradient":
            return
        facts = self.facts()
        for name in self.sources_of(node):
            source = facts.sources.get(name)
            if source is None or not source.int_literals or source.explicit_dtype == "float":
                continue
            if source.explicit_dtype == "unknown":
                continue
            fix = None
            if source.explicit_dtype is None:
                fix = PendingFix([Replacement(lit, lit.value + ".0") for lit in source.int_literals], safe=True,
                                 description="make the literal a float")
            self.report(source.call, f"`{name}` is an integer tf.{source.kind} used as a gradient source: "
                                     f"tape.gradient returns None for it; use a float literal or dtype=tf.float32",
                        fix=fix)


class UnwatchedConstant(_AutodiffRule):
    """## What it does
    Flags `tape.gradient(y, c)` where `c` is a `tf.constant(...)` that was never passed to
    `tape.watch(c)`. The constant may be made in the same function, in an enclosing function, or at
    module level before the function (`POINT = tf.constant(...)` differentiated inside `def loss():`),
    as long as the function does not bind the name itself.

    ## Why is this bad?
    A `GradientTape` only records operations on *trainable variables* by itself. A constant is
    not watched, so the gradient with respect to it is silently `None`.

    ## Example
    ```python
    x = tf.constant(3.0)
    with tf.GradientTape() as tape:
        y = x * x
    tape.gradient(y, x)  # None
    ```

    ## Use instead
    ```python
    x = tf.constant(3.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    ```

    ## Fix safety
    **Safe**: inserts `tape.watch(c)` as the first statement of the tape's `with` block, when `c` is
    defined before the block (otherwise there is no fix).

    ## Proof
    [`fixtures/TFN402/`](../fixtures/TFN402/): `before.py` gets `None`; `after.py` gets 6.0.
    """

    code = "TFN402"
    fix_kind = "safe"
    name = "unwatched-constant"
    summary = "gradient with respect to a tf.constant that is never watched (gradient is None)"

    @staticmethod
    def screen(facts: FileFacts) -> bool:
        # A name bound to a tf.constant, passed as a gradient's source (watching is judged on the tree).
        return bool(_gradient_sources(facts) & _bound_to(facts, ("tensorflow.constant",), None))
    triggers = ("GradientTape",)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        facts = self.facts()
        for arg in node.args:  # `tree.map_structure(tape.watch, params)`, `tf.nest.map_structure(tape.watch, ...)`
            value = arg.value
            if isinstance(value, cst.Attribute) and value.attr.value == "watch" and isinstance(value.value, cst.Name):
                passed = facts.tapes.get(value.value.value)
                if passed is not None:
                    passed.watches_unknown = True
        if isinstance(func, cst.Attribute) and func.attr.value == "watch" and isinstance(func.value, cst.Name):
            tape = facts.tapes.get(func.value.value)
            if tape is not None and node.args:
                watched = node.args[0].value
                elements = [e.value for e in watched.elements] if isinstance(watched, (cst.List, cst.Tuple)) else [watched]
                for element in elements:
                    if isinstance(element, cst.Name) and element.value in facts.sources:
                        tape.watched.add(element.value)
                    else:
                        tape.watches_unknown = True  # a list held in a variable, an attribute ...
            return
        found = self.gradient_call(node)
        if found is None or found[1] != "gradient":
            return
        tape = found[0]
        for name in self.sources_of(node):
            source, outer = facts.sources.get(name), False
            if source is None:
                source, outer = self._outer_source(name), True
            if source is None or source.kind != "constant" or name in tape.watched or tape.watches_unknown:
                continue
            fix = None
            if tape.with_node is not None and (outer or tape in source.defined_before):
                fix = self._fix(tape, name)
            self.report(node, f"`{name}` is a tf.constant that {tape.name} never watches: the gradient with respect "
                              f"to it is None; call {tape.name}.watch({name}) inside the with block", fix=fix)

    def _outer_source(self, name: str) -> Source | None:
        """A tf.constant of an enclosing function or of the module, made before this function was defined,
        that this function reads without binding the name itself."""
        scope = self.ctx.binding_scope(name)
        if scope is self.ctx.current_function:
            return None  # a local or a parameter
        found = self._facts.get(None if scope is MODULE else scope)
        return found.sources.get(name) if found is not None else None

    @staticmethod
    def _fix(tape: Tape, name: str) -> PendingFix | None:
        body = tape.with_node.body
        if not isinstance(body, cst.IndentedBlock) or not body.body:
            return None
        first = body.body[0]

        def edits(loc) -> list[Edit]:
            leading = list(first.leading_lines)
            comment_at = next((i for i, line in enumerate(leading) if line.comment is not None), len(leading))
            line = loc.first_line(first) - (len(leading) - comment_at)
            indent = loc.indent_of(loc.first_line(first))
            at = loc.line_start(line)
            return [Edit(at, at, f"{indent}{tape.name}.watch({name}){loc.newline}")]

        return PendingFix([], safe=True, description=f"watch {name}", build_edits=edits)


def _runs_once(loop) -> bool:
    """A for/while loop whose body ends its first iteration unconditionally (`break`, `return`, `raise`)."""
    if not isinstance(loop, (cst.For, cst.While)):
        return False
    body = loop.body
    if isinstance(body, cst.SimpleStatementSuite):  # for w in ws: g = tape.gradient(l, w); break
        return any(isinstance(small, (cst.Break, cst.Return, cst.Raise)) for small in body.body)
    for stmt in body.body:
        if isinstance(stmt, cst.SimpleStatementLine) and any(
                isinstance(small, (cst.Break, cst.Return, cst.Raise)) for small in stmt.body):
            return True
    return False


def _in_repeated_part(loop, node: cst.CSTNode) -> bool:
    """Is `node` in the part of the loop that runs per iteration?  A `for` statement's iterable and `else`,
    a `while`'s `else` and a comprehension's first iterable run once."""
    once = []
    if isinstance(loop, cst.For):
        once = [loop.iter, loop.orelse]
    elif isinstance(loop, cst.While):
        once = [loop.orelse]
    elif getattr(loop, "for_in", None) is not None:
        once = [loop.for_in.iter]
    return not any(part is not None and contains(part, node) for part in once)


def _exclusive(path_a: tuple, path_b: tuple) -> bool:
    """Two points in different branches of the same `if` never both run."""
    branches = dict(path_a)
    return any(node in branches and branches[node] != branch for node, branch in path_b)


class TapeReused(_AutodiffRule):
    """## What it does
    Flags a second `.gradient(...)`/`.jacobian(...)` call on a `GradientTape` created without
    `persistent=True`, and a single call that runs more than once: inside a `for`/`while` loop or a
    comprehension that does not also create the tape (`[tape.gradient(loss, v) for v in weights]`).
    Not flagged: calls in the two branches of an `if`/`else`, a tape created inside the loop, a loop
    whose body ends with an unconditional `break`/`return`/`raise`.

    ## Why is this bad?
    A non-persistent tape releases its resources after the first gradient computation; the second
    call raises `RuntimeError: A non-persistent GradientTape can only be used to compute one set of
    gradients (or jacobians)`.

    ## Example
    ```python
    with tf.GradientTape() as tape:
        y = x * x
        z = y * y
    dy = tape.gradient(y, x)
    dz = tape.gradient(z, x)  # RuntimeError
    grads = [tape.gradient(y, v) for v in (x, w)]  # RuntimeError on the second element
    ```

    ## Use instead
    ```python
    with tf.GradientTape(persistent=True) as tape:
        ...
    ```

    ## Fix safety
    **Safe**: adds `persistent=True` to the `tf.GradientTape(...)` call (or turns `persistent=False`
    into `True`). A persistent tape keeps its resources until it is deleted.

    ## Proof
    [`fixtures/TFN403/`](../fixtures/TFN403/): `before.py` raises the RuntimeError; `after.py` gets
    both gradients.
    """

    code = "TFN403"
    expected_errors = ('RuntimeError',)
    fix_kind = "safe"
    name = "tape-reused"
    summary = "non-persistent GradientTape used for two gradient computations"

    @staticmethod
    def screen(facts: FileFacts) -> bool:
        return _gradient_calls(facts) >= 2 or any(
            c.in_loop and type(c.node.func) is ast.Attribute and c.node.func.attr in _GRADIENT_METHODS
            for c in facts.calls)
    triggers = ("GradientTape",)

    def __init__(self, ctx, sink):
        super().__init__(ctx, sink)
        self._branches: list = []  # [if node, "body" | "else"] from outer to inner

    def visit_If(self, node: cst.If) -> None:
        if self._branches and self._branches[-1][0].orelse is node:
            self._branches[-1][1] = "else"  # an `elif` is in the else branch of the outer `if`
        self._branches.append([node, "body"])

    def visit_Else(self, node: cst.Else) -> None:
        if self._branches:
            self._branches[-1][1] = "else"

    def leave_If(self, node: cst.If) -> None:
        self._branches.pop()

    def visit_Call(self, node: cst.Call) -> None:
        found = self.gradient_call(node)
        if found is None:
            return
        tape, method = found
        if method not in _GRADIENT_METHODS:
            return
        path = tuple((n, b) for n, b in self._branches)
        if any(_exclusive(path, earlier) for _, earlier in tape.gradient_calls):
            return  # if/else: only one of the two runs
        tape.gradient_calls.append((node, path))
        if tape.persistent:
            return
        loop = next((loop for loop in self.ctx.current_loops() if loop not in tape.loops and not _runs_once(loop)
                     and _in_repeated_part(loop, node)), None)
        if loop is not None and len(tape.gradient_calls) == 1:
            tape.gradient_calls.append((node, path))  # it runs again: a later call site is not a new finding
            kind = "comprehension" if not isinstance(loop, (cst.For, cst.While)) else f"`{type(loop).__name__.lower()}` loop"
            self.report(node, f".{method}() on {tape.name}, a GradientTape without persistent=True, inside a {kind} "
                              f"that does not create the tape: the second iteration raises RuntimeError (a "
                              f"non-persistent tape computes one set of gradients); create the tape inside the "
                              f"loop or with persistent=True", fix=self._fix(tape.creation))
            return
        if len(tape.gradient_calls) != 2:
            return
        self.report(node, f"second .{method}() on {tape.name}, a GradientTape without persistent=True: raises "
                          f"RuntimeError (a non-persistent tape computes one set of gradients); create it with "
                          f"persistent=True", fix=self._fix(tape.creation))

    @staticmethod
    def _fix(creation: cst.Call) -> PendingFix:
        explicit = next((a for a in creation.args if a.keyword is not None and a.keyword.value == "persistent"), None)
        if explicit is not None:
            return PendingFix([Replacement(explicit.value, "True")], safe=True, description="persistent=True")
        return PendingFix([], safe=True, description="persistent=True",
                          build_edits=lambda loc: append_call_argument(loc, creation, "persistent=True"))


class TargetOutsideTape(_AutodiffRule):
    """## What it does
    Flags `tape.gradient(loss, ...)` where `loss` was computed *after* the tape's `with` block ended.

    ## Why is this bad?
    The tape only records operations executed inside its `with` block. A loss computed afterwards is
    not connected to the recorded computation, so every gradient is silently `None`.

    ## Example
    ```python
    with tf.GradientTape() as tape:
        y = x * x
    loss = y + 1.0
    tape.gradient(loss, x)  # None
    ```

    ## Use instead
    ```python
    with tf.GradientTape() as tape:
        y = x * x
        loss = y + 1.0
    tape.gradient(loss, x)
    ```

    ## Fix safety
    No automatic fix: moving statements into the block may change what else they do.

    ## Proof
    [`fixtures/TFN404/`](../fixtures/TFN404/): `before.py` gets `None`; `corrected.py` gets 6.0.
    """

    code = "TFN404"
    name = "target-outside-tape"
    summary = "gradient target computed after the tape's with block (gradients are None)"

    @staticmethod
    def screen(facts: FileFacts) -> bool:
        # `with tf.GradientTape() as t:` ... then `y = ...` after the block, and `t.gradient(y, ...)`.
        return _gradient_calls(facts) >= 1 and _target_assigned_after_tape(facts)
    triggers = ("GradientTape",)

    def visit_Call(self, node: cst.Call) -> None:
        found = self.gradient_call(node)
        if found is None or found[1] not in _GRADIENT_METHODS or not node.args:
            return
        tape = found[0]
        target = node.args[0].value
        if tape.with_node is None or not tape.closed or not isinstance(target, cst.Name):
            return
        if target.value in tape.assigned_after:
            self.report(node.args[0], f"`{target.value}` is computed after the `with {tape.name}` block ended: the "
                                      f"tape did not record it and every gradient is None; compute it inside the block")
