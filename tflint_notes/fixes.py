"""Small libcst builders shared by the rules' fixes."""

from __future__ import annotations

import libcst as cst

_NO_SPACE = cst.SimpleWhitespace("")


def keyword_arg(name: str, value: cst.BaseExpression) -> cst.Arg:
    """`name=value`, without spaces around `=` (PEP 8 for keyword arguments)."""
    return cst.Arg(value=value, keyword=cst.Name(name), equal=cst.AssignEqual(_NO_SPACE, _NO_SPACE))


def append_arg(call: cst.Call, arg: cst.Arg) -> cst.Call:
    """`call` with `arg` added last.  A trailing comma stays last: `f(a,\\n)` -> `f(a, new,\\n)`."""
    args = list(call.args)
    if args and isinstance(args[-1].comma, cst.Comma):
        arg = arg.with_changes(comma=args[-1].comma)
        args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    return call.with_changes(args=[*args, arg])
