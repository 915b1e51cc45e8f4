"""Type annotations that validate nothing: `dict`, `Dict[...]`, `list[dict]`, `Any`, `object`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

import libcst as cst

from fastapi_review.semantics.names import dotted_name

if TYPE_CHECKING:
    from fastapi_review.semantics.scope import Scope

_DICTS = frozenset({"dict", "Dict", "typing.Dict", "Mapping", "typing.Mapping", "MutableMapping"})
_LISTS = frozenset({"list", "List", "typing.List", "Sequence", "typing.Sequence"})
_ANYS = frozenset({"Any", "typing.Any", "object"})


def _name(expr: cst.BaseExpression, scope: "Scope") -> Optional[str]:
    name = dotted_name(expr)
    if name is None:
        return None
    resolved = scope.imports.resolve_dotted(name)
    if resolved in ("typing.Any", "typing.Dict", "typing.List", "typing.Mapping", "typing.Sequence",
                    "collections.abc.Mapping", "collections.abc.Sequence", "collections.abc.MutableMapping"):
        return resolved.rsplit(".", 1)[-1]
    return name if resolved is None else None


def untyped_container(annotation: cst.BaseExpression, scope: "Scope") -> Optional[str]:
    """A short description when `annotation` is an unvalidated dict / list of dicts / Any."""
    if isinstance(annotation, cst.Subscript):
        head = _name(annotation.value, scope)
        if head in _DICTS:
            return "a dict"
        if head in _LISTS:
            elements = [e.slice.value for e in annotation.slice if isinstance(e.slice, cst.Index)]
            if len(elements) == 1 and untyped_container(elements[0], scope) == "a dict":
                return "a list of dicts"
        return None
    name = _name(annotation, scope)
    if name in _DICTS:
        return "a dict"
    if name in _ANYS:
        return "Any" if name != "object" else "object"
    return None
