"""Reading type annotations — the one walker through string annotations, `X | Y`, `Optional` /
`Union` and `Annotated` — and what they name: the classes (`list[UserRead]` → UserRead) and
annotations that validate nothing (`dict`, `Dict[...]`, `list[dict]`, `Any`, `object`)."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from fastapi_review.semantics.context import Context
from fastapi_review.syntax import dotted_name

_DICTS = frozenset({"dict", "Dict", "typing.Dict", "Mapping", "typing.Mapping", "MutableMapping"})
_LISTS = frozenset({"list", "List", "typing.List", "Sequence", "typing.Sequence"})
_ANYS = frozenset({"Any", "typing.Any", "object"})


def parse_string_annotation(annotation: cst.SimpleString) -> Optional[cst.BaseExpression]:
    """The expression inside a string annotation (`"User"`, `"list[User]"`); None if it is not one."""
    try:
        return cst.parse_expression(annotation.evaluated_value)  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001 - an unparsable string annotation names nothing
        return None


def unwrap_annotation(annotation: cst.BaseExpression, scope: Context) -> list[cst.BaseExpression]:
    """The type expressions inside `Annotated[T, ...]`, `Optional[T]`, `T | None`, quotes."""
    if isinstance(annotation, cst.SimpleString):
        parsed = parse_string_annotation(annotation)
        if parsed is None:
            return []
        annotation = parsed
    if isinstance(annotation, cst.BinaryOperation) and isinstance(annotation.operator, cst.BitOr):
        return unwrap_annotation(annotation.left, scope) + unwrap_annotation(annotation.right, scope)
    if isinstance(annotation, cst.Subscript):
        head = _last_qualified(annotation.value, scope)
        elements = [e.slice.value for e in annotation.slice if isinstance(e.slice, cst.Index)]
        if head == "Annotated" and elements:
            return unwrap_annotation(elements[0], scope)
        if head in ("Optional", "Union"):
            return [t for e in elements for t in unwrap_annotation(e, scope)]
    return [annotation]


def _last_qualified(expr: cst.BaseExpression, scope: Context) -> str:
    """The last part of `scope.qualify(expr)` ("" when it has none), without building the name:
    an attribute chain keeps its last attribute; a plain name is its import's target or itself."""
    if isinstance(expr, cst.Name):
        target = scope.imports.aliases.get(expr.value)
        return target.rsplit(".", 1)[-1] if target is not None else expr.value
    if isinstance(expr, cst.Attribute) and dotted_name(expr) is not None:
        return expr.attr.value
    return ""


def _name(expr: cst.BaseExpression, scope: Context) -> Optional[str]:
    name = dotted_name(expr)
    if name is None:
        return None
    resolved = scope.imports.resolve_dotted(name)
    if resolved in ("typing.Any", "typing.Dict", "typing.List", "typing.Mapping", "typing.Sequence",
                    "collections.abc.Mapping", "collections.abc.Sequence", "collections.abc.MutableMapping"):
        return resolved.rsplit(".", 1)[-1]
    return name if resolved is None else None


def untyped_container(annotation: cst.BaseExpression, scope: Context) -> Optional[str]:
    """A short description when `annotation` is an unvalidated dict / list of dicts / Any."""
    if isinstance(annotation, cst.Subscript):
        head = _name(annotation.value, scope)
        if head in _DICTS:
            # `dict[UUID, int]` is a typed map: FastAPI validates and documents it
            args = [e.slice.value for e in annotation.slice if isinstance(e.slice, cst.Index)]
            if len(args) == 2 and untyped_container(args[1], scope) is None and _name(args[1], scope) is not None:
                return None
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


_CONTAINERS = frozenset({"list", "List", "Sequence", "set", "Set", "frozenset", "tuple", "Tuple", "Iterable", "Optional", "Union"})
_NOT_CLASSES = frozenset({"None", "str", "int", "float", "bool", "bytes", "dict", "Dict", "Any", "object", "list", "Literal"})


def type_refs(annotation: cst.BaseExpression, scope: Context, through_generics: bool) -> list[str]:
    """Qualified classes an annotation names: `list[UserRead]` → [UserRead], `Optional[S]` → [S];
    with `through_generics`, also the arguments of other generics (`Page[UserRead]` → [Page, UserRead])."""
    if isinstance(annotation, (cst.Name, cst.Attribute)):  # most annotations: nothing to unwrap
        return _part_refs(annotation, scope, through_generics)
    return [ref for part in unwrap_annotation(annotation, scope) for ref in _part_refs(part, scope, through_generics)]


def _part_refs(annotation: cst.BaseExpression, scope: Context, through_generics: bool) -> list[str]:
    if isinstance(annotation, cst.Subscript):
        head = dotted_name(annotation.value) or ""
        args = [e.slice.value for e in annotation.slice if isinstance(e.slice, cst.Index)]
        if head.rsplit(".", 1)[-1] in _CONTAINERS:
            return [r for a in args for r in type_refs(a, scope, through_generics)]
        refs = type_refs(annotation.value, scope, through_generics)
        if through_generics:
            refs += [r for a in args for r in type_refs(a, scope, through_generics)]
        return refs
    name = dotted_name(annotation)
    if name is None or name.rsplit(".", 1)[-1] in _NOT_CLASSES:
        return []
    qualified = scope.qualify(annotation)
    return [qualified] if qualified is not None and not qualified.startswith(("typing.", "builtins.")) else []
