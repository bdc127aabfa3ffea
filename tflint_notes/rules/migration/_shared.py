"""Shared by the TFN6xx rules: what a qualified TensorFlow/Keras name is in the installed API, and which
code is written to survive old and new TensorFlow alike (and so must not be reported)."""

from __future__ import annotations

import ast
import functools
import re
from dataclasses import dataclass

import libcst as cst

from tflint_notes.api import (
    BROKEN, MISSING, OK, ApiView, compat_v2_extra, keras_removed_entry, release, removed_entry, split, table,
    tf_parts, view_of)
from tflint_notes.cstwalk import children
from tflint_notes.analysis import canonical, is_keras_base, is_model_factory
from tflint_notes.rules.keywords import MODEL_METHOD_PREFIX, closest, own_method
from tflint_notes.rule import Rule

# An `if`/conditional expression whose test looks at the version or at what exists: both branches are
# written for some TensorFlow, not necessarily this one.
_GUARD_WORDS = re.compile(r"(?i)(version|hasattr|getattr|eager|legacy|(^|_)(tf)?v?[12](_|$)|tf[12]|keras_?[23]|"
                          r"is_tf|parse_version)")
_GUARD_CALL = re.compile(r"(?i)((err|raise|fail|check|assert|require)\w*(tf|v)[12]|(check|require|assert)\w*version)")
# Exceptions a name that does not exist raises: defensive `try:` blocks that catch them are not reported.
MISSING_NAME_ERRORS = ("AttributeError", "ImportError", "ModuleNotFoundError")


@dataclass(frozen=True)
class Finding:
    kind: str  # "removed" | "misspelled"
    key: str = ""  # removed: the table's key ("tf.log"); misspelled: the dotted name as resolved
    entry: dict | None = None
    index: int = -1  # misspelled: which part
    suggestion: str = ""


@functools.lru_cache(maxsize=1 << 16)  # screens ask about the same names (`tf.constant`, ...) in every file
def classify(qualname: str, legacy_tf_keras: "bool | ApiView") -> Finding | None:
    """Is `qualname` a removed TensorFlow name or a misspelling of an existing TF/Keras name, for code that
    sees the API as `legacy_tf_keras` (a bool, or the module's ApiView: its Keras flavours, the newest
    TensorFlow its project allows, its own packages) says?"""
    view = view_of(legacy_tf_keras)
    where = split(qualname, view)
    if where is None:
        return None
    root, parts = where
    if not parts:
        return None
    if qualname.startswith("tensorflow."):
        if qualname.startswith("tensorflow.compat.v2.") and parts[0] in compat_v2_extra():
            return None  # `tf.compat.v2.enable_v2_behavior`: only compat.v2 has it
        found = removed_entry(tf_parts(qualname))
        if found is not None:
            if found[1].get("members_only") and found[0].count(".") == len(parts):
                return None  # `tf.compat.v1.layers` itself can be read; its members raise
            if found[1].get("keras2") and view.legacy_tf_keras:
                return None  # needs Keras 2, which this file targets
            if view.tf_newest < release(found[1].get("since", "2.0")):
                return None  # every TensorFlow the project allows still has it
            return Finding("removed", found[0], found[1])
    result = table(root).lookup(parts)
    if result.status == OK:
        return None
    if result.status == BROKEN:
        return None  # listed but raising (tf.compat.v1.layers under Keras 3): the removed table speaks for it
    if result.status != MISSING:
        return None
    if root == "tensorflow":
        found = removed_entry(parts, compat_fallback=True)
        if found is not None:
            if view.tf_newest < release(found[1].get("since", "2.0")):
                return None
            return Finding("removed", found[0], found[1])
    if root in ("keras", "tf.keras") and (table("tf_keras").lookup(parts[:result.index + 1]).status == OK
                                          or keras_removed_entry(root, parts) is not None):
        return None  # a Keras 2 name: TFN603's business
    name = parts[result.index]
    if name.startswith("_"):
        return None
    best = closest(name, result.members)
    if best is None:
        return None
    return Finding("misspelled", qualname, None, result.index, best)


def facts_have_api_problem(facts, kind: str | None = None) -> bool:
    """The screen of TFN601 (`kind="removed"`) and TFN602 (`"misspelled"`): does any import or attribute chain
    of the file name a removed or unknown TensorFlow/Keras name?  (Every import alias is tried, under every
    ApiView the module may have.)"""
    kinds = facts.memo.get("api kinds")
    if kinds is None:
        # one pass for both rules: the kinds of finding the file's names may give
        kinds = set()
        views = facts.api_views()
        seen = set()
        names = [name for node in facts.import_nodes for name in _import_qualnames(node)]
        names += [name for _, qualnames in facts.attribute_chains() for name in qualnames]
        for name in names:
            if name in seen:
                continue
            seen.add(name)
            for view in views:
                found = classify(name, view)
                if found is not None:
                    kinds.add(found.kind)
            if len(kinds) == 2:
                break
        facts.memo["api kinds"] = kinds
    return bool(kinds) if kind is None else kind in kinds


def _import_qualnames(node: ast.Import | ast.ImportFrom):
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name
    elif not node.level and node.module:
        yield node.module
        for alias in node.names:
            if alias.name != "*":
                yield f"{node.module}.{alias.name}"


def guard_words(test: cst.CSTNode) -> bool:
    stack = [test]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Name) and _GUARD_WORDS.search(node.value):
            return True
        if isinstance(node, cst.SimpleString) and "version" in node.value:
            return True
        stack.extend(children(node))
    return False


class GuardedRule(Rule):
    """Tracks the enclosing `if`s (and conditional expressions) whose test looks at versions or at what
    exists (`hasattr(tf, "x")`, `tf.__version__`, `tf.executing_eagerly()`)."""

    expected_errors = MISSING_NAME_ERRORS

    def __init__(self, ctx, sink):
        super().__init__(ctx, sink)
        self._inner_attributes: set = set()
        self._guards = 0
        self._annotations = 0
        self._postponed = None
        self._guarded_functions: set = set()

    def visit_Expr(self, node: cst.Expr) -> None:
        # `err_if_tf2(...)`, `check_tf_version()` as a statement: the rest of the function is written for
        # the other TensorFlow, on purpose
        call = node.value
        if isinstance(call, cst.Call):
            func = call.func
            name = func.value if isinstance(func, cst.Name) else func.attr.value if isinstance(func, cst.Attribute) else ""
            if _GUARD_CALL.search(name):
                self._guarded_functions.add(self.ctx.current_function)

    def visit_Annotation(self, node) -> None:
        self._annotations += 1

    def leave_Annotation(self, node) -> None:
        self._annotations -= 1

    def _enter(self, node) -> None:
        if guard_words(node.test):
            self._guards += 1

    def _leave(self, node) -> None:
        if guard_words(node.test):
            self._guards -= 1

    visit_If = visit_IfExp = visit_While = _enter
    leave_If = leave_IfExp = leave_While = _leave

    @property
    def guarded(self) -> bool:
        """Inside a version/feature branch, or an annotation Python never evaluates
        (`from __future__ import annotations`)."""
        if self._guards > 0:
            return True
        if self._guarded_functions:
            func = self.ctx.current_function
            while func is not None:
                if func in self._guarded_functions:
                    return True
                func = func.parent
        if self._annotations:
            if self._postponed is None:
                self._postponed = self.ctx.imports("__future__.annotations")
            return self._postponed
        return False

    def skip_chain(self, node: cst.CSTNode) -> None:
        """An import's dotted module is judged as an import, not as an attribute chain."""
        while isinstance(node, cst.Attribute):
            self._inner_attributes.add(node)
            node = node.value

    def outer_chain(self, node: cst.Attribute) -> tuple[list[cst.Attribute], cst.Name] | None:
        """For the outermost attribute of a dotted name (`tf.compat.v1.x`): its attributes, outermost first,
        and its root name.  None for the inner attributes (judged with their chain) and for chains that do
        not start at a name (`f().x`)."""
        if node in self._inner_attributes:
            return None
        chain = []
        current: cst.CSTNode = node
        while isinstance(current, cst.Attribute):
            chain.append(current)
            current = current.value
        if not isinstance(current, cst.Name):
            return None
        self._inner_attributes.update(chain[1:])
        return chain, current

    @property
    def legacy_tf_keras(self) -> ApiView:
        """The module's view of the API (its Keras flavours, target TensorFlow, own packages)."""
        return self.ctx.api_view


def keras3_callable(ctx, node: cst.Call) -> tuple[str, tuple | None] | None:
    """(the canonical Keras 3 callable a call calls — `keras.layers.LSTM`, `keras.Model.fit` —, the condition on
    a parameter receiver or None), or None when the callee is not a Keras 3 callable for certain."""
    func = node.func
    qual = ctx.resolve(func)
    if qual is not None:
        if ctx.keras_flavour(qual) != "keras3" or not canonical(qual).startswith("keras."):
            return None
        return canonical(qual), None
    if not isinstance(func, cst.Attribute):
        return None
    method = func.attr.value
    obj = ctx.keras_object(func.value)
    if obj is None:
        # a model that arrives as a parameter: decided once the module's call sites are known
        param = ctx.keras_param(func.value)
        if param is None:
            return None
        return MODEL_METHOD_PREFIX + method, (*param, lambda found: found.kind == "model" and found.flavour == "keras3"
                                              and own_method(ctx, found.cls, method) is None)
    if obj.kind != "model" or obj.flavour != "keras3":
        return None
    if own_method(ctx, obj.cls, method) is not None:
        return None  # the model class defines the method itself
    return MODEL_METHOD_PREFIX + method, None


def dotted_text(node: cst.CSTNode) -> str:
    """`tf.compat.v1.placeholder` as written (one line)."""
    return re.sub(r"\s+", "", cst.Module(body=[]).code_for_node(node))


def keras_bound_names(facts) -> dict:
    """{name: kinds of Keras object ("model", "layer", "any") it may be bound to}, as `keras_object` sees a
    name: assigned a Keras constructor or model factory, `get_layer(...)`, a class or function of the module,
    a project class, `<x>.layers[i]`, another such name; the target of a loop over `.layers`."""
    found_before = facts.memo.get("keras bound names")
    if found_before is not None:
        return found_before
    kinds: dict = {}
    aliases = []

    def layers_of(expr) -> bool:
        while type(expr) is ast.Subscript:
            expr = expr.value
        return type(expr) is ast.Attribute and expr.attr == "layers"

    for node in ast.walk(facts.tree):
        kind = type(node)
        if kind in (ast.For, ast.AsyncFor, ast.comprehension):
            if type(node.target) is ast.Name and layers_of(node.iter):
                kinds.setdefault(node.target.id, set()).add("layer")
            continue
        if kind is not ast.Assign:
            continue
        names = [t.id for t in node.targets if type(t) is ast.Name]
        if not names:
            continue
        value = node.value
        found = set()
        if type(value) is ast.Name:
            aliases.append((names, value.id))
        elif type(value) is ast.Subscript and layers_of(value):
            found.add("layer")
        elif type(value) is ast.Call:
            func = value.func
            qualnames = facts.qualnames(func)
            if type(func) is ast.Attribute and func.attr == "get_layer":
                found.add("layer")
            for qualname in qualnames:
                if not facts.may_be_keras3_name(qualname):
                    continue  # every user of these kinds judges Keras 3 objects only
                if is_model_factory(qualname):
                    found.add("model")
                elif is_keras_base(qualname):
                    found.add("model" if canonical(qualname).rsplit(".", 1)[-1] in ("Model", "Sequential", "Functional")
                              else "layer")
                elif facts.view is not None and (facts.view.keras_base(qualname) is not None
                                                 or facts.view.model_factory(qualname) is not None):
                    found.add("any")  # a class or model builder of another project module
            if not qualnames and type(func) is ast.Name:
                found.add("any")  # a class or function of this module
        for name in names:
            kinds.setdefault(name, set()).update(found)
    changed = True
    while changed:
        changed = False
        for names, source in aliases:
            for name in names:
                extra = kinds.get(source, set()) - kinds.get(name, set())
                if extra:
                    kinds.setdefault(name, set()).update(extra)
                    changed = True
    facts.memo["keras bound names"] = kinds
    return kinds


def may_be_model(receiver, facts, parameters: bool = True) -> bool:
    """Could `keras3_callable` take `receiver.method(...)` for a Keras model's method: `self` in a Keras class,
    a name bound to a model (or to something unknown) or a parameter, a call's result?  (CPython's AST.)"""
    kind = type(receiver)
    if kind is ast.Call:
        func = receiver.func
        if type(func) is ast.Name and func.id == "super":
            return False
        qualnames = facts.qualnames(func)
        # a Keras class or model builder (of Keras or of the project), or a class or function of this module
        return not qualnames or any(facts.may_be_keras3_name(q) and (is_model_factory(q) or is_keras_base(q) or (
            facts.view is not None and (facts.view.keras_base(q) is not None or facts.view.model_factory(q) is not None)))
            for q in qualnames)
    if kind is not ast.Name:
        return False
    if receiver.id == "self":
        return bool(facts.keras_classes()) or (facts.view is not None and bool(facts.view.keras))
    kinds = keras_bound_names(facts).get(receiver.id, ())
    if "model" in kinds or "any" in kinds:
        return True
    if not parameters:
        return False
    return receiver.id in facts.parameter_names()

