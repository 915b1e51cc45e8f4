"""A read-only, single-walk dispatcher for many visitor-shaped rules.

libcst's own ``module.visit`` rebuilds every node as it goes (0.6-1.2x the parse time);
this walk only reads dataclass fields, skips whitespace and token fields, and calls
``visit_<Node>`` / ``leave_<Node>`` of every visitor that defines them.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import typing
from typing import Callable, Iterator, Optional, Sequence

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


_node_classes: dict[type, bool] = {}


def _is_node(cls: type) -> bool:
    """isinstance(value, CSTNode) by class, memoized (CSTNode is an ABC: isinstance is slow)."""
    known = _node_classes.get(cls)
    if known is None:
        known = _node_classes[cls] = issubclass(cls, cst.CSTNode)
    return known


def iter_children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The node's children that the walk visits (no whitespace or tokens), without libcst's
    visitor-based `children` property (which costs a visitor dispatch per field)."""
    for name, kind in _walked_fields(node.__class__):
        value = getattr(node, name)
        if kind == _NODE:
            yield value
        elif value is not None and _is_node(value.__class__):
            yield value
        elif value.__class__ is tuple or value.__class__ is list:
            yield from value


Method = tuple[int, Callable[[object, cst.CSTNode], object]]  # (visitor index, unbound function)
Entry = tuple[tuple[Method, ...], tuple[Method, ...], tuple[tuple[str, int], ...]]


class _Plan:
    """What to call for each node type, for one tuple of visitor classes (shared by all files)."""

    def __init__(self, classes: tuple[type, ...]) -> None:
        self.classes = classes
        self.entries: dict[type, Entry] = {}
        # node types with nothing to call and nothing to walk below: never entered
        self.inert: set[type] = set()

    def entry(self, node_type: type) -> Entry:
        name = node_type.__name__
        visits = tuple(
            (i, f) for i, c in enumerate(self.classes) if (f := getattr(c, "visit_" + name, None)) is not None
        )
        leaves = tuple(
            (i, f)
            for i, c in reversed(list(enumerate(self.classes)))
            if (f := getattr(c, "leave_" + name, None)) is not None
        )
        entry = (visits, leaves, _walked_fields(node_type))
        self.entries[node_type] = entry
        if not visits and not leaves and not entry[2]:
            self.inert.add(node_type)
        return entry


_plans: dict[tuple[type, ...], _Plan] = {}


class Dispatcher:
    """Walks a module once, calling every visitor's ``visit_X``/``leave_X`` for node type X.

    Visitors are called in the given order on visit and in reverse order on leave, so a
    context-keeping visitor placed first sees every node before the rules and after them.
    """

    def __init__(self, visitors: Sequence[object]) -> None:
        self._visitors = tuple(visitors)
        classes = tuple(type(v) for v in self._visitors)
        plan = _plans.get(classes)
        if plan is None:
            plan = _plans[classes] = _Plan(classes)
        self._plan = plan

    def walk(self, node: cst.CSTNode) -> None:
        """Dispatch `node` and its descendants in source order."""
        plan = self._plan
        entry = plan.entries.get(node.__class__)
        if entry is None:
            entry = plan.entry(node.__class__)
        visits, leaves, fields = entry
        visitors = self._visitors
        for index, visit in visits:
            visit(visitors[index], node)
        walk = self.walk
        inert = plan.inert
        for name, kind in fields:
            value = getattr(node, name)
            if kind == _NODE:
                if value.__class__ not in inert:
                    walk(value)
            elif kind == _SEQUENCE:
                for child in value:
                    if child.__class__ not in inert:
                        walk(child)
            elif value is None:
                continue
            elif _is_node(value.__class__):
                walk(value)
            elif value.__class__ is tuple or value.__class__ is list:  # Union[Sequence[X], Y]
                for child in value:
                    walk(child)
        for index, leave in leaves:
            leave(visitors[index], node)
