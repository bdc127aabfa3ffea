"""TFN608 keras-tensor-in-tf-op."""

from __future__ import annotations

import ast
import functools
import json
from dataclasses import dataclass
from importlib import resources

import libcst as cst

from tflint_notes.analysis import canonical
from tflint_notes.rule import PendingFix, Replacement
from tflint_notes.rules.migration._shared import GuardedRule, dotted_text
from tflint_notes.screen import FileFacts

_INPUTS = frozenset({"keras.Input", "keras.layers.Input"})
_SYMBOLIC_ATTRIBUTES = frozenset({"inputs", "outputs", "input", "output"})
# TensorFlow functions that take any Python structure and never convert it to a tensor.
_NOT_OPS = ("tensorflow.nest.", "tensorflow.is_tensor", "tensorflow.TensorShape", "tensorflow.function",
            "tensorflow.name_scope", "tensorflow.keras.", "tensorflow.python.keras.", "tensorflow.compat.v1.keras.",
            "tensorflow.type_spec_from_value", "tensorflow.get_static_value")
_DTYPES = frozenset({"float16", "float32", "float64", "bfloat16", "int8", "int16", "int32", "int64", "uint8",
                     "uint16", "uint32", "uint64", "bool", "complex64", "complex128", "string"})


class _Scope:
    """One function (or the module with its class bodies) as the screen sees it."""

    __slots__ = ("params", "bindings", "sinks", "calls", "symbolic")

    def __init__(self, params=()):
        self.params = list(params)  # a module-level def's parameters, in order (symbolic if a call site says so)
        self.bindings: list = []  # (target names, value)
        self.sinks: list = []  # tf.*/np.* calls
        self.calls: list = []  # (module function name, call) calls by plain name
        self.symbolic: set = set()


def _may_fire(facts: FileFacts) -> bool:
    """The screen: can any tf.*/np.* call get a symbolic tensor?  An over-approximation of the rule on CPython's
    AST: a name may be symbolic when, in its function, it is bound to an expression that mentions a source
    (`...Input(...)`, `.inputs/.outputs/.input/.output` of what may be a Keras object) or another such name; a
    module function's parameter may be when one of its calls passes such an expression."""
    inputs = any((c.node.func.attr if type(c.node.func) is ast.Attribute else getattr(c.node.func, "id", "")) == "Input"
                 for c in facts.calls)
    local = {klass.name for klass in facts.classes} | set(facts.functions_named)
    receivers = {a.value.id for a in facts.attributes if a.attr in _SYMBOLIC_ATTRIBUTES and type(a.value) is ast.Name}
    keras_names = _keras_bound_names(facts, receivers - {"self"}, local) if receivers else set()
    attributes = bool(keras_names) or any(
        a.attr in _SYMBOLIC_ATTRIBUTES and type(a.value) in (ast.Call, ast.Subscript) for a in facts.attributes)
    if not (inputs or attributes):
        return False
    tensorflow_ops = facts.may_be_keras3()  # on Keras 2 targets tf.* ops take symbolic tensors (as layers)

    def is_sink(call: ast.Call) -> bool:
        return any(n.startswith("numpy.") or (tensorflow_ops and n.startswith("tensorflow.")
                                              and not n.startswith(_NOT_OPS))
                   for n in facts.canonical_names(call.func))

    if not any(is_sink(c.node) for c in facts.calls):
        return False
    scopes: dict = {}
    module_defs = {node.name: node for node in facts.tree.body if type(node) in (ast.FunctionDef, ast.AsyncFunctionDef)}

    summaries: dict = {}  # id(call) -> its summary: nested calls are walked once, not once per level

    def summary(expr: ast.AST) -> tuple[frozenset, bool]:
        """(the names `expr` mentions, whether it mentions a source)."""
        known = summaries.get(id(expr))
        if known is not None:
            return known
        names, source = set(), False
        stack = [expr]
        while stack:
            node = stack.pop()
            kind = type(node)
            if kind is ast.Name:
                names.add(node.id)
                continue
            if kind is ast.Call and node is not expr:  # summarised once, for this and its own visit
                inner = summary(node)
                names |= inner[0]
                source = source or inner[1]
                continue
            if not source and _is_source(node, facts, keras_names, local):
                source = True
            stack.extend(ast.iter_child_nodes(node))
        found = summaries[id(expr)] = (frozenset(names), source)
        return found

    def collect(body_nodes, scope: _Scope) -> None:
        stack = list(body_nodes)
        while stack:
            node = stack.pop()
            kind = type(node)
            if kind in (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda):
                args = node.args
                params = [a.arg for a in (*args.posonlyargs, *args.args)] + [a.arg for a in args.kwonlyargs]
                own = scopes[node] = _Scope(params if module_defs.get(getattr(node, "name", None)) is node else ())
                collect(node.body if kind is not ast.Lambda else [node.body], own)
                stack.extend(getattr(node, "decorator_list", ()))
                stack.extend(d for d in (*args.defaults, *args.kw_defaults) if d is not None)
                continue
            if kind is ast.Assign:
                scope.bindings.append(([n for t in node.targets for n in _target_names(t)], summary(node.value)))
            elif kind in (ast.AnnAssign, ast.NamedExpr) and node.value is not None:
                scope.bindings.append((_target_names(node.target), summary(node.value)))
            elif kind is ast.Call:
                # the rule's sinks: a TensorFlow op (NumPy on either flavour) given a value that is not unpacked;
                # judged after the fixpoint, as most never get a symbolic value
                given = [a for a in node.args if type(a) is not ast.Starred]
                given += [k.value for k in node.keywords if k.arg is not None]
                if given and is_sink(node):
                    scope.sinks.append((node, [summary(a) for a in given]))
                if type(node.func) is ast.Name and node.func.id in module_defs:
                    scope.calls.append((node.func.id, [summary(a) for a in node.args],
                                        [(k.arg, summary(k.value)) for k in node.keywords if k.arg]))
            stack.extend(ast.iter_child_nodes(node))

    module = scopes[None] = _Scope()
    collect(facts.tree.body, module)
    by_name = {name: scopes[node] for name, node in module_defs.items() if node in scopes}
    changed = True
    while changed:
        changed = False
        for scope in scopes.values():
            for names, (mentioned, source) in scope.bindings:
                if (source or not mentioned.isdisjoint(scope.symbolic)) and not set(names) <= scope.symbolic:
                    scope.symbolic.update(names)
                    changed = True
            for name, positional, keywords in scope.calls:
                target = by_name.get(name)
                if target is None:
                    continue
                for param, (mentioned, source) in [*zip(target.params, positional), *keywords]:
                    if param not in target.symbolic and (source or not mentioned.isdisjoint(scope.symbolic)):
                        target.symbolic.add(param)
                        changed = True
    for scope in scopes.values():
        for call, arguments in scope.sinks:
            if any(source or not mentioned.isdisjoint(scope.symbolic) for mentioned, source in arguments):
                return True
    return False


def _target_names(target: ast.AST) -> list:
    return [n.id for n in ast.walk(target) if type(n) is ast.Name]


def _keras_bound_names(facts: FileFacts, wanted: set, local: set) -> set:
    """Those of the `wanted` names that may hold a Keras model or layer (what `keras_object` can know): bound to
    a call of a Keras name, of a class or function of the module, or of `get_layer`; loop variables over
    `<x>.layers`."""
    if not wanted:
        return set()
    project = facts.view is not None and bool(facts.view.keras)
    names = set()
    for node, _ in facts.assignments:
        if type(node) is ast.Assign and type(node.value) is ast.Call:
            targets = {n for t in node.targets for n in _target_names(t)} & wanted
            if targets and not targets <= names and (project or _may_build_keras(node.value, facts, local)):
                names.update(targets)
    for node in ast.walk(facts.tree):
        if type(node) in (ast.For, ast.comprehension, ast.AnnAssign):
            if type(node) is ast.AnnAssign:
                if type(node.value) is ast.Call and _target_names(node.target)[0] in wanted and (
                        project or _may_build_keras(node.value, facts, local)):
                    names.update(_target_names(node.target))
                continue
            source = node.iter.value if type(node.iter) is ast.Subscript else node.iter
            if type(source) is ast.Attribute and source.attr == "layers":
                names.update(set(_target_names(node.target)) & wanted)
    return names


def _may_build_keras(call: ast.Call, facts: FileFacts, local: set) -> bool:
    func = call.func
    if type(func) is ast.Attribute and func.attr == "get_layer":
        return True
    if type(func) is ast.Name and func.id in local:
        return True
    root = func
    while type(root) is ast.Attribute:
        root = root.value
    if type(root) is not ast.Name or not any(
            q.startswith(("keras", "tf_keras", "tensorflow")) for q in facts.imports.get(root.id, ())):
        return False  # not reached through an import of Keras or TensorFlow (cheap: most calls stop here)
    return any(name.startswith(("keras.", "tf_keras.", "tensorflow.python.keras.")) for name in facts.canonical_names(func))


def _is_source(node: ast.AST, facts: FileFacts, keras_names: set, local: set) -> bool:
    kind = type(node)
    if kind is ast.Call:
        func = node.func
        return (func.attr if type(func) is ast.Attribute else func.id if type(func) is ast.Name else "") == "Input"
    if kind is ast.Attribute and node.attr in _SYMBOLIC_ATTRIBUTES:
        value = node.value
        if type(value) is ast.Name:
            return value.id in keras_names
        if type(value) is ast.Call:
            return _may_build_keras(value, facts, local)
        return type(value) is ast.Subscript and type(value.value) is ast.Attribute and value.value.attr == "layers"
    return False


@functools.lru_cache(maxsize=1)
def keras_ops_table() -> dict[str, dict]:
    """tensorflow.X -> {"ops": keras.ops name, "params": [[tf parameter, ops parameter], ...]}: the entries
    scripts/gen_keras_ops_table.py proved to compute the same thing."""
    text = resources.files("tflint_notes").joinpath("data/keras_ops.json").read_text(encoding="utf-8")
    return json.loads(text)["functions"]


@dataclass(frozen=True)
class Symbolic:
    """A value that is a symbolic KerasTensor: certainly (`needs` empty), or if every call site of the module
    functions passes one for each (function, parameter) in `needs`.  `flavour`: the Keras it comes from (None:
    from the call sites)."""

    flavour: str | None
    needs: frozenset = frozenset()


@dataclass
class _Finding:
    node: cst.Call
    value: Symbolic
    numpy: bool
    callee: str
    argument: str
    fix: PendingFix | None
    lambda_fix: PendingFix | None
    top: cst.CSTNode | None


class KerasTensorInTfOp(GuardedRule):
    """## What it does
    Flags a symbolic Keras tensor passed to a TensorFlow function (`tf.*`, not `tf.keras.*`) or a NumPy
    function while a functional model is built. Symbolic tensors are those of `keras.Input(...)` /
    `keras.layers.Input(...)` (also `tf.keras.*`), what a Keras layer or model returns when applied to one,
    arithmetic, indexing and `keras.ops.*` on them, and `model.inputs`/`outputs`, `layer.input`/`output` of
    a model or layer the analysis knows. A helper function of the module that receives the tensor as a
    parameter is followed when every call site passes a symbolic tensor (and the helper is used only by
    calls), and what a helper returns is symbolic when every one of its `return`s is (`x = block(x)`). Not flagged: code inside a `Lambda(...)`'s function or a layer's `call` (real tensors flow
    there), values that may not be symbolic (a name also bound to something else in the function), and
    `tf.*` on tf_keras targets, where legacy Keras turns TensorFlow calls into layers. NumPy calls are
    flagged on both flavours: neither can give a symbolic tensor values.

    ## Why is this bad?
    Keras 3 raises `ValueError: A KerasTensor cannot be used as input to a TensorFlow function` (NumPy:
    `A KerasTensor is symbolic: it's a placeholder for a shape an a dtype`) when the model is built. Code
    written for Keras 2, where `tf.*` calls on symbolic tensors silently became layers, fails on its first
    line that mixes them — the commonest Keras 3 migration error.

    ## Example
    ```python
    inputs = keras.Input((16,))
    hidden = keras.layers.Dense(8)(inputs)
    outputs = tf.concat([hidden, tf.nn.relu(hidden)], axis=-1)
    model = keras.Model(inputs, outputs)
    ```

    ## Use instead
    ```python
    inputs = keras.Input((16,))
    hidden = keras.layers.Dense(8)(inputs)
    outputs = keras.ops.concatenate([hidden, keras.ops.relu(hidden)], axis=-1)
    model = keras.Model(inputs, outputs)
    ```

    ## Fix safety
    **Safe**: the `keras.ops` function that computes the same thing, from a generated table
    (`scripts/gen_keras_ops_table.py`) in which each entry was run against its TensorFlow function, eagerly
    and symbolically; keywords are renamed (`tf.transpose(x, perm=...)` → `keras.ops.transpose(x, axes=...)`)
    and a `tf.float32`-style dtype becomes `"float32"`. Written through the module's `keras` or `tf` import
    (`tf.keras.ops...`), so no import is added. **Unsafe**, for other TensorFlow functions with one symbolic
    argument that is a plain name: wrap the call in `keras.layers.Lambda(lambda x: <the call>)(x)` (the
    model then holds a Lambda layer: saving works, loading needs `safe_mode=False`). No fix for NumPy calls.

    ## Proof
    [`fixtures/TFN608/`](../fixtures/TFN608/): every `before.py` raises the KerasTensor error under Keras 3
    (the NumPy one under both flavours) and builds under tf_keras; the fixed programs build, train and
    predict the same values under both.
    """

    code = "TFN608"
    fix_kind = "safe/unsafe"
    name = "keras-tensor-in-tf-op"
    summary = "Keras 3 symbolic tensor (keras.Input, layer output) passed to a tf.* or np.* function"
    triggers = ("Input", ".output", ".input")
    expected_errors = ("ValueError", "TypeError")

    @staticmethod
    def screen(facts: FileFacts) -> bool:
        found = facts.memo.get("TFN608")
        if found is None:
            found = facts.memo["TFN608"] = _may_fire(facts)
        return found

    def __init__(self, ctx, sink):
        super().__init__(ctx, sink)
        self._values: dict = {}  # (function, name) -> Symbolic, or None: bound to something else
        self._mixed: set = set()  # (function, name) bound to symbolic and other values: unknown
        self._findings: list[_Finding] = []
        self._sites: dict = {}  # module function name -> [{parameter: Symbolic | None}] per call
        self._uses: dict = {}  # module function name -> how often the name occurs
        self._returns: dict = {}  # module function name -> what each of its `return`s gives (Symbolic or None)

    # -- values --

    def symbolic(self, node: cst.BaseExpression) -> Symbolic | None:
        if isinstance(node, cst.Name):
            return self._name(node.value)
        if isinstance(node, cst.Call):
            return self._call_result(node)
        if isinstance(node, cst.BinaryOperation):
            return self.symbolic(node.left) or self.symbolic(node.right)
        if isinstance(node, cst.UnaryOperation):
            return self.symbolic(node.expression)
        if isinstance(node, cst.Subscript):
            return self.symbolic(node.value)
        if isinstance(node, cst.Attribute):
            if node.attr.value in _SYMBOLIC_ATTRIBUTES and not (isinstance(node.value, cst.Name)
                                                              and node.value.value == "self"):
                obj = self.ctx.keras_object(node.value)
                if obj is not None and obj.kind in ("model", "layer") and obj.flavour is not None:
                    return Symbolic(obj.flavour)
            return None
        if isinstance(node, (cst.List, cst.Tuple)):
            for element in node.elements:
                found = self.symbolic(element.value)
                if found is not None:
                    return found
            return None
        if isinstance(node, cst.IfExp):  # symbolic only if both branches are
            body, orelse = self.symbolic(node.body), self.symbolic(node.orelse)
            return body if body is not None and orelse is not None else None
        return None

    def _name(self, name: str) -> Symbolic | None:
        if self.ctx.is_comprehension_variable(name):
            return None
        func = self.ctx.current_function
        key = (func, name)
        if key in self._mixed:
            return None
        if key in self._values:
            return self._values[key]
        if (func is not None and func.cls is None and func.parent is None and func.name is not None
                and name in func.params):
            return Symbolic(None, frozenset({(func.name, name)}))  # decided by the call sites
        return None

    def _call_result(self, node: cst.Call) -> Symbolic | None:
        qual = self.ctx.resolve(node.func)
        if qual is not None:
            name = canonical(qual)
            if name in _INPUTS:
                return Symbolic(self.ctx.keras_flavour(qual))
            if name.startswith("keras.ops.") or (name.startswith("tensorflow.") and not name.startswith(_NOT_OPS)):
                return self._first_symbolic(node)  # tf_keras turns tf.* on symbolic tensors into layers
            if not name.startswith("keras."):
                return None
        if qual is None and isinstance(node.func, cst.Name) and node.func.value in self._returns:
            return self._helper_result(node)
        obj = self.ctx.keras_object(node.func) if isinstance(node.func, (cst.Name, cst.Call, cst.Subscript)) else None
        if obj is None or obj.kind not in ("model", "layer"):
            return None
        found = self._first_symbolic(node)
        return Symbolic(obj.flavour or found.flavour, found.needs) if found is not None else None

    def _helper_result(self, node: cst.Call) -> Symbolic | None:
        """What a module function returns, for the arguments of this call: symbolic when every `return` of it is,
        its parameters replaced by what this call passes."""
        name = node.func.value
        returns = self._returns.get(name)
        target = self.ctx.module_function(name)
        if not returns or target is None or any(value is None for value in returns) or any(a.star for a in node.args):
            return None
        passed = dict(zip(target.params, (a.value for a in node.args if a.keyword is None)))
        passed.update((a.keyword.value, a.value) for a in node.args if a.keyword is not None)
        flavour, needs = None, set()
        for value in returns:
            flavour = flavour or value.flavour
            for function, param in value.needs:
                if function != name or param not in passed:
                    return None
                given = self.symbolic(passed[param])
                if given is None:
                    return None
                flavour = flavour or given.flavour
                needs |= given.needs
        return Symbolic(flavour, frozenset(needs))

    def leave_Return(self, node: cst.Return) -> None:
        func = self.ctx.current_function
        if func is None or func.cls is not None or func.parent is not None or func.name is None:
            return
        value = self.symbolic(node.value) if node.value is not None else None
        self._returns.setdefault(func.name, []).append(value)

    def _first_symbolic(self, node: cst.Call) -> Symbolic | None:
        for arg in node.args:
            if arg.keyword is None and not arg.star:
                found = self.symbolic(arg.value)
                if found is not None:
                    return found
        return None

    # -- bindings --

    def leave_Assign(self, node: cst.Assign) -> None:
        value = self.symbolic(node.value)
        for target in node.targets:
            self._bind(target.target, value)

    def leave_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._bind(node.target, self.symbolic(node.value))

    def visit_For(self, node: cst.For) -> None:
        self._bind(node.target, None)

    def _bind(self, target: cst.BaseExpression, value: Symbolic | None) -> None:
        if isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:  # `a, b = keras.ops.split(x, 2)`: each part is symbolic
                self._bind(element.value, value)
            return
        if isinstance(target, cst.StarredElement):
            self._bind(target.value, value)
            return
        if not isinstance(target, cst.Name):
            return
        key = (self.ctx.current_function, target.value)
        if key in self._values and (self._values[key] is None) != (value is None):
            self._mixed.add(key)
        self._values[key] = value

    # -- calls --

    def visit_Name(self, node: cst.Name) -> None:
        if node.value in self._sites or self.ctx.module_function(node.value) is not None:
            self._uses[node.value] = self._uses.get(node.value, 0) + 1

    def visit_Call(self, node: cst.Call) -> None:
        qual = self.ctx.resolve(node.func)
        name = canonical(qual) if qual is not None else None
        if name is None:
            self._note_call_site(node)
            return
        numpy = name.startswith("numpy.")
        if not (numpy or (name.startswith("tensorflow.") and not name.startswith(_NOT_OPS))) or self.guarded:
            return
        for arg in node.args:
            if arg.star:
                continue
            value = self.symbolic(arg.value)
            if value is None:
                continue
            argument = dotted_text(arg.value)
            self._findings.append(_Finding(node, value, numpy, dotted_text(node.func), argument,
                                           None if numpy else self._ops_fix(node, name),
                                           None if numpy else self._lambda_fix(node, arg), self.ctx.current_top))
            return

    def _note_call_site(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Name) or self.ctx.module_function(func.value) is None:
            return
        target = self.ctx.module_function(func.value)
        params = target.params
        passed: dict = {}
        position = 0
        for arg in node.args:
            if arg.star:
                return  # *args / **kwargs: cannot tell which parameter gets what
            if arg.keyword is None:
                if position < len(params):
                    passed[params[position]] = self.symbolic(arg.value)
                position += 1
            else:
                passed[arg.keyword.value] = self.symbolic(arg.value)
        self._sites.setdefault(func.value, []).append(passed)

    # -- after the traversal --

    def finish(self) -> None:
        for finding in self._findings:
            flavour = self._holds(finding.value, set())
            if flavour is None or (not finding.numpy and flavour != "keras3"):
                continue
            self.report(finding.node, self._message(finding, flavour),
                        fix=finding.fix or finding.lambda_fix, top=finding.top)

    def _holds(self, value: Symbolic, seen: set) -> str | None:
        """The flavour of a symbolic value once its conditions are checked against the call sites, or None."""
        flavour = value.flavour
        for function, param in value.needs:
            if (function, param) in seen:
                return None
            sites = self._sites.get(function, ())
            definitions = sum(1 for f in self.ctx.defined_functions() if f.name == function and f.cls is None
                              and f.parent is None)
            if not sites or definitions != 1 or self._uses.get(function, 0) != len(sites) + 1:
                return None  # never called, defined twice, or used as a value (a Lambda's function, a callback)
            for passed in sites:
                given = passed.get(param)
                if given is None:
                    return None
                found = self._holds(given, seen | {(function, param)})
                if found is None or (flavour is not None and found != flavour):
                    return None
                flavour = found
        return flavour

    def _message(self, finding: _Finding, flavour: str) -> str:
        where = f"`{finding.callee}(...)` gets `{finding.argument}`, a symbolic Keras tensor"
        if finding.numpy:
            error = ("ValueError: A KerasTensor is symbolic" if flavour == "keras3"
                     else "TypeError: You are passing KerasTensor ... to a TF API")
            return f"{where}: NumPy cannot compute on it ({error}); use keras.ops or a keras.layers.Lambda"
        advice = ("use keras.ops." + keras_ops_table()[canonical(self.ctx.resolve(finding.node.func))]["ops"]
                  if finding.fix is not None else "use keras.ops or wrap the call in a keras.layers.Lambda")
        return (f"{where}: Keras 3 raises ValueError: A KerasTensor cannot be used as input to a TensorFlow "
                f"function; {advice}")

    # -- fixes --

    def _keras_prefix(self) -> str | None:
        """How this module writes `keras` without a new import: its `keras` import, else `tf.keras`."""
        for module in ("keras", "tensorflow.keras"):  # import keras / from tensorflow import keras
            bound = self.ctx.module_alias(module)
            if bound is not None and self.ctx.resolve(cst.Name(bound)) == module:
                return bound
        found = self.module_alias_for("tensorflow", "tf")
        if found is not None and found[1] is None:
            return f"{found[0]}.keras"
        return None

    def _ops_fix(self, node: cst.Call, name: str) -> PendingFix | None:
        entry = keras_ops_table().get(name)
        prefix = self._keras_prefix()
        if entry is None or prefix is None:
            return None
        pairs = dict(entry["params"])
        order = [tf_param for tf_param, _ in entry["params"]]
        replacements = [Replacement(node.func, f"{prefix}.ops.{entry['ops']}")]
        position = 0
        for arg in node.args:
            if arg.star:
                return None
            if arg.keyword is None:
                if position >= len(order):
                    return None
                param = order[position]
                position += 1
            else:
                param = arg.keyword.value
                if param not in pairs:
                    return None  # `name=` and other TF-only keywords: no keras.ops equivalent
                if pairs[param] != param:
                    replacements.append(Replacement(arg.keyword, pairs[param]))
            if param == "dtype":
                dtype = self._dtype_text(arg.value)
                if dtype is None:
                    return None
                if dtype != dotted_text(arg.value):
                    replacements.append(Replacement(arg.value, dtype))
        return PendingFix(replacements, safe=True, description=f"use {prefix}.ops.{entry['ops']}")

    def _dtype_text(self, value: cst.BaseExpression) -> str | None:
        """A dtype keras.ops.cast takes: a string literal as is, `tf.float32` as "float32"; else None."""
        if isinstance(value, cst.SimpleString):
            return dotted_text(value)
        qual = self.ctx.resolve(value)
        if qual is not None and canonical(qual).startswith("tensorflow."):
            leaf = canonical(qual).rsplit(".", 1)[-1]
            if canonical(qual) in (f"tensorflow.{leaf}", f"tensorflow.dtypes.{leaf}") and leaf in _DTYPES:
                return f'"{leaf}"'
        return None

    def _lambda_fix(self, node: cst.Call, arg: cst.Arg) -> PendingFix | None:
        """`tf.f(x, ...)` -> `keras.layers.Lambda(lambda x: tf.f(x, ...))(x)` when `x` is the only symbolic
        argument and a plain name (the lambda's parameter shadows it, so the call is kept as written)."""
        if not isinstance(arg.value, cst.Name):
            return None
        if any(other is not arg and not other.star and self.symbolic(other.value) is not None for other in node.args):
            return None
        prefix = self._keras_prefix()
        if prefix is None:
            return None
        name = arg.value.value
        code = cst.Module(body=[]).code_for_node(node.with_changes(lpar=(), rpar=()))
        return PendingFix([Replacement(node, f"{prefix}.layers.Lambda(lambda {name}: {code})({name})")], safe=False,
                          description="wrap the call in a keras.layers.Lambda layer")
