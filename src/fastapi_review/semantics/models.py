"""ORM model and declarative-base detection (RULES.md "Shared vocabulary": ORM model)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from fastapi_review.facts import ClassFacts

if TYPE_CHECKING:
    from fastapi_review.project import ProjectIndex

# Class bases that make a class a declarative base itself.
_DECLARATIVE_BASE_CLASSES = frozenset({"DeclarativeBase", "DeclarativeBaseNoMeta"})
# Calls whose result bound to a name is a declarative base.
DECLARATIVE_FACTORIES = frozenset({"declarative_base"})
_AS_DECLARATIVE = frozenset({"as_declarative"})
_MAPPED_DECORATORS = frozenset({"mapped", "mapped_as_dataclass"})
SQLMODEL = frozenset({"sqlmodel.SQLModel", "sqlmodel.main.SQLModel"})


def is_sqlalchemy(qualname: Optional[str]) -> bool:
    """Whether a qualified name lives in SQLAlchemy."""
    return bool(qualname) and (qualname == "sqlalchemy" or qualname.startswith("sqlalchemy."))  # type: ignore[union-attr]


def is_declarative_base_class(cls: ClassFacts) -> bool:
    """`class Base(DeclarativeBase)` or `@as_declarative() class Base`."""
    if any(is_sqlalchemy(b) and b.rsplit(".", 1)[-1] in _DECLARATIVE_BASE_CLASSES for b in cls.bases):
        return True
    return any(is_sqlalchemy(d) and d.rsplit(".", 1)[-1] in _AS_DECLARATIVE for d in cls.decorators)


def _is_mapped_by_decorator(cls: ClassFacts) -> bool:
    # `@mapper_registry.mapped` / `@reg.mapped_as_dataclass`: the decorator is an attribute
    # of a registry object (not qualified as sqlalchemy, since the registry is a local name).
    return any(d.rsplit(".", 1)[-1] in _MAPPED_DECORATORS and "." in d for d in cls.decorators)


def derives_from_declarative(index: "ProjectIndex", cls: ClassFacts) -> bool:
    """Whether a declarative base is among the (transitive, cross-file) bases of `cls`."""
    from fastapi_review.project import DECLARATIVE_NAME

    for base in index.ancestors(cls.qualname):
        resolved = index.resolve(base)
        if resolved == DECLARATIVE_NAME:
            return True
        if isinstance(resolved, ClassFacts) and is_declarative_base_class(resolved):
            return True
    return False


def _is_sqlmodel_table(index: "ProjectIndex", cls: ClassFacts) -> bool:
    return cls.keywords.get("table") == "True" and any(
        a in SQLMODEL for a in (*cls.bases, *index.ancestors(cls.qualname))
    )


def is_orm_model(index: "ProjectIndex", qualname: str) -> bool:
    """A concrete mapped class: not abstract, not the declarative base itself."""
    cls = index.resolve(qualname)
    if not isinstance(cls, ClassFacts) or cls.abstract or is_declarative_base_class(cls):
        return False
    return (
        cls.has_tablename
        or _is_mapped_by_decorator(cls)
        or _is_sqlmodel_table(index, cls)
        or derives_from_declarative(index, cls)
    )


def is_table_model(index: "ProjectIndex", qualname: str) -> bool:
    """A model with a table of its own: not a single-table-inheritance subclass of another model."""
    if not is_orm_model(index, qualname):
        return False
    cls = index.resolve(qualname)
    if isinstance(cls, ClassFacts) and (cls.has_tablename or cls.keywords.get("table") == "True"):
        return True
    return not any(is_orm_model(index, a) for a in index.ancestors(qualname))


def declares_mapping(index: "ProjectIndex", qualname: str) -> bool:
    """A model with its own table, or an inheritance subclass that declares columns or mapper args
    (not a typing-only subclass whose body is empty or under TYPE_CHECKING)."""
    if is_table_model(index, qualname):
        return True
    cls = index.resolve(qualname)
    return isinstance(cls, ClassFacts) and is_orm_model(index, qualname) and bool(cls.attributes)


def is_declarative_class(index: "ProjectIndex", qualname: str) -> bool:
    """A model or an abstract class of a declarative hierarchy (its body declares mapped columns)."""
    cls = index.resolve(qualname)
    if not isinstance(cls, ClassFacts) or is_declarative_base_class(cls):
        return False
    return is_orm_model(index, qualname) or (cls.abstract and derives_from_declarative(index, cls))


_EXTERNAL_OK = ("sqlalchemy.", "sqlmodel.", "typing.", "pydantic.", "builtins.", "abc.")


def inherited_attributes(index: "ProjectIndex", qualname: str) -> Optional[set[str]]:
    """Names bound by the class and all its bases; None when a base outside the project (other
    than SQLAlchemy / SQLModel / typing) may bind more."""
    cls = index.resolve(qualname)
    if not isinstance(cls, ClassFacts):
        return None
    names = set(cls.attributes)
    for ancestor in index.ancestors(qualname):
        resolved = index.resolve(ancestor)
        if isinstance(resolved, ClassFacts):
            names.update(resolved.attributes)
        elif resolved is None and not ancestor.startswith(_EXTERNAL_OK):
            return None
    return names


def datetime_map_of(index: "ProjectIndex", qualname: str) -> Optional[bool]:
    """How the class's declarative base maps `datetime` (True aware, False naive, None unset);
    the nearest class in the hierarchy that sets a type_annotation_map decides."""
    cls = index.resolve(qualname)
    if not isinstance(cls, ClassFacts):
        return None
    if cls.datetime_map is not None:
        return cls.datetime_map
    for ancestor in index.ancestors(qualname):
        resolved = index.resolve(ancestor)
        if isinstance(resolved, ClassFacts) and resolved.datetime_map is not None:
            return resolved.datetime_map
    return None


def is_orm_class_or_mixin(index: "ProjectIndex", qualname: str) -> bool:
    """A model, an abstract declarative class, or a mixin some model inherits from."""
    if is_orm_model(index, qualname) or is_declarative_class(index, qualname):
        return True
    return any(qualname in index.ancestors(c.qualname) and is_orm_model(index, c.qualname) for c in index.classes())
