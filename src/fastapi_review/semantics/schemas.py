"""Pydantic schema detection (RULES.md "Shared vocabulary": Pydantic schema)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi_review.facts import ClassFacts
from fastapi_review.semantics.models import SQLMODEL

if TYPE_CHECKING:
    from fastapi_review.project import ProjectIndex

SCHEMA_ROOTS = frozenset(
    {"pydantic.BaseModel", "pydantic.main.BaseModel", "pydantic.RootModel", "pydantic.root_model.RootModel"}
) | SQLMODEL
SETTINGS_ROOTS = frozenset(
    {"pydantic_settings.BaseSettings", "pydantic_settings.main.BaseSettings", "pydantic.BaseSettings"}
)


def is_pydantic_schema(index: "ProjectIndex", qualname: str) -> bool:
    """A (transitive, cross-file) BaseModel/RootModel/SQLModel subclass; not settings, not tables."""
    cls = index.resolve(qualname)
    if not isinstance(cls, ClassFacts):
        return False
    ancestors = {*cls.bases, *index.ancestors(qualname)}
    if ancestors & SETTINGS_ROOTS:
        return False
    if not ancestors & SCHEMA_ROOTS:
        return False
    if ancestors & SQLMODEL:
        # SQLModel with table=True anywhere in the chain is an ORM model, not a schema.
        chain = [cls] + [c for a in ancestors if isinstance(c := index.resolve(a), ClassFacts)]
        return not any(c.keywords.get("table") == "True" for c in chain)
    return True
