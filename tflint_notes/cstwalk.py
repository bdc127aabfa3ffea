"""A read-only walk over libcst nodes that is several times faster than `CSTNode.visit`.

libcst's own visitor rebuilds every node it passes (`_visit_and_replace_children`), even for
read-only visitors.  Reading dataclass fields directly, and skipping the fields that only hold
whitespace and punctuation, avoids that.
"""

from __future__ import annotations

import dataclasses
from typing import Iterator

import libcst as cst

_SKIPPED_FIELD_PARTS = ("whitespace", "leading_lines", "lines_after", "lpar", "rpar", "comma",
                        "semicolon", "colon", "equal", "header", "footer", "dot", "operator",
                        "asynchronous", "star", "newline", "indent", "arrow")
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def child_fields(node_type: type) -> tuple[str, ...]:
    """Names of the fields of `node_type` that can hold meaningful child nodes."""
    names = _CHILD_FIELDS.get(node_type)
    if names is None:
        names = tuple(f.name for f in dataclasses.fields(node_type)
                      if not any(part in f.name for part in _SKIPPED_FIELD_PARTS))
        _CHILD_FIELDS[node_type] = names
    return names


def children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    base = cst.CSTNode
    for name in child_fields(type(node)):
        value = getattr(node, name)
        if isinstance(value, base):
            yield value
        elif type(value) is tuple or type(value) is list:
            for item in value:
                if isinstance(item, base):
                    yield item


def walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Every node under `node` (not `node` itself), in no particular order."""
    stack = list(children(node))
    while stack:
        current = stack.pop()
        yield current
        stack.extend(children(current))


def contains(root: cst.CSTNode, node: cst.CSTNode) -> bool:
    """Is `node` (by identity) `root` or inside it?"""
    stack = [root]
    while stack:
        current = stack.pop()
        if current is node:
            return True
        stack.extend(children(current))
    return False
