"""A read-only, single-walk dispatcher for many visitor-shaped rules.

libcst's own ``module.visit`` rebuilds every node as it goes (0.6-1.2x the parse time);
this walk only reads dataclass fields, skips whitespace and token fields, and calls
``visit_<Node>`` / ``leave_<Node>`` of every visitor that defines them.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import typing
from typing import Callable, Optional, Sequence

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

_NODE, _SEQUENCE, _MAYBE = 0, 1, 2
_fields_cache: dict[type, tuple[tuple[str, int], ...]] = {}


def _field_kind(annotation: object) -> Optional[int]:
    """How to walk a field, from its dataclass type: a node, a sequence of nodes, maybe a node."""
    if isinstance(annotation, type):
        if issubclass(annotation, cst.CSTNode):
            return _NODE
        return None  # str, bool: plain values
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return None
    if origin in (collections.abc.Sequence, list, tuple):
        return _SEQUENCE
    if origin is typing.Union:
        plain = (str, bool, int, type(None))
        args = typing.get_args(annotation)
        if all(a in plain or typing.get_origin(a) is typing.Literal for a in args):
            return None
    return _MAYBE  # forward references, unions with nodes or sequences: check at run time


def _walked_fields(node_type: type) -> tuple[tuple[str, int], ...]:
    fields = _fields_cache.get(node_type)
    if fields is None:
        fields = tuple(
            (f.name, kind)
            for f in dataclasses.fields(node_type)
            if f.name not in _SKIP_FIELDS
            and not f.name.startswith("whitespace_")
            and (kind := _field_kind(f.type)) is not None
        )
        _fields_cache[node_type] = fields
    return fields


Entry = tuple[
    tuple[Callable[[cst.CSTNode], object], ...],
    tuple[Callable[[cst.CSTNode], object], ...],
    tuple[tuple[str, int], ...],
]


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
        for name, kind in fields:
            value = getattr(node, name)
            if kind == _NODE:
                walk(value)
            elif kind == _SEQUENCE:
                for child in value:
                    walk(child)
            elif isinstance(value, cst.CSTNode):
                walk(value)
            elif value.__class__ is tuple or value.__class__ is list:  # Union[Sequence[X], Y]
                for child in value:
                    walk(child)
        for leave in leaves:
            leave(node)
