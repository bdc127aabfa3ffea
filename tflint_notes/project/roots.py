"""Which modules can hold a graph root, decided on their bytes before anything is parsed.

Looking for the graph roots of a project (`ProjectIndex._roots`) is the one place the index needs the facts
of modules nobody asked about, and parsing them is most of the index's price: on keras, tf_keras and
tensorflow/python, a loose marker (`.function`, `.map(`, `def call`) admits 691 of 2,692 modules, of which 15
hold a root.  `may_hold_root` answers "no" only where the facts (`facts.py`) cannot find one:

- `@tf.function` (any spelling ending in `function`) decorates a module-level function or a method of a
  module-level class: a decorator whose enclosing blocks include a `def` is on a nested function, which the
  facts never take for a root;
- `tf.function(f)` wraps a name (`f`, `helpers.f`): a lambda or a call is not a resolvable target;
- an alias of `tf.function` (`tff = tf.function`, `import function as tff`): any use may be a root;
- `<dataset>.map(f)` and friends (`map_func=f`) wrap a name, and count only on a `tensorflow.data` dataset:
  the module must name `data` outside `tensorflow.python.data` (TensorFlow's internals, which the facts do
  not take for tf.data);
- `def call` / `train_step` / `test_step` / `predict_step` not nested in a `def` (a Keras graph method).

A `def` line is trusted only outside triple-quoted strings (an even count of triple quotes before it); any
doubt answers "maybe".  `tests/test_project_index.py` checks the answer against the facts on real modules.
"""

from __future__ import annotations

import bisect
import re

__all__ = ["may_hold_root"]

# Every pattern starts with a literal: the regex engine then skips ahead with a fast scan (a pattern that
# starts with `^` or a class tries every position and cost 2 s over the 2,692 modules).
_DECORATOR = re.compile(rb"@[ \t]*(?:[\w.]+\.)?function\b")
_WRAP = re.compile(rb"function(?<!\wfunction)\s*\(\s*(?!lambda\b)[A-Za-z_][\w.]*\s*[,)]")
_ALIAS_TAIL = re.compile(rb"function[ \t]*(?:#[^\n]*)?$|function\s+as\s+\w", re.M)
_ALIAS_HEAD = re.compile(rb"[ \t]*\w+\s*=\s*[\w.]*")
_CALLBACK = re.compile(rb"\.(?:map|filter|flat_map|interleave)\s*\(\s*(?!lambda\b)[A-Za-z_][\w.]*\s*[,)]")
_CALLBACK_KEYWORDS = (re.compile(rb"map_func\s*=\s*(?!lambda\b)[A-Za-z_]"),
                      re.compile(rb"predicate\s*=\s*(?!lambda\b)[A-Za-z_]"))
_DATA = re.compile(rb"\.data\b(?<!python\.data)|import\b[^\n]*\bdata\b|import[ \t]*[(\\]")
_GRAPH_METHOD = re.compile(rb"def[ \t]+(?:call|train_step|test_step|predict_step)\b")
_TRIPLE_QUOTES = re.compile(rb"\"\"\"|'''")


def may_hold_root(data: bytes) -> bool:
    """False only when the facts of this module cannot hold a graph root (see the module docstring)."""
    if b"function" in data:
        if _WRAP.search(data) or any(_is_alias(data, m) for m in _ALIAS_TAIL.finditer(data)):
            return True
        decorators = _at_line_start(data, _DECORATOR.finditer(data))
        if decorators and _any_outside_defs(data, decorators):
            return True
    if (_CALLBACK.search(data) or any(k.search(data) for k in _CALLBACK_KEYWORDS)) and _DATA.search(data):
        return True
    if b"def" in data:
        methods = _at_line_start(data, _GRAPH_METHOD.finditer(data), prefix=(b"async",))
        return bool(methods) and _any_outside_defs(data, methods)
    return False


def _is_alias(data: bytes, match: re.Match) -> bool:
    """`tff = tf.function` (a name bound to tf.function) or `import function as tff`."""
    if not match.group().startswith(b"function") or b" as" in match.group() or b"\tas" in match.group():
        return True
    start = data.rfind(b"\n", 0, match.start()) + 1
    return _ALIAS_HEAD.fullmatch(data, start, match.start()) is not None


def _at_line_start(data: bytes, matches, prefix: tuple = ()) -> list[tuple[int, int]]:
    """(line start, indentation) of the matches that begin their line (after `prefix` words, e.g. async)."""
    out = []
    for match in matches:
        start = data.rfind(b"\n", 0, match.start()) + 1
        head = data[start:match.start()]
        for word in prefix:
            stripped = head.rstrip(b" \t")
            if stripped.endswith(word) and stripped != head:
                head = stripped[:-len(word)]
        if not head.strip(b" \t"):
            out.append((start, len(head)))
    return out


def _any_outside_defs(data: bytes, found: list[tuple[int, int]]) -> bool:
    """Is any of these lines ((line start, indentation)) outside every `def`?  Walks up its enclosing blocks:
    each is the nearest code line above (not blank, not a comment) with less indentation.  Tabs count as one
    column: a mix that confuses the walk can only end it early, answering True."""
    if any(indent == 0 for _, indent in found):
        return True
    deepest = max(indent for _, indent in found)
    lines = [(m.start(), len(m.group(1)), m.group(2) is not None)
             for m in re.finditer(rb"^([ \t]{0,%d})(?![ \t#\r\n])((?:async[ \t]+)?def[ \t])?" % (deepest - 1),
                                  data, re.M)]
    starts = [start for start, _, _ in lines]
    quotes = None
    for line_start, indent in found:
        at = bisect.bisect_left(starts, line_start) - 1
        nested = False
        while indent > 0 and at >= 0:
            start, depth, is_def = lines[at]
            at -= 1
            if depth >= indent:
                continue
            if is_def:
                if quotes is None:
                    quotes = [m.start() for m in _TRIPLE_QUOTES.finditer(data)]
                if bisect.bisect_left(quotes, start) % 2 == 0:  # the `def` is code, not inside a string
                    nested = True
                    break
            indent = depth
        if not nested:
            return True
    return False
