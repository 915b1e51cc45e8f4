"""Exception types: builtins vs project classes, HTTPException, registered handlers."""

from __future__ import annotations

import builtins
from typing import Optional

import libcst as cst

from fastapi_review.facts import ClassFacts
from fastapi_review.project import ProjectIndex, Requirement
from fastapi_review.semantics.context import Context
from fastapi_review.syntax import dotted_name

HTTP_EXCEPTIONS = frozenset(
    {"fastapi.HTTPException", "fastapi.exceptions.HTTPException", "starlette.exceptions.HTTPException"}
)
_BUILTIN_EXCEPTIONS = frozenset(
    n for n, v in vars(builtins).items() if isinstance(v, type) and issubclass(v, BaseException)
)


def qualify_exception(expr: cst.BaseExpression, scope: Context) -> Optional[str]:
    """`ValueError` → "builtins.ValueError"; imported / local classes → their qualified name."""
    name = dotted_name(expr)
    if name in _BUILTIN_EXCEPTIONS and scope.imports.resolve_dotted(name) is None:
        return f"builtins.{name}"
    return scope.qualify(expr)


def builtin_lineage(qualname: str) -> tuple[str, ...]:
    """A builtin exception and its builtin bases (`builtins.KeyError`, `builtins.LookupError`, …)."""
    cls = getattr(builtins, qualname.removeprefix("builtins."), None)
    if not isinstance(cls, type):
        return (qualname,)
    return tuple(f"builtins.{c.__name__}" for c in cls.__mro__ if c is not object)


def exception_type(raised: Optional[cst.BaseExpression]) -> Optional[cst.BaseExpression]:
    """The class expression of `raise X(...)` / `raise X`."""
    if raised is None:
        return None
    return raised.func if isinstance(raised, cst.Call) else raised


def is_http_exception(expr: cst.BaseExpression, scope: Context) -> bool:
    """`HTTPException` from FastAPI or Starlette, through any alias."""
    return scope.imports.resolve(expr) in HTTP_EXCEPTIONS


def has_exception_handler(index: ProjectIndex, exception: str) -> bool:
    """Whether any module registers a handler for this (qualified) exception type."""

    def handled() -> set[str]:
        names = set()
        for f in index.files:
            for name in f.exception_handlers:
                target = index.resolve(name)
                names.add(target.qualname if isinstance(target, ClassFacts) else name)
        return names

    target = index.resolve(exception)
    return (target.qualname if isinstance(target, ClassFacts) else exception) in index.memo(has_exception_handler, handled)


class NoExceptionHandler(Requirement, kind="no_exception_handler"):
    """No module registers a handler for the exception or any of its bases (`lineage`)."""

    lineage: tuple[str, ...]
    needs_whole_project = True

    def holds(self, index: ProjectIndex) -> bool:
        return not any(has_exception_handler(index, name) for name in self.lineage)
