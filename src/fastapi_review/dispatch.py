"""A read-only, single-walk dispatcher for many visitor-shaped rules.

libcst's own ``module.visit`` rebuilds every node as it goes (0.6-1.2x the parse time);
this walk only reads dataclass fields, skips whitespace and token fields, and calls
``visit_<Node>`` / ``leave_<Node>`` of every visitor that defines them.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import typing
from typing import Iterator, Optional, Sequence

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


# The code of a function body itself, without what runs at another time: nested functions,
# classes and lambdas (`descendants(body, skip=NESTED_SCOPES)`).
NESTED_SCOPES: tuple[type, ...] = (cst.FunctionDef, cst.ClassDef, cst.Lambda)


def descendants(node: cst.CSTNode, skip: tuple[type, ...] = ()) -> list[cst.CSTNode]:
    """`node` and every node below it that the walk visits, in source order (preorder); a
    subtree whose root is an instance of one of `skip` is left out whole (`(cst.Lambda,)`:
    code that runs later).  A list, not a generator: searches read most of it anyway, and
    resuming a generator per node costs more than the list."""
    found: list[cst.CSTNode] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if skip and isinstance(current, skip):
            continue
        found.append(current)
        children = list(iter_children(current))
        children.reverse()
        stack.extend(children)
    return found


_CHILD = """
{indent}walker = walkers.get({child}.__class__)
{indent}if walker is None:
{indent}    walker = make({child}.__class__)
{indent}if walker:
{indent}    walker({child}, visitors, walkers, make)"""


class _Plan:
    """What to do at each node type, for one tuple of visitor classes (shared by all files):
    a walker generated for the type (its visitors' methods called in order, its fields walked
    one by one, then the leave methods in reverse order), or False for types with nothing to
    call and nothing below them, which are never entered."""

    def __init__(self, classes: tuple[type, ...]) -> None:
        self.classes = classes
        self.walkers: dict[type, object] = {}

    def make(self, node_type: type) -> object:
        """The walker of `node_type` (generated once for all plans that call the same methods)."""
        name = node_type.__name__
        visits = tuple(
            (index, method)
            for index, visitor_class in enumerate(self.classes)
            if (method := getattr(visitor_class, "visit_" + name, None)) is not None
        )
        leaves = tuple(
            (index, method)
            for index, visitor_class in reversed(list(enumerate(self.classes)))
            if (method := getattr(visitor_class, "leave_" + name, None)) is not None
        )
        key = (node_type, visits, leaves)
        walker = _generated.get(key)
        if walker is None:
            walker = _generated[key] = _generate_walker(node_type, visits, leaves)
        self.walkers[node_type] = walker
        return walker


# Walkers by (node type, visit methods, leave methods): the plans of files that differ in a
# few rules (see Rule.mentions) share the walkers of every node type those rules do not visit.
_generated: dict[tuple[type, tuple[tuple[int, object], ...], tuple[tuple[int, object], ...]], object] = {}


def _generate_walker(
    node_type: type, visits: tuple[tuple[int, object], ...], leaves: tuple[tuple[int, object], ...]
) -> object:
    name = node_type.__name__
    namespace: dict[str, object] = {"_is_node": _is_node}
    body = []
    for index, method in visits:
        namespace[f"visit{index}"] = method
        body.append(f"    visit{index}(visitors[{index}], node)")
    for field_name, kind in _walked_fields(node_type):
        if kind == _NODE:
            body.append(_CHILD.format(indent="    ", child=f"node.{field_name}"))
        elif kind == _SEQUENCE:
            body.append(f"    for child in node.{field_name}:" + _CHILD.format(indent="        ", child="child"))
        else:  # maybe a node, maybe a sequence of nodes (Union[Sequence[X], Y]), maybe None
            body.append(f"    value = node.{field_name}")
            body.append("    if value is None:\n        pass")
            body.append("    elif _is_node(value.__class__):" + _CHILD.format(indent="        ", child="value"))
            body.append("    elif value.__class__ is tuple or value.__class__ is list:")
            body.append("        for child in value:" + _CHILD.format(indent="            ", child="child"))
    for index, method in leaves:
        namespace[f"leave{index}"] = method
        body.append(f"    leave{index}(visitors[{index}], node)")
    if not body:
        return False
    source = f"def walk_{name}(node, visitors, walkers, make):\n" + "\n".join(body) + "\n"
    exec(compile(source, f"<fastapi-review walk {name}>", "exec"), namespace)  # noqa: S102
    return namespace[f"walk_{name}"]


_plans: dict[tuple[type, ...], _Plan] = {}


class Dispatcher:
    """Walks a module once, calling every visitor's ``visit_X``/``leave_X`` for node type X.

    Visitors are called in the given order on visit and in reverse order on leave, so a
    context-keeping visitor placed first sees every node before the rules and after them.
    The walk runs through code generated per node type (see _Plan): a generic loop over the
    fields costs nearly twice as much per node.
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
        walker = plan.walkers.get(node.__class__)
        if walker is None:
            walker = plan.make(node.__class__)
        if walker:
            walker(node, self._visitors, plan.walkers, plan.make)  # type: ignore[operator]
