"""TFN607 tf1-graph-api-in-eager."""

from __future__ import annotations

import ast
import re

import libcst as cst

from tflint_notes.analysis import canonical
from tflint_notes.rules.migration._shared import GuardedRule
from tflint_notes.screen import FileFacts

# Graph-only TF1 calls and what they raise in eager mode (checked under TF 2.21).
GRAPH_ONLY = {
    "tensorflow.compat.v1.placeholder": "tf.placeholder() is not compatible with eager execution",
    "tensorflow.gradients": "tf.gradients is not supported when eager execution is enabled",
    "tensorflow.compat.v1.gradients": "tf.gradients is not supported when eager execution is enabled",
    "tensorflow.compat.v1.summary.FileWriter": "v1.summary.FileWriter is not compatible with eager execution",
    "tensorflow.compat.v1.summary.merge_all": "Merging tf.summary.* ops is not compatible with eager execution",
}
SAVER = "tensorflow.compat.v1.train.Saver"
# Calls that make the whole module run TF1 graphs: nothing in it is judged.
_GRAPH_MODULE = frozenset({
    "tensorflow.compat.v1.disable_eager_execution", "tensorflow.compat.v1.disable_v2_behavior",
    "tensorflow.compat.v1.disable_resource_variables", "tensorflow.import_graph_def",
    "tensorflow.compat.v1.import_graph_def", "tensorflow.compat.v1.graph_util.import_graph_def",
})
_SESSIONS = frozenset({"tensorflow.compat.v1.Session", "tensorflow.compat.v1.InteractiveSession",
                       "tensorflow.compat.v1.train.MonitoredTrainingSession",
                       "tensorflow.compat.v1.train.MonitoredSession", "tensorflow.compat.v1.train.SingularMonitoredSession"})
_V1_OPTIMIZER_PREFIX = "tensorflow.compat.v1.train."


class Tf1GraphApiInEager(GuardedRule):
    """## What it does
    Flags TF1 graph-only calls in code that runs eagerly, as every TF 2 program does by default:
    `tf.compat.v1.placeholder`, `tf.gradients`, `tf.compat.v1.summary.FileWriter`/`merge_all`,
    `tf.compat.v1.train.Saver()` without a `var_list`, and `.minimize(loss)` of a `tf.compat.v1.train`
    optimizer with a loss tensor instead of a function. Under `import tensorflow.compat.v1 as tf`,
    `tf.placeholder` is such a call.

    Not flagged: a module that calls `tf.compat.v1.disable_eager_execution()` or `disable_v2_behavior()`, or
    that runs graphs it builds (`Session(graph=g)`) or imports (`import_graph_def`); code inside
    `with <graph>.as_default():` or `with tf.compat.v1.Session() as s:`, and functions called from there;
    graph code (`tf.function`), where `tf.gradients` works; a nested function that is only handed to
    another call, not called (`tf.compat.v1.wrap_function(build, [])`, an Estimator's
    `serving_input_receiver_fn`, TF-Hub's `module_fn`: the receiver runs it, often in its own graph);
    `minimize(functools.partial(loss_fn, x))`, a callable loss; branches on `tf.executing_eagerly()` or the
    version; TF1-only tests (decorated `@test_util.run_v1_only`, `@deprecated_graph_mode_only`,
    `@run_deprecated_v1` or `@unittest.skipIf(tf.executing_eagerly(), ...)`, on the method or its class, or
    that start with `if tf.executing_eagerly(): self.skipTest(...)`); projects that declare TensorFlow 1
    (`tensorflow<2`: graphs are the default there). The TF1 APIs that work eagerly (`get_variable`, `variable_scope`, `get_or_create_global_step`,
    `Saver(var_list)`, `minimize(lambda: loss)`) are not flagged.

    ## Why is this bad?
    The call raises `RuntimeError` as soon as it runs: `tf.placeholder() is not compatible with eager
    execution`, `tf.gradients is not supported when eager execution is enabled`, ... TF1 programs ported
    by renaming `tf.` to `tf.compat.v1.` (what `tf_upgrade_v2` does) stop at the first of these.

    ## Example
    ```python
    x = tf.compat.v1.placeholder(tf.float32, [None, 3])
    w = tf.Variable(tf.ones([3, 1]))
    grads = tf.gradients(tf.reduce_sum(x @ w), [w])
    ```

    ## Use instead
    ```python
    w = tf.Variable(tf.ones([3, 1]))

    @tf.function
    def grads(x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(x @ w)
        return tape.gradient(loss, [w])
    ```
    or keep the TF1 program whole: call `tf.compat.v1.disable_eager_execution()` first.

    ## Fix safety
    No automatic fix: both ways out change the program's structure. The message names them.

    ## Proof
    [`fixtures/TFN607/`](../fixtures/TFN607/): `before.py` raises the RuntimeError; one `corrected.py`
    rewrites it for TF 2 (tf.function + GradientTape), another keeps TF1 with
    `disable_eager_execution()`; both run.
    """

    code = "TFN607"
    name = "tf1-graph-api-in-eager"
    fails_from = (2, 0)  # TF1 runs graphs by default
    summary = "TF1 graph-only call (placeholder, tf.gradients, FileWriter, Saver(), minimize(tensor)) in eager code"
    triggers = ("placeholder", "gradients", "FileWriter", "merge_all", "Saver", "minimize")
    expected_errors = ("RuntimeError",)

    @staticmethod
    def screen(facts: FileFacts) -> bool:
        candidates = []
        optimizers = None
        for c in facts.calls:
            call = c.node
            func = call.func
            names = facts.canonical_names(func)
            if not names.isdisjoint(_GRAPH_MODULE) or (not names.isdisjoint(_SESSIONS) and any(
                    k.arg == "graph" for k in call.keywords)):
                return False  # the module runs TF1 graphs: nothing in it is judged
            if not names.isdisjoint(GRAPH_ONLY) or SAVER in names:
                candidates.append(c)
            elif type(func) is ast.Attribute and func.attr == "minimize" and call.args and (
                    type(call.args[0]) is not ast.Lambda):
                receiver = func.value
                if type(receiver) is ast.Call:
                    if any(n.startswith(_V1_OPTIMIZER_PREFIX) for n in facts.canonical_names(receiver.func)):
                        candidates.append(c)
                elif type(receiver) is ast.Name:
                    if optimizers is None:
                        optimizers = _v1_optimizer_names(facts)
                    if receiver.id in optimizers:
                        candidates.append(c)
        if not candidates:
            return False
        reached = _maybe_reached(facts)
        for c in candidates:
            func = c.func
            while func is not None and func.name is None:
                func = func.parent  # a lambda counts as part of the function that defines it
            if func is None or func in reached:
                return True
        return False

    def __init__(self, ctx, sink):
        super().__init__(ctx, sink)
        self._graph_blocks = 0
        self._graph_module = False
        self._pending: list = []  # (node, message, function, top)
        self._optimizers: dict = {}  # (function, name) -> True for tf.compat.v1.train optimizers
        self._called_in_graph_blocks: set = set()

    def visit_With(self, node: cst.With) -> None:
        if self._is_graph_block(node):
            self._graph_blocks += 1

    def leave_With(self, node: cst.With) -> None:
        if self._is_graph_block(node):
            self._graph_blocks -= 1

    def _is_graph_block(self, node: cst.With) -> bool:
        for item in node.items:
            call = item.item
            if not isinstance(call, cst.Call):
                continue
            if isinstance(call.func, cst.Attribute) and call.func.attr.value in ("as_default", "graph_mode"):
                return True
            qual = self.ctx.resolve(call.func)
            if qual is not None and canonical(qual) in _SESSIONS:
                return True
        return False

    def leave_Assign(self, node: cst.Assign) -> None:
        value = node.value
        if not isinstance(value, cst.Call):
            return
        qual = self.ctx.resolve(value.func)
        is_optimizer = qual is not None and canonical(qual).startswith(_V1_OPTIMIZER_PREFIX) and (
            canonical(qual).endswith("Optimizer"))
        for target in node.targets:
            if isinstance(target.target, cst.Name):
                key = (self.ctx.current_function, target.target.value)
                if is_optimizer:
                    self._optimizers[key] = True
                else:
                    self._optimizers.pop(key, None)

    def visit_Call(self, node: cst.Call) -> None:
        qual = self.ctx.resolve(node.func)
        name = canonical(qual) if qual is not None else None
        if name in _GRAPH_MODULE or (name in _SESSIONS and any(
                a.keyword is not None and a.keyword.value == "graph" for a in node.args)):
            self._graph_module = True
            return
        if self._graph_blocks:
            if isinstance(node.func, cst.Name):
                self._called_in_graph_blocks.add(node.func.value)
            return
        if self.guarded:
            return
        message = None
        if name in GRAPH_ONLY:
            message = f"{GRAPH_ONLY[name]} (RuntimeError when this line runs)"
        elif name == SAVER and not any(a.keyword is None or a.keyword.value == "var_list" for a in node.args):
            message = ("tf.compat.v1.train.Saver() without var_list needs graph mode (RuntimeError: `var_list` must "
                       "specify a list or dict of variables to save)")
        elif self._is_v1_minimize(node):
            message = ("a tf.compat.v1 optimizer's minimize(loss) needs graph mode when loss is a tensor (RuntimeError: "
                       "`loss` ... should be a function when eager execution is enabled)")
        if message is None:
            return
        message += ("; TF 2 runs eagerly: rewrite it for TF 2 (tf.function, tf.GradientTape, tf.summary, "
                    "tf.train.Checkpoint) or call tf.compat.v1.disable_eager_execution() at the start of the program")
        self._pending.append((node, message, self.ctx.current_function, self.ctx.current_top))

    def _is_v1_minimize(self, node: cst.Call) -> bool:
        func = node.func
        if not (isinstance(func, cst.Attribute) and func.attr.value == "minimize" and node.args):
            return False
        loss = node.args[0].value
        if isinstance(loss, cst.Lambda):
            return False
        if isinstance(loss, cst.Call) and (self.ctx.resolve(loss.func) or "") == "functools.partial":
            return False  # functools.partial(loss_fn, x) is a callable: fine eagerly
        if isinstance(loss, cst.Name) and (self.ctx.module_function(loss.value) is not None or any(
                loss.value in f.local_functions for f in self.ctx.function_stack)):
            return False  # a function: fine eagerly
        receiver = func.value
        if isinstance(receiver, cst.Call):
            qual = self.ctx.resolve(receiver.func)
            return qual is not None and canonical(qual).startswith(_V1_OPTIMIZER_PREFIX)
        if isinstance(receiver, cst.Name):
            func_info = self.ctx.current_function
            while True:
                if (func_info, receiver.value) in self._optimizers:
                    return True
                if func_info is None:
                    return False
                func_info = func_info.parent
        return False

    def finish(self) -> None:
        if self._graph_module or not self._pending:
            return
        in_graph_blocks = self._reached(self._called_in_graph_blocks)
        entries = self._entry_points()
        for node, message, function, top in self._pending:
            if function is not None and self.ctx.in_graph(function):
                continue  # tf.function: tf.gradients works, the rest is not this rule's business
            if self.ctx.runs_only_in_graph_mode(function):
                continue  # a TF1-only test (`@run_v1_only`, skipped when eager): it runs in graph mode
            if function is not None:
                if _within(function, in_graph_blocks) or not _reached(function, entries):
                    # Called under a graph/session block, or a library function whose callers (in other
                    # modules) decide the mode: not judged.
                    continue
            self.ctx.current_top = top
            self.report(node, message)
        self.ctx.current_top = None

    def _entry_points(self) -> set:
        """Functions this module runs eagerly by itself: `main`, tests (`test*`), and what module-level code
        calls, transitively; not those marked to run in graph mode (`@run_deprecated_v1`, graph fixtures)."""
        roots = set()
        for info in self.ctx.defined_functions():
            if info.name is not None and (info.name == "main" or info.name.startswith("test")) and not _graph_decorated(info):
                roots.add(info)
        for caller, callee in self.ctx.calls():
            if caller is None:
                roots.add(callee)
        return self._close(roots)

    def _reached(self, names: set) -> set:
        return self._close({f for f in map(self.ctx.module_function, names) if f is not None})

    def _close(self, reached: set) -> set:
        """`reached` and every function of the module they call, transitively."""
        reached = {f for f in reached if not _graph_decorated(f)}
        changed = True
        while changed:
            changed = False
            for caller, callee in self.ctx.calls():
                if caller is None or not _within(caller, reached):
                    continue
                if callee not in reached and not _graph_decorated(callee):
                    reached.add(callee)
                    changed = True
        return reached



def _v1_optimizer_names(facts: FileFacts) -> set:
    """Names the file assigns a tf.compat.v1.train optimizer to (in any scope)."""
    names = set()
    for node, _ in facts.assignments:
        if type(node) is ast.Assign and type(node.value) is ast.Call and any(
                n.startswith(_V1_OPTIMIZER_PREFIX) and n.endswith("Optimizer")
                for n in facts.canonical_names(node.value.func)):
            names.update(t.id for t in node.targets if type(t) is ast.Name)
    return names


def _maybe_reached(facts: FileFacts) -> set:
    """Every def that eager code of this module may run (a superset of `_entry_points`, whatever the
    decorators): `main`, `test*`, what module-level code calls by name, and what those call by name or as
    `self.<method>`, transitively (names matched across every class)."""
    roots = [f for f in facts.functions if f.name is not None and (f.name == "main" or f.name.startswith("test"))]
    for c in facts.calls:
        if c.func is None and type(c.node.func) is ast.Name:
            roots.extend(f for f in facts.functions_named.get(c.node.func.id, ()) if f.parent is None)
    reached: set = set()
    while roots:
        func = roots.pop()
        if func in reached:
            continue
        reached.add(func)
        for call in func.calls:
            callee = call.func
            if type(callee) is ast.Name:
                roots.extend(facts.functions_named.get(callee.id, ()))
            elif type(callee) is ast.Attribute and type(callee.value) is ast.Name and callee.value.id == "self":
                roots.extend(facts.methods_named.get(callee.attr, ()))
        roots.extend(f for f in facts.children_of(func) if f.name is None)  # its lambdas run with it
    return reached


def _within(function, functions: set) -> bool:
    while function is not None:
        if function in functions:
            return True
        function = function.parent
    return False


def _reached(function, entries: set) -> bool:
    """Does eager code run this function?  A nested `def` only when it is called (it is then in `entries`):
    one that is only passed on (`tf.compat.v1.wrap_function(build, [])`, an Estimator's
    `serving_input_receiver_fn`, `hub.create_module_spec(module_fn)`) runs where the receiver decides, often
    in its own graph.  A lambda counts as part of the function that defines it."""
    while function is not None:
        if function in entries:
            return True
        if function.name is not None and function.parent is not None:
            return False
        function = function.parent
    return False


_GRAPH_DECORATOR = re.compile(r"(?i)(graph|v1|deprecated|session)")


def _graph_decorated(info) -> bool:
    node = info.node
    if not isinstance(node, cst.FunctionDef):
        return False
    return any(_GRAPH_DECORATOR.search(cst.Module(body=[]).code_for_node(d.decorator)) for d in node.decorators)
