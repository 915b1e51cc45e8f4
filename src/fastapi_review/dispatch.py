"""A read-only, single-walk dispatcher for many visitor-shaped rules.

libcst's own ``module.visit`` rebuilds every node as it goes (0.6-1.2x the parse time);
this walk only reads dataclass fields, skips whitespace and token fields, and calls
``visit_<Node>`` / ``leave_<Node>`` of every visitor that defines them.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Sequence

import libcst as cst

# Fields that hold whitespace, comments, punctuation or plain strings: never walked.
_SKIP_FIELDS = frozenset(
    {
        "asynchronous", "colon", "comma", "comment", "conversion", "default_indent",
        "default_newline", "dot", "empty_lines", "encoding", "equal", "first_colon", "footer",
        "has_trailing_newline", "header", "indent", "lbrace", "lbracket", "leading_lines",
        "leading_whitespace", "lines_after_decorators", "lpar", "newline", "operator",
        "posonly_ind", "rbrace", "rbracket", "relative", "rpar", "second_colon", "semicolon",
        "trailing_whitespace", "whitespace", "whitespace_after", "whitespace_before",
    }
)

_fields_cache: dict[type, tuple[str, ...]] = {}


def _walked_fields(node_type: type) -> tuple[str, ...]:
    fields = _fields_cache.get(node_type)
    if fields is None:
        fields = tuple(
            f.name
            for f in dataclasses.fields(node_type)
            if f.name not in _SKIP_FIELDS and not f.name.startswith("whitespace_")
        )
        _fields_cache[node_type] = fields
    return fields


Entry = tuple[tuple[Callable[[cst.CSTNode], object], ...], tuple[Callable[[cst.CSTNode], object], ...], tuple[str, ...]]


class Dispatcher:
    """Walks a module once, calling every visitor's ``visit_X``/``leave_X`` for node type X.

    Visitors are called in the given order on visit and in reverse order on leave, so a
    context-keeping visitor placed first sees every node before the rules and after them.
    """

    def __init__(self, visitors: Sequence[object]) -> None:
        self._visitors = visitors
        self._table: dict[type, Entry] = {}

    def _entry(self, node_type: type) -> Entry:
        name = node_type.__name__
        visits = tuple(
            m for v in self._visitors if (m := getattr(v, "visit_" + name, None)) is not None
        )
        leaves = tuple(
            m for v in reversed(self._visitors) if (m := getattr(v, "leave_" + name, None)) is not None
        )
        entry = (visits, leaves, _walked_fields(node_type))
        self._table[node_type] = entry
        return entry

    def walk(self, node: cst.CSTNode) -> None:
        """Dispatch `node` and its descendants in source order."""
        entry = self._table.get(node.__class__)
        if entry is None:
            entry = self._entry(node.__class__)
        visits, leaves, fields = entry
        for visit in visits:
            visit(node)
        walk = self.walk
        base = cst.CSTNode
        for name in fields:
            value = getattr(node, name)
            cls = value.__class__
            if cls is tuple or cls is list:
                for child in value:
                    if isinstance(child, base):
                        walk(child)
            elif isinstance(value, base):
                walk(value)
        for leave in leaves:
            leave(node)
