"""ORM model and declarative-base detection (RULES.md "Shared vocabulary": ORM model)."""

from __future__ import annotations

import re

from typing import Optional

from fastapi_review.facts import APP, ClassFacts
from fastapi_review.project import DECLARATIVE_NAME, ProjectIndex, Requirement
from fastapi_review.semantics.conventions import follows
from fastapi_review.semantics.names import in_library

MIN_MODELS = 4  # fewer table models show no convention of the project's own

# Class bases that make a class a declarative base itself.
_DECLARATIVE_BASE_CLASSES = frozenset({"DeclarativeBase", "DeclarativeBaseNoMeta"})
# Calls whose result bound to a name is a declarative base.
DECLARATIVE_FACTORIES = frozenset({"declarative_base"})
_AS_DECLARATIVE = frozenset({"as_declarative"})
_MAPPED_DECORATORS = frozenset({"mapped", "mapped_as_dataclass"})
SQLMODEL = frozenset({"sqlmodel.SQLModel", "sqlmodel.main.SQLModel"})


def is_declarative_base_class(cls: ClassFacts) -> bool:
    """`class Base(DeclarativeBase)` or `@as_declarative() class Base`."""
    if any(in_library(b, "sqlalchemy") and b.rsplit(".", 1)[-1] in _DECLARATIVE_BASE_CLASSES for b in cls.bases):
        return True
    return any(in_library(d, "sqlalchemy") and d.rsplit(".", 1)[-1] in _AS_DECLARATIVE for d in cls.decorators)


def _is_mapped_by_decorator(cls: ClassFacts) -> bool:
    # `@mapper_registry.mapped` / `@reg.mapped_as_dataclass`: the decorator is an attribute
    # of a registry object (not qualified as sqlalchemy, since the registry is a local name).
    return any(d.rsplit(".", 1)[-1] in _MAPPED_DECORATORS and "." in d for d in cls.decorators)


def derives_from_declarative(index: ProjectIndex, cls: ClassFacts) -> bool:
    """Whether a declarative base is among the (transitive, cross-file) bases of `cls`."""
    for base in index.ancestors(cls.qualname):
        resolved = index.resolve(base)
        if resolved == DECLARATIVE_NAME:
            return True
        if isinstance(resolved, ClassFacts) and is_declarative_base_class(resolved):
            return True
    return False


def _is_sqlmodel_table(index: ProjectIndex, cls: ClassFacts) -> bool:
    return cls.keywords.get("table") == "True" and any(
        a in SQLMODEL for a in (*cls.bases, *index.ancestors(cls.qualname))
    )


# Libraries whose classes are never SQLAlchemy declarative classes.
_NOT_ORM = ("pydantic.", "typing.", "builtins.", "abc.", "enum.", "dataclasses.", "collections.")


def _may_descend_from_orm(index: ProjectIndex, cls: ClassFacts) -> bool:
    """ORM provenance for a class with `__tablename__` / `__table__`: a base traced to a
    declarative base, or one outside the project that may be one (a SQLAlchemy extension's
    Model).  A class without bases, or whose bases are all project classes without such a base
    and known non-ORM library classes, is something else (a query builder's table class)."""
    for ancestor in index.ancestors(cls.qualname):
        resolved = index.resolve(ancestor)
        if resolved == DECLARATIVE_NAME or (isinstance(resolved, ClassFacts) and is_declarative_base_class(resolved)):
            return True
        if resolved is None and not ancestor.startswith(_NOT_ORM) and ancestor != "object":
            return True
    return False


def is_orm_model(index: ProjectIndex, qualname: str) -> bool:
    """A concrete mapped class: not abstract, not the declarative base itself."""
    cls = index.resolve(qualname)
    if not isinstance(cls, ClassFacts) or cls.abstract or is_declarative_base_class(cls):
        return False
    return (
        (cls.has_tablename and (cls.table_assigned or _may_descend_from_orm(index, cls)))
        or _is_mapped_by_decorator(cls)
        or _is_sqlmodel_table(index, cls)
        or derives_from_declarative(index, cls)
    )


def is_table_model(index: ProjectIndex, qualname: str) -> bool:
    """A model with a table of its own: not a single-table-inheritance subclass of another model."""
    if not is_orm_model(index, qualname):
        return False
    cls = index.resolve(qualname)
    if isinstance(cls, ClassFacts) and (cls.has_tablename or cls.keywords.get("table") == "True"):
        return True
    return not any(is_orm_model(index, a) for a in index.ancestors(qualname))


def declares_mapping(index: ProjectIndex, qualname: str) -> bool:
    """A model with its own table, or an inheritance subclass that declares columns or mapper args
    (not a typing-only subclass whose body is empty or under TYPE_CHECKING)."""
    if is_table_model(index, qualname):
        return True
    cls = index.resolve(qualname)
    return isinstance(cls, ClassFacts) and is_orm_model(index, qualname) and bool(cls.attributes)


def is_declarative_class(index: ProjectIndex, qualname: str) -> bool:
    """A model or an abstract class of a declarative hierarchy (its body declares mapped columns)."""
    cls = index.resolve(qualname)
    if not isinstance(cls, ClassFacts) or is_declarative_base_class(cls):
        return False
    return is_orm_model(index, qualname) or (cls.abstract and derives_from_declarative(index, cls))


_EXTERNAL_OK = ("sqlalchemy.", "sqlmodel.", "typing.", "pydantic.", "builtins.", "abc.")


def inherited_attributes(index: ProjectIndex, qualname: str) -> Optional[set[str]]:
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


_COLUMNLESS_BASES = ("sqlalchemy.", "sqlmodel.", "typing.", "builtins.", "abc.")


def _table_owners(index: ProjectIndex) -> tuple[dict[str, int], set[str]]:
    """How many classes name each literal table, and the classes some other ORM model inherits
    from (memoized on the index)."""
    def build() -> tuple[dict[str, int], set[str]]:
        counts: dict[str, int] = {}
        inherited: set[str] = set()
        for cls in index.classes():
            if is_orm_model(index, cls.qualname):
                inherited.update(index.ancestors(cls.qualname))
                if is_table_model(index, cls.qualname) or cls.tablename:
                    table = cls.tablename or cls.name.lower()  # a derived name may be this one
                    counts[table] = counts.get(table, 0) + 1
        return counts, inherited
    return index.memo("models-table-owners", build)


def table_columns_of(index: ProjectIndex, qualname: str, table: str) -> Optional[set[str]]:
    """The database columns the model of `table` maps: its body's and its mixins' and abstract
    bases'.  None when any of them is not fully readable, when it inherits from another model or
    another model from it (inheritance spreads a table's columns), when another model may name
    the same table, or when a base outside the project (or a `declarative_base(cls=...)`) may
    add columns."""
    cls = index.resolve(qualname)
    if not isinstance(cls, ClassFacts) or cls.table_columns is None:
        return None
    counts, inherited = _table_owners(index)
    if counts.get(table, 0) != 1 or qualname in inherited:
        return None
    columns = set(cls.table_columns)
    for ancestor in index.ancestors(qualname):
        resolved = index.resolve(ancestor)
        if isinstance(resolved, ClassFacts):
            if resolved.table_columns is None or is_orm_model(index, ancestor):
                return None
            columns.update(resolved.table_columns)
        elif resolved == DECLARATIVE_NAME:
            located = index.locate(ancestor)
            if located is None or located[1] in located[0].custom_declarative_bases:
                return None
        elif not ancestor.startswith(_COLUMNLESS_BASES):
            return None
    return columns


def datetime_map_of(index: ProjectIndex, qualname: str) -> Optional[bool]:
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


def is_orm_class_or_mixin(index: ProjectIndex, qualname: str) -> bool:
    """A model, an abstract declarative class, or a mixin some model inherits from."""
    if is_orm_model(index, qualname) or is_declarative_class(index, qualname):
        return True
    return any(qualname in index.ancestors(c.qualname) and is_orm_model(index, c.qualname) for c in index.classes())


def _table_assigned(index: ProjectIndex, qualname: str) -> bool:
    cls = index.resolve(qualname)
    return isinstance(cls, ClassFacts) and cls.table_assigned


# -- the questions deferred findings ask -------------------------------------------------------


class OrmModel(Requirement, kind="orm_model"):
    """The class is a concrete ORM model."""

    qualname: str

    def holds(self, index: ProjectIndex) -> bool:
        return is_orm_model(index, self.qualname)


class TableModel(Requirement, kind="table_model"):
    """The class is an ORM model with a table of its own."""

    qualname: str

    def holds(self, index: ProjectIndex) -> bool:
        return is_table_model(index, self.qualname)


class NamedByClass(Requirement, kind="named_by_class"):
    """A model without a `__tablename__` of its own whose table is its class name in lower case:
    the bases that declare `__tablename__` all return `cls.__name__.lower()`, or none does and
    it is a SQLModel table (SQLModel's default)."""

    qualname: str

    def holds(self, index: ProjectIndex) -> bool:
        cls = index.resolve(self.qualname)
        if not isinstance(cls, ClassFacts):
            return False
        naming = [
            resolved for resolved in map(index.resolve, index.ancestors(self.qualname))
            if isinstance(resolved, ClassFacts) and ("__tablename__" in resolved.attributes or "__table__" in resolved.attributes)
        ]
        if naming:
            return all(base.derived_tablename == "lower" for base in naming)
        return _is_sqlmodel_table(index, cls)


class DeclarativeClass(Requirement, kind="declarative_class"):
    """The class is a model or an abstract class of a declarative hierarchy."""

    qualname: str

    def holds(self, index: ProjectIndex) -> bool:
        return is_declarative_class(index, self.qualname)


# Names teams give the creation / modification timestamps (FR502 accepts any of a group for
# the default created_at / updated_at).
CREATED_SYNONYMS = frozenset({
    "created_at", "created", "created_on", "created_time", "create_time", "created_date", "creation_date",
    "creation_time", "date_created", "time_created", "inserted_at", "insert_time", "ctime", "created_ts",
})
UPDATED_SYNONYMS = frozenset({
    "updated_at", "updated", "updated_on", "updated_time", "update_time", "updated_date", "date_updated",
    "time_updated", "modified_at", "modified", "modified_on", "modified_time", "modified_date", "date_modified",
    "last_modified", "last_modified_at", "last_updated", "last_updated_at", "mtime", "updated_ts", "changed_at",
})


# A column that keeps the row's own time (an event's `occurred_at`, a log's `login_time`, a
# token's `expires_at`): the model records time its own way (append-only rows, expiries).
_OWN_TIME = re.compile(r"(^|_)(at|time|date|datetime|timestamp|ts|day)$|^(date|time|timestamp)_|expir")


def keeps_own_time(index: ProjectIndex, qualname: str, names: set[str]) -> bool:
    """The model has a time column of its own kind, or is a pure association table (its own
    columns are all keys): timestamps there would say nothing."""
    if any(_OWN_TIME.search(name) for name in names if not name.startswith("__")):
        return True
    cls = index.resolve(qualname)
    if not isinstance(cls, ClassFacts):
        return False
    own = [a for a in cls.attributes if not a.startswith("__") and a not in cls.relationships]
    links = [a for a in own if a.endswith("_id")]
    return len(links) >= 2 and all(a == "id" or a.endswith("_id") for a in own)


def lacks_columns(names: set[str], columns: tuple[str, ...]) -> bool:
    """Whether a model binding `names` lacks one of `columns` (the defaults by any synonym)."""
    for column in columns:
        if column in names:
            continue
        if column in CREATED_SYNONYMS and names & CREATED_SYNONYMS:
            continue
        if column in UPDATED_SYNONYMS and names & UPDATED_SYNONYMS:
            continue
        return True
    return False


def timestamp_convention(index: ProjectIndex, columns: tuple[str, ...]) -> tuple[int, int]:
    """(table models with the timestamps, table models without) over the project."""

    def count() -> tuple[int, int]:
        follow = deviate = 0
        for cls in index.classes():
            if not is_table_model(index, cls.qualname) or cls.table_assigned:
                continue
            names = inherited_attributes(index, cls.qualname)
            if names is None:
                continue
            if lacks_columns(names, columns):
                deviate += 1
            else:
                follow += 1
        return follow, deviate

    return index.memo(("timestamps", columns), count)


class MissingColumns(Requirement, kind="missing_columns"):
    """The class is a table model (not a reflected table or view) that neither declares nor
    inherits every one of `columns` (or their synonyms); with `learn`, in a project whose table
    models mostly have them (from MIN_MODELS models on)."""

    qualname: str
    columns: tuple[str, ...]
    learn: bool

    def holds(self, index: ProjectIndex) -> bool:
        if not is_table_model(index, self.qualname) or _table_assigned(index, self.qualname):
            return False
        names = inherited_attributes(index, self.qualname)
        if names is None or not lacks_columns(names, self.columns):
            return False
        if not self.learn:
            return True
        if keeps_own_time(index, self.qualname, names):
            return False
        return follows(*timestamp_convention(index, self.columns), MIN_MODELS)


def models_convention(index: ProjectIndex) -> tuple[int, int]:
    """(models declared in models modules, models declared elsewhere) over the project."""

    def count() -> tuple[int, int]:
        inside = outside = 0
        for facts in index.files:
            for cls in facts.classes:
                if declares_mapping(index, cls.qualname):
                    if facts.models_module:
                        inside += 1
                    else:
                        outside += 1
        return inside, outside

    return index.memo("models-location", count)


class StrayModel(Requirement, kind="stray_model"):
    """The class declares a mapping outside the models modules; with `learn`, in a project that
    keeps most of its models in models modules (from MIN_MODELS models on)."""

    qualname: str
    learn: bool

    def holds(self, index: ProjectIndex) -> bool:
        if not declares_mapping(index, self.qualname):
            return False
        return not self.learn or follows(*models_convention(index), MIN_MODELS)

    def detail(self, index: ProjectIndex) -> str:
        """Where the project keeps its models: ' (the project keeps 12 models in app.models)'."""
        packages: dict[str, int] = {}
        for facts in index.files:
            if facts.models_module:
                count = sum(1 for cls in facts.classes if declares_mapping(index, cls.qualname))
                if count:
                    package = facts.module if facts.is_package or facts.module.endswith("models") else facts.module.rpartition(".")[0]
                    packages[package or facts.module] = packages.get(package or facts.module, 0) + count
        if not packages:
            return ""
        ranked = sorted(packages.items(), key=lambda item: (-item[1], item[0]))
        total = sum(packages.values())
        shown = ", ".join(name for name, _ in ranked[:2]) + (" and others" if len(ranked) > 2 else "")
        return f" (the project keeps {total} model{'' if total == 1 else 's'} in {shown})"


class NaiveDatetimeMap(Requirement, kind="naive_datetime_map"):
    """The class is declarative and its base does not map `datetime` to a timezone-aware type."""

    qualname: str

    def holds(self, index: ProjectIndex) -> bool:
        return is_declarative_class(index, self.qualname) and datetime_map_of(index, self.qualname) is not True


class UpdatedAtUnwritten(Requirement, kind="updated_at_unwritten"):
    """No application module writes `updated_at` itself (FileFacts.writes_updated_at): a project
    whose update code sets it — or whose CRUD library does — keeps it current without onupdate=."""

    needs_whole_project = True

    def holds(self, index: ProjectIndex) -> bool:
        return not index.memo(
            ("writes_updated_at",),
            lambda: any(m.writes_updated_at and m.role == APP for m in index.modules.values()),
        )
