"""Small libcst builders shared by the rules' fixes."""

from __future__ import annotations

import libcst as cst

from tflint_notes.results import Edit

_NO_SPACE = cst.SimpleWhitespace("")


def keyword_arg(name: str, value: cst.BaseExpression) -> cst.Arg:
    """`name=value`, without spaces around `=` (PEP 8 for keyword arguments)."""
    return cst.Arg(value=value, keyword=cst.Name(name), equal=cst.AssignEqual(_NO_SPACE, _NO_SPACE))


def append_item(loc, items: list, open_offset: int, close_offset: int, text: str) -> list:
    """Edits that add `text` (`**kwargs`, `training=False`) as the last item of a bracketed list, laid out
    the way the list already is:

    - one item per line: on a line of its own, at the last item's indentation, keeping a trailing comma;
    - otherwise after the last item on its line (`, text`), before a trailing comma if there is one;
    - an empty list: `(text)`.

    `items`: the list's nodes in order; `open_offset`/`close_offset`: offsets of its `(` and `)`."""
    source = loc.text
    if not items:
        return [Edit(open_offset + 1, close_offset, text)] if not source[open_offset + 1:close_offset].strip() else []
    spans = [(loc.span(item)[0], item_end(loc, item)) for item in items]
    if None in spans[-1]:
        return []
    last_start, last_end = spans[-1]
    lines = [loc.line_of(start) for start, _ in spans]
    open_line = loc.line_of(open_offset)
    vertical = all(a < b for a, b in zip(lines, lines[1:])) if len(lines) > 1 else lines[0] > open_line
    tail = source[last_end:close_offset]
    comma = _comma_in(tail)
    if not vertical:
        at = last_end + comma + 1 if comma >= 0 else last_end
        return [Edit(at, at, f" {text}," if comma >= 0 else f", {text}")]
    line_start = loc.line_start(loc.line_of(last_start))
    prefix = source[line_start:last_start]
    indent = prefix if not prefix.strip() else " " * (last_start - line_start)
    newline = loc.newline
    next_line = loc.line_start(loc.line_of(last_end) + 1)
    if comma >= 0 and last_end + comma < next_line <= close_offset:
        return [Edit(next_line, next_line, f"{indent}{text},{newline}")]  # after `last,` (and its comment)
    if comma >= 0:
        return [Edit(last_end + comma + 1, last_end + comma + 1, f"{newline}{indent}{text},")]
    if next_line <= close_offset:  # `last  # comment` then `)` on a later line
        return [Edit(last_end, last_end, ","), Edit(next_line, next_line, f"{indent}{text}{newline}")]
    return [Edit(last_end, last_end, f",{newline}{indent}{text}")]  # `last)`: the new item before `)`


def _comma_in(tail: str) -> int:
    """Offset of the trailing comma in the text between a list's last item and its `)` (which holds only
    whitespace, comments and that comma), or -1."""
    in_comment = False
    for i, ch in enumerate(tail):
        if ch in "\r\n":
            in_comment = False
        elif ch == "#":
            in_comment = True
        elif ch == "," and not in_comment:
            return i
    return -1


def bracket_after(text: str, offset: int, bracket: str) -> int | None:
    """Offset of `bracket` at or after `offset` when only whitespace, comments, commas and backslash line
    continuations come before it; None otherwise."""
    i, n = offset, len(text)
    while i < n:
        ch = text[i]
        if ch == bracket:
            return i
        if ch == "#":
            while i < n and text[i] not in "\r\n":
                i += 1
            continue
        if ch not in " \t\r\n,\\\f":
            return None
        i += 1
    return None


def append_call_argument(loc, call: cst.Call, text: str) -> list | None:
    """Edits that add an argument (`**kwargs`, `training=False`) last to `call`, in its layout."""
    open_offset = bracket_after(loc.text, loc.span(call.func)[1], "(")
    if open_offset is None:
        return None
    args = list(call.args)
    close = bracket_after(loc.text, item_end(loc, args[-1]) if args else open_offset + 1, ")")
    if close is None:
        return None
    return append_item(loc, args, open_offset, close, text) or None


def item_end(loc, item: cst.CSTNode) -> int | None:
    """Offset just past a parameter or argument, without its comma.  (libcst's position of a Param covers
    only its name, and those of `*`/`/` markers include the comma.)"""
    if isinstance(item, cst.Param):
        last = item.default or (item.annotation.annotation if item.annotation is not None else None) or item.name
        end = loc.span(last)[1]
        for _ in getattr(last, "rpar", ()):  # `b=(1)`: the parentheses around the default
            close = bracket_after(loc.text, end, ")")
            if close is None:
                return None
            end = close + 1
        return end
    if isinstance(item, (cst.ParamStar, cst.ParamSlash)):
        return loc.span(item)[0] + 1
    return loc.span(item)[1]
