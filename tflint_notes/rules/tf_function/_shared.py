"""Helpers shared by the rules of this family (split from tf_function.py)."""

from __future__ import annotations

import libcst as cst


def _code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


def _is_builtin(ctx, node: cst.BaseExpression, name: str) -> bool:
    """`node` is the builtin `name` (not imported, defined or assigned in this module or function)."""
    if not isinstance(node, cst.Name) or node.value != name:
        return False
    if ctx.resolve(node) is not None or ctx.module_function(name) is not None or ctx.local_class(name) is not None:
        return False
    if any(name in f.bound for f in ctx.function_stack):
        return False
    return ctx.name_is_free(name)


def _is_none_node(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"
