"""ORM relationships: how a class-body statement declares one and with which loading strategy
(read once, for the file's ClassFacts and for FR501), and the strategy of `Model.attribute`
across the project (FR403)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import libcst as cst

from fastapi_review.facts import ClassFacts
from fastapi_review.project import ProjectIndex, Requirement
from fastapi_review.semantics.context import Context
from fastapi_review.semantics.names import in_library
from fastapi_review.syntax import keyword_arg, string_value, unsubscript

# lazy=True / False / None are SQLAlchemy's legacy spellings of "select" / "joined" / "noload".
_LEGACY_LAZY = {"True": "select", "False": "joined", "None": "noload"}
UNKNOWN = "?"  # the strategy is computed or comes from **options: cannot tell


@dataclass(frozen=True)
class RelationshipDecl:
    """A relationship declared in a class body."""

    api: str  # "relationship" (SQLAlchemy), "Relationship" (SQLModel), "DynamicMapped", "WriteOnlyMapped"
    strategy: str  # "select" when lazy= is absent; UNKNOWN when it cannot be known statically
    explicit: bool  # lazy= is written (or implied by the Mapped kind)
    call: Optional[cst.Call] = None  # relationship(...) / Relationship(...)


def relationship_declaration(
    annotation: Optional[cst.BaseExpression], value: Optional[cst.BaseExpression], scope: Context
) -> Optional[RelationshipDecl]:
    """The relationship `name: annotation = value` declares in a class body, else None."""
    if annotation is not None:
        qualified = scope.imports.resolve(unsubscript(annotation)) or ""
        kind = qualified.rsplit(".", 1)[-1] if in_library(qualified, "sqlalchemy") else ""
        if kind == "DynamicMapped":
            return RelationshipDecl(kind, "dynamic", True)
        if kind == "WriteOnlyMapped":
            return RelationshipDecl(kind, "write_only", True)
    if not isinstance(value, cst.Call):
        return None
    callee = scope.callee(value) or ""
    module, _, last = callee.rpartition(".")
    if last == "relationship" and in_library(module, "sqlalchemy"):
        lazy_arg = keyword_arg(value, "lazy")
        lazy = lazy_arg.value if lazy_arg is not None else None
    elif last == "Relationship" and in_library(module, "sqlmodel"):
        found = _sqlmodel_lazy(value)
        if found is False:
            return RelationshipDecl(last, UNKNOWN, False, value)
        lazy = found  # type: ignore[assignment]
    else:
        return None
    if lazy is None:
        # lazy= may come from **options
        return RelationshipDecl(last, UNKNOWN if any(arg.star for arg in value.args) else "select", False, value)
    return RelationshipDecl(last, _strategy(lazy) or UNKNOWN, True, value)


def _strategy(lazy: cst.BaseExpression) -> Optional[str]:
    if isinstance(lazy, cst.Name) and lazy.value in _LEGACY_LAZY:
        return _LEGACY_LAZY[lazy.value]
    return string_value(lazy)


def _sqlmodel_lazy(call: cst.Call) -> "cst.BaseExpression | None | bool":
    """The `lazy` value inside SQLModel's `sa_relationship_kwargs={...}`; False when unknowable."""
    kwargs = keyword_arg(call, "sa_relationship_kwargs")
    if kwargs is None:
        return None
    if not isinstance(kwargs.value, cst.Dict):
        return False
    for element in kwargs.value.elements:
        if isinstance(element, cst.DictElement) and string_value(element.key) == "lazy":
            return element.value
        if isinstance(element, cst.StarredDictElement):
            return False
    return None


def relationship_strategy(index: ProjectIndex, model: str, attribute: str) -> Optional[str]:
    """The loading strategy of `model.attribute` if it is a relationship (own or inherited)."""
    canonical = index.canonical_class(model)
    if canonical is None:
        return None
    for name in (canonical, *index.ancestors(canonical)):
        cls = index.resolve(name)
        if isinstance(cls, ClassFacts) and attribute in cls.relationships:
            return cls.relationships[attribute]
    return None


class LazyRelationship(Requirement, kind="lazy_relationship"):
    """`model.attribute` is a relationship that loads on attribute access ("select", "dynamic")."""

    model: str
    attribute: str

    def holds(self, index: ProjectIndex) -> bool:
        return relationship_strategy(index, self.model, self.attribute) in ("select", "dynamic")
