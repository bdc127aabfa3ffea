"""The fix gate: fixed code must compile and must not use a name that the original left defined.

`ast.parse` (and libcst) accept `f(a=1, a=2)`, `return` outside a function, `nonlocal x` without an
enclosing binding and other programs that the compiler rejects; only `compile()` proves the output runs.
A fix that writes `tf.print` in a file where `tf` is not bound compiles but fails with a NameError the
first time the line runs; the symbol table shows it: the names a program reads from the module scope
without binding them anywhere ("free" names, as pyflakes' undefined-name check sees them) must not grow.
"""

from __future__ import annotations

import builtins
import re
import symtable
import warnings

# Names every module has without binding them.
_MODULE_DUNDERS = frozenset({
    "__name__", "__file__", "__doc__", "__package__", "__spec__", "__loader__", "__builtins__",
    "__path__", "__annotations__", "__cached__", "__dict__", "__debug__", "__class__",
})
_KNOWN = frozenset(dir(builtins)) | _MODULE_DUNDERS
_STAR_IMPORT = re.compile(r"\bimport\s*\(?\s*\*")


def compile_error(text: str) -> str | None:
    """None if `text` compiles, else the compiler's message (with its line)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(text, "<fixed>", "exec", dont_inherit=True)
    except SyntaxError as exc:
        return f"{exc.msg} (line {exc.lineno})"
    except (ValueError, RecursionError, MemoryError) as exc:
        return str(exc) or type(exc).__name__
    return None


def free_names(text: str) -> frozenset | None:
    """Names read from the module scope that no statement of the program binds (builtins excluded).

    None when that cannot be known: the text does not compile, or a star import may bind anything."""
    if _STAR_IMPORT.search(text):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            top = symtable.symtable(text, "<fixed>", "exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    bound: set[str] = set()
    read: set[str] = set()
    stack = [top]
    while stack:
        table = stack.pop()
        is_module = table is top
        for symbol in table.get_symbols():
            name = symbol.get_name()
            if is_module:
                if symbol.is_assigned() or symbol.is_imported() or symbol.is_namespace():
                    bound.add(name)
                elif symbol.is_referenced():
                    read.add(name)
            else:
                if symbol.is_declared_global() and (symbol.is_assigned() or symbol.is_imported()
                                                    or symbol.is_namespace()):
                    bound.add(name)  # `global x; x = ...` in a function binds a module name
                if symbol.is_referenced() and symbol.is_global():
                    read.add(name)
        stack.extend(table.get_children())
    return frozenset(read - bound - _KNOWN)


class FixGate:
    """Judges fixed versions of one original text.  `extra`: a further check (a notebook's per-cell
    compile), returning why a text is refused or None."""

    def __init__(self, original: str, extra=None):
        self._original = original
        self._free: frozenset | None | bool = False  # False: not computed yet
        self._extra = extra
        # A notebook's cells make a program that need not compile as a whole (each cell does, which
        # `extra` checks); for such a text only the judgement of `extra` counts.
        self._whole = extra is None or compile_error(original) is None

    def _original_free(self) -> frozenset | None:
        if self._free is False:
            self._free = free_names(self._original)
        return self._free

    def refusal(self, fixed: str) -> str | None:
        """Why `fixed` must not replace the original, or None if it may."""
        error = compile_error(fixed) if self._whole else None
        if error is not None:
            return f"the fixed code would not compile: {error}"
        before = self._original_free()
        if before is not None:
            after = free_names(fixed)
            if after is not None:
                new = sorted(after - before)
                if new:
                    names = ", ".join(f"`{n}`" for n in new)
                    return f"the fixed code would use {names}, which nothing defines (NameError when it runs)"
        if self._extra is not None:
            return self._extra(fixed)
        return None
