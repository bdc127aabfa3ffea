"""Call sites: which functions of the module call which, and with what arguments.

Whether a parameter holds a tensor or a Keras model, and whether a helper runs as graph code, is decided by its
callers in the same module: `call` passes a tensor to `_norm(x)`, `main` passes a Keras model to
`train(model)`.  The traversal records each call of a name that may be a function of the module, with the
tensor evidence and the Keras objects of its arguments as they are at that point; the callee is looked up
only after the traversal, when every function is known.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

import libcst as cst

from tflint_notes.analysis.keras_objects import NEVER_KERAS, NOT_KERAS
from tflint_notes.analysis.scopes import ClassInfo, FunctionInfo


@dataclass(eq=False)
class CallSite:
    caller: FunctionInfo | None
    callee_name: str
    via_self: bool
    args: list  # (position or keyword, Evidence | None)
    # (position or keyword, KerasObject | None, (function, parameter) | None): the Keras object an argument
    # is, or the caller's parameter it passes on (`def train(model): _fit(model)`)
    keras_args: list = field(default_factory=list)


def argument_keys(args) -> Iterator[tuple[int | str, cst.Arg]]:
    """(keyword or position, argument) for the arguments of a call, up to the first `*args`/`**kwargs` (after
    one, positions are unknown)."""
    position = 0
    for arg in args:
        if arg.star:
            return
        if arg.keyword is not None:
            yield arg.keyword.value, arg
        else:
            yield position, arg
            position += 1


def call_argument(call: cst.Call, position: int, keyword: str) -> cst.BaseExpression | None:
    """The value of the argument passed as `keyword=` or at `position` (not counting `*args`), or None."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg.value
    positional = [a for a in call.args if a.keyword is None and not a.star]
    return positional[position].value if len(positional) > position else None


class CallGraph:
    """The call sites of the module and the lookup of the function a name or `self.<method>` calls.  Reads
    the scopes, `evidence` (TensorEvidence) and `keras_object`/`keras_param` (KerasObjects)."""

    def _init_calls(self) -> None:
        self.call_sites: list[CallSite] = []

    def _note_call_site(self, node: cst.Call) -> None:
        """A call of a name that is no import (`helper(x)`) or of a method on `self`: maybe of this module."""
        func = node.func
        if isinstance(func, cst.Attribute):
            if isinstance(func.value, cst.Name) and func.value.value == "self" and self.current_class is not None:
                self._record_call_site(node, func.attr.value, via_self=True)
        elif isinstance(func, cst.Name):
            self._record_call_site(node, func.value, via_self=False)

    def _record_call_site(self, node: cst.Call, name: str, via_self: bool) -> None:
        args = []
        keras_args = []
        for key, arg in argument_keys(node.args):
            args.append((key, self.evidence(arg.value)))
            value = arg.value
            if isinstance(value, (cst.Name, cst.Call, cst.Subscript)):
                obj = self.keras_object(value)
                ref = self.keras_param(value) if obj is None else None
                if obj is None and ref is None and isinstance(value, cst.Call) and isinstance(value.func, cst.Name) \
                        and value.func.value in self.classes:
                    obj = NOT_KERAS  # an instance of a class of this module that is no Keras class
                if obj is not None or ref is not None:
                    keras_args.append((key, obj, ref))
            elif isinstance(value, NEVER_KERAS):
                keras_args.append((key, NOT_KERAS, None))
        self.call_sites.append(CallSite(self.current_function, name, via_self, args, keras_args))

    # -- after the traversal --

    def calls(self) -> Iterator[tuple[FunctionInfo | None, FunctionInfo]]:
        """(caller, callee) for every call of a function of this module by its name or as `self.<method>`, in
        source order; the caller is None at module level."""
        for site in self.call_sites:
            callee = self._callee_of(site)
            if callee is not None:
                yield site.caller, callee

    def _callee_of(self, site: CallSite) -> FunctionInfo | None:
        if site.caller is None:
            return self.module_functions.get(site.callee_name) if not site.via_self else None
        return self._function_named(site.caller, site.caller.cls if site.via_self else None,
                                    ("self." if site.via_self else "") + site.callee_name)

    def _function_for_expr(self, func, cls, target: cst.BaseExpression) -> FunctionInfo | None:
        if isinstance(target, cst.Name):
            return self._function_named(func, cls, target.value)
        if isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name) and target.value.value == "self":
            return self._function_named(func, cls, "self." + target.attr.value)
        return None

    def _function_named(self, func: FunctionInfo | None, cls: ClassInfo | None, name: str) -> FunctionInfo | None:
        if name.startswith("self."):
            method = name[5:]
            seen = set()
            while cls is not None and id(cls) not in seen:  # redefined names can make base chains cycle
                seen.add(id(cls))
                if method in cls.methods:
                    return cls.methods[method]
                cls = next((self.classes[b[6:]] for b in cls.bases if b.startswith("local:")
                            and b[6:] in self.classes), None)
            return None
        scope = func
        while scope is not None:
            if name in scope.local_functions:
                return scope.local_functions[name]
            scope = scope.parent
        return self.module_functions.get(name)
