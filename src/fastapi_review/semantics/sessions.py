"""Session expressions (RULES.md "Shared vocabulary": Session expression)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Optional

import libcst as cst

from fastapi_review.facts import Requirement
from fastapi_review.semantics.names import may_be_project_name
from fastapi_review.syntax import dotted_name

if TYPE_CHECKING:
    from fastapi_review.semantics.scope import Scope

SESSION_CLASS_NAMES = frozenset({"AsyncSession", "Session", "async_scoped_session", "scoped_session"})
CONNECTION_CLASS_NAMES = frozenset({"AsyncConnection", "Connection"})
# Conventional names of session factories (`SessionLocal = sessionmaker(...)` in another
# module); a bare `Session` is not one of them (requests.Session, a model named Session...).
_FACTORY_NAME = re.compile(r"(?i)^(async_?)?session_?(local|maker|factory)$|^async_session$")
_SESSIONMAKERS = frozenset({"sessionmaker", "async_sessionmaker"})
DEFAULT_SESSION_NAMES = ("session", "db", "db_session", "async_session")
_NOT_DATABASE_LIBRARIES = frozenset({"requests", "httpx", "aiohttp", "boto3", "aioboto3", "botocore"})


def looks_like_session_factory(name: str) -> bool:
    """Conventional factory names: SessionLocal, async_session_maker, session_factory, …"""
    return bool(_FACTORY_NAME.match(name) or name.lower() in ("sessionmaker", "async_sessionmaker"))


def _is_orm_qualname(qualname: Optional[str], names: frozenset[str]) -> bool:
    if not qualname:
        return False
    module, _, last = qualname.rpartition(".")
    return last in names and (module.startswith("sqlalchemy") or module.startswith("sqlmodel"))


def unwrap_annotation(annotation: cst.BaseExpression, scope: "Scope") -> list[cst.BaseExpression]:
    """The type expressions inside `Annotated[T, ...]`, `Optional[T]`, `T | None`, quotes."""
    if isinstance(annotation, cst.SimpleString):
        try:
            annotation = cst.parse_expression(annotation.evaluated_value)  # type: ignore[arg-type]
        except Exception:  # noqa: BLE001 - an unparsable string annotation says nothing
            return []
    if isinstance(annotation, cst.BinaryOperation) and isinstance(annotation.operator, cst.BitOr):
        return unwrap_annotation(annotation.left, scope) + unwrap_annotation(annotation.right, scope)
    if isinstance(annotation, cst.Subscript):
        head = (scope.qualify(annotation.value) or "").rsplit(".", 1)[-1]
        elements = [e.slice.value for e in annotation.slice if isinstance(e.slice, cst.Index)]
        if head == "Annotated" and elements:
            return unwrap_annotation(elements[0], scope)
        if head in ("Optional", "Union"):
            return [t for e in elements for t in unwrap_annotation(e, scope)]
    return [annotation]


ASYNC_KINDS = {"AsyncSession": "session", "async_scoped_session": "session", "AsyncConnection": "connection"}
SYNC_SESSION_NAMES = frozenset({"Session", "scoped_session"})


def session_class_name(annotation: cst.BaseExpression, scope: "Scope") -> Optional[str]:
    """`AsyncSession`, `Session`, `AsyncConnection`, … named by an annotation (or a local alias)."""
    for t in unwrap_annotation(annotation, scope):
        qualified = scope.imports.resolve(t)
        if _is_orm_qualname(qualified, SESSION_CLASS_NAMES | CONNECTION_CLASS_NAMES):
            return qualified.rsplit(".", 1)[-1]  # type: ignore[union-attr]
        if isinstance(t, cst.Name) and t.value in scope.session_aliases:
            return scope.session_aliases[t.value]
    return None


def is_session_annotation(annotation: cst.BaseExpression, scope: "Scope") -> bool:
    """An annotation naming a SQLAlchemy / SQLModel session class, or a local alias of one."""
    return session_class_name(annotation, scope) in SESSION_CLASS_NAMES


def is_sync_session_annotation(annotation: cst.BaseExpression, scope: "Scope") -> bool:
    """An annotation naming the sync `Session` / `scoped_session` (or a local alias of one)."""
    return session_class_name(annotation, scope) in SYNC_SESSION_NAMES


def is_sync_session_call(call: cst.Call, scope: "Scope") -> bool:
    """`Session(...)` or a call of a name bound to a sync `sessionmaker(...)` in this module."""
    qualified = scope.callee(call)
    if _is_orm_qualname(qualified, SYNC_SESSION_NAMES):
        return True
    name = dotted_name(call.func)
    return name is not None and scope.session_factories.get(name) == "sync"


def async_session_kind(expr: cst.BaseExpression, scope: "Scope") -> Optional[str]:
    """"session" / "connection" when `expr` is known to be an AsyncSession / AsyncConnection."""
    function = scope.function
    if function is None or not isinstance(expr, cst.Name):
        return None
    if expr.value in function.async_session_locals:
        return function.async_session_locals[expr.value]
    annotation = function.params.get(expr.value)
    if annotation is None:
        return None
    return ASYNC_KINDS.get(session_class_name(annotation, scope) or "")


def session_alias_requirement(expr: cst.BaseExpression, scope: "Scope") -> Optional[Requirement]:
    """For a parameter annotated with an imported alias (`db: SessionDep`): the index check."""
    function = scope.function
    if function is None or not isinstance(expr, cst.Name):
        return None
    annotation = function.params.get(expr.value)
    if annotation is None:
        return None
    for t in unwrap_annotation(annotation, scope):
        qualified = scope.imports.resolve(t)
        if qualified is not None and may_be_project_name(qualified):
            return ("session_alias", qualified)
    return None


def is_connection_annotation(annotation: cst.BaseExpression, scope: "Scope") -> bool:
    """An annotation naming a SQLAlchemy (async) connection class."""
    return any(
        _is_orm_qualname(scope.imports.resolve(t), CONNECTION_CLASS_NAMES)
        for t in unwrap_annotation(annotation, scope)
    )


def is_session_factory_call(expr: cst.BaseExpression, scope: "Scope") -> bool:
    """`AsyncSession(...)`, `Session(...)`, or a call of a name bound to (async_)sessionmaker().

    Calling `sessionmaker(...)` itself makes a factory, not a session; a factory received as a
    parameter was injected.
    """
    if not isinstance(expr, cst.Call):
        return False
    qualified = scope.callee(expr)
    if _is_orm_qualname(qualified, SESSION_CLASS_NAMES):
        return True
    if _is_orm_qualname(qualified, _SESSIONMAKERS):
        return False
    name = dotted_name(expr.func)
    if name is None:
        return False
    if name in scope.session_factories:
        return True
    function = scope.function
    if function is not None and name.split(".", 1)[0] in function.params and not name.startswith(("self.", "cls.")):
        return False
    if qualified is not None and qualified.split(".", 1)[0] in _NOT_DATABASE_LIBRARIES:
        return False
    return bool(_FACTORY_NAME.match(name.rsplit(".", 1)[-1]))


def is_session_expr(expr: cst.BaseExpression, scope: "Scope", session_names: tuple[str, ...]) -> bool:
    """Whether `expr` denotes a database session in the current function."""
    if isinstance(expr, cst.Name):
        function = scope.function
        if function is None:
            return False
        if expr.value in function.session_locals:
            return True
        if expr.value in function.params:
            annotation = function.params[expr.value]
            if annotation is not None and is_session_annotation(annotation, scope):
                return True
            return expr.value in session_names
        return False
    if isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name) and expr.value.value in ("self", "cls"):
        return expr.attr.value in session_names
    return False
