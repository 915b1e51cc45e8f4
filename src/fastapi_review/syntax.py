"""Generic questions about libcst nodes, with no FastAPI, SQLAlchemy or Pydantic knowledge:
dotted names, call arguments, string literals.  The ground floor: it imports only libcst."""

from __future__ import annotations

import re
from typing import Optional

import libcst as cst

_UPPER_CASE = re.compile(r"^_*[A-Z][A-Z0-9_]*$")


def dotted_name(node: cst.BaseExpression) -> Optional[str]:
    """`a.b.c` for a Name/Attribute chain, else None."""
    parts: list[str] = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if isinstance(node, cst.Name):
        parts.append(node.value)
        return ".".join(reversed(parts))
    return None


def last_name(node: cst.BaseExpression) -> Optional[str]:
    """The last identifier of a Name/Attribute (`sa.orm.relationship` → "relationship"), cheaply."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return None


def keyword_arg(call: cst.Call, name: str) -> Optional[cst.Arg]:
    """The `name=` argument of a call, if present."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def positional_arg(call: cst.Call, index: int) -> Optional[cst.Arg]:
    """The index-th positional argument of a call, if present (stops at *args)."""
    position = 0
    for arg in call.args:
        if arg.keyword is not None:
            continue
        if arg.star:
            return None
        if position == index:
            return arg
        position += 1
    return None


def arg_is(arg: Optional[cst.Arg], value: str) -> bool:
    """An argument whose value is the name `value` (`True`, `False`, `None`)."""
    return arg is not None and isinstance(arg.value, cst.Name) and arg.value.value == value


def keyword_is(call: cst.Call, keyword: str, value: str) -> bool:
    """`call(..., keyword=<value>)` with a name value (`True`, `False`, `None`)."""
    return arg_is(keyword_arg(call, keyword), value)


def string_value(expr: Optional[cst.BaseExpression]) -> Optional[str]:
    """The value of a plain (non-f) string literal, else None."""
    if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString)):
        value = expr.evaluated_value
        return value if isinstance(value, str) else None
    return None


def unsubscript(expr: cst.BaseExpression) -> cst.BaseExpression:
    """`RootModel[list[int]]` → `RootModel`: a generic is its origin."""
    return expr.value if isinstance(expr, cst.Subscript) else expr


def called(expr: cst.BaseExpression) -> cst.BaseExpression:
    """`f(...)` → `f`; any other expression as it is (decorators with and without arguments)."""
    return expr.func if isinstance(expr, cst.Call) else expr


def source_text(expr: cst.CSTNode) -> str:
    """The code of a node on its own (no surrounding whitespace)."""
    return cst.Module([]).code_for_node(expr)


def is_constant_name(name: str) -> bool:
    """UPPER_CASE names are module-level constants by convention."""
    return bool(_UPPER_CASE.match(name))
