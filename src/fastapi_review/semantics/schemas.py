"""Pydantic schema detection (RULES.md "Shared vocabulary": Pydantic schema)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

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

V1_ROOTS = frozenset({"pydantic.v1.BaseModel", "pydantic.v1.main.BaseModel"})


def config_value(index: "ProjectIndex", qualname: str, key: str) -> Optional[str]:
    """A model_config key as set on the class or its nearest base that sets it (source text)."""
    cls = index.resolve(qualname)
    if not isinstance(cls, ClassFacts):
        return None
    for resolved in (cls, *(index.resolve(a) for a in index.ancestors(qualname))):
        if isinstance(resolved, ClassFacts):
            if key in resolved.model_config:
                return resolved.model_config[key]
            if key in resolved.keywords:  # class M(BaseModel, use_attribute_docstrings=True)
                return resolved.keywords[key]
    return None


def has_from_attributes(index: "ProjectIndex", qualname: str) -> bool:
    """`from_attributes=True` in the class's config or its bases' (SQLModel sets it itself)."""
    value = config_value(index, qualname, "from_attributes")
    if value is not None:
        return value == "True"
    return bool(set(index.ancestors(qualname)) & SQLMODEL)


def is_v2_schema(index: "ProjectIndex", qualname: str) -> bool:
    """A Pydantic schema that is not a `pydantic.v1` model (whose v1 API is legitimate)."""
    return is_pydantic_schema(index, qualname) and not (set(index.ancestors(qualname)) & V1_ROOTS)


def closure(index: "ProjectIndex", roots: "set[str]") -> set[str]:
    """Schemas reachable from `roots`: the classes, their bases, and the schemas their fields
    name (nested and `list[S]` fields), transitively; canonical qualified names."""
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        name = stack.pop()
        cls = index.resolve(name)
        if not isinstance(cls, ClassFacts) or cls.qualname in seen:
            continue
        seen.add(cls.qualname)
        stack.extend(index.ancestors(cls.qualname))
        stack.extend(cls.field_refs)
    return seen
