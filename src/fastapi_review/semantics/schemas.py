"""Pydantic schemas (RULES.md "Shared vocabulary": Pydantic schema): documented field types in a
file; across the project, which classes are schemas, their config, and how routes use them
(request bodies, responses, responses of ORM data)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

import libcst as cst

from fastapi_review.facts import ClassFacts, RouteFacts
from fastapi_review.project import ProjectIndex, Requirement
from fastapi_review.semantics.context import Context
from fastapi_review.semantics.models import SQLMODEL, is_orm_model
from fastapi_review.syntax import keyword_arg

SCHEMA_ROOTS = frozenset(
    {"pydantic.BaseModel", "pydantic.main.BaseModel", "pydantic.RootModel", "pydantic.root_model.RootModel"}
) | SQLMODEL
SETTINGS_ROOTS = frozenset(
    {"pydantic_settings.BaseSettings", "pydantic_settings.main.BaseSettings", "pydantic.BaseSettings"}
)


def is_pydantic_schema(index: ProjectIndex, qualname: str) -> bool:
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


def config_value(index: ProjectIndex, qualname: str, key: str) -> Optional[str]:
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


def has_from_attributes(index: ProjectIndex, qualname: str) -> bool:
    """`from_attributes=True` in the class's config or its bases' (SQLModel sets it itself)."""
    value = config_value(index, qualname, "from_attributes")
    if value is not None:
        return value == "True"
    return bool(set(index.ancestors(qualname)) & SQLMODEL)


def is_v2_schema(index: ProjectIndex, qualname: str) -> bool:
    """A Pydantic schema that is not a `pydantic.v1` model (whose v1 API is legitimate)."""
    return is_pydantic_schema(index, qualname) and not (set(index.ancestors(qualname)) & V1_ROOTS)


def closure(index: ProjectIndex, roots: "set[str]") -> set[str]:
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


# -- documented field types (per file) ---------------------------------------------------------


def annotated_with_description(value: cst.Subscript, scope: Context) -> bool:
    """`Annotated[T, Field(description=...)]` (a documented field type)."""
    if (scope.imports.resolve(value.value) or "").rsplit(".", 1)[-1] != "Annotated":
        return False
    for element in value.slice[1:]:
        metadata = element.slice.value if isinstance(element.slice, cst.Index) else None
        if isinstance(metadata, cst.Call) and carries_description(metadata):
            return True
    return False


def carries_description(call: cst.Call) -> bool:
    """`Field(description=...)`, or JSON-schema metadata such as `WithJsonSchema({"description": ...})`."""
    if keyword_arg(call, "description") is not None:
        return True
    for arg in call.args:
        if isinstance(arg.value, cst.Dict):
            for element in arg.value.elements:
                if isinstance(element, cst.DictElement) and isinstance(element.key, cst.SimpleString):
                    if element.key.evaluated_value == "description":
                        return True
    return False


def described_alias(index: ProjectIndex, qualname: str) -> bool:
    """An Annotated alias with a description, directly or through the alias it wraps."""
    return any(name in facts.described_aliases for facts, name in index.alias_chain(qualname))


# -- how routes use schemas (across the project) ------------------------------------------------


def returns_orm(index: ProjectIndex, route: RouteFacts) -> bool:
    """The handler returns query results, or what a function typed to return a model returns.

    Followed further (issue 17: a local holding a service's result, a repository object's
    method, a model constructor), the test half gained only unwanted findings (0 of 2): not
    followed."""
    if route.returns_orm:
        return True
    for callee in route.returned_calls:
        function = index.function(callee)
        if function is not None and any(is_orm_model(index, c) for c in index.canonical_classes(function.return_refs)):
            return True
    return False


@dataclass(frozen=True)
class Usage:
    """Which schemas (canonical names) the project's routes use, and how."""

    body: set[str]  # request bodies
    response: set[str]  # response models (and list[S] elements)
    response_closure: set[str]  # everything a response reaches: bases, nested fields, generics
    body_closure: set[str]  # everything a request body reaches
    orm_response: set[str]  # response models of handlers that return ORM objects


def usage(index: ProjectIndex) -> Usage:
    """How the project's routes use schemas (computed once per index)."""

    def compute() -> Usage:
        routes = list(index.routes())
        return Usage(
            body=index.canonical_classes(r for route in routes for r in route.body_refs),
            response=index.canonical_classes(r for route in routes for r in route.response_refs),
            response_closure=closure(index, {r for route in routes for r in route.response_nested}),
            body_closure=closure(index, {r for route in routes for r in route.body_refs}),
            orm_response=index.canonical_classes(r for route in routes if returns_orm(index, route) for r in route.response_refs),
        )

    return index.memo(usage, compute)


def _route_closure(index: ProjectIndex, route: RouteFacts) -> set[str]:
    key = route.key or route.handler
    return index.memo((_route_closure, key), lambda: closure(index, set(route.response_nested)))


def _label(route: RouteFacts) -> str:
    where = f"{route.method.upper()} {route.path}" if route.path is not None else route.method
    return f"{where} in {route.handler.rsplit('.', 2)[-2]}.{route.handler.rsplit('.', 1)[-1]}"


def _listed(used: list[str]) -> str:
    return ", ".join(used[:3]) + (f" and {len(used) - 3} more" if len(used) > 3 else "")


def column_length_for(index: ProjectIndex, schema: str, field_name: str) -> Optional[int]:
    """The String(n) length of the column a request field maps to: a same-named column of the
    model whose name the schema's starts with (`UserCreate` → `User`), when exactly one does."""
    canonical = index.canonical_class(schema)
    if canonical is None:
        return None
    stem = canonical.rsplit(".", 1)[-1]
    lengths = {
        cls.string_lengths[field_name]
        for cls in index.classes()
        if field_name in cls.string_lengths and stem.startswith(cls.name) and is_orm_model(index, cls.qualname)
    }
    return lengths.pop() if len(lengths) == 1 else None


# -- the questions deferred findings ask -------------------------------------------------------


def _v2_schema(index: ProjectIndex, qualname: str) -> Optional[str]:
    """The canonical name of a Pydantic v2 schema, else None."""
    canonical = index.canonical_class(qualname)
    return canonical if canonical is not None and is_v2_schema(index, canonical) else None


class NeedsFromAttributes(Requirement, kind="needs_from_attributes"):
    """A v2 schema that handlers returning ORM objects respond with, without from_attributes;
    the detail names those routes."""

    schema: str

    def holds(self, index: ProjectIndex) -> bool:
        canonical = _v2_schema(index, self.schema)
        return canonical is not None and canonical in usage(index).orm_response and not has_from_attributes(index, canonical)

    def detail(self, index: ProjectIndex) -> str:
        canonical = index.canonical_class(self.schema)
        return _listed([
            _label(r) for r in index.routes()
            if canonical in index.canonical_classes(r.response_refs) and returns_orm(index, r)
        ])


# Fields only one direction should carry: set by the server (ids, timestamps, authorship), or
# written and never read back (passwords, secrets)
_SERVER_OWNED = frozenset({
    "id", "uuid", "uid", "pk", "created_at", "updated_at", "modified_at", "deleted_at", "created", "updated",
    "modified", "created_by", "updated_by", "created_on", "updated_on", "date_created", "date_updated",
})
_WRITE_ONLY = re.compile(r"password|passwd|secret|token|hashed_")


def _asymmetric(index: ProjectIndex, schema: str) -> bool:
    """The schema (or a project base of it) has a field the server owns or the client only writes:
    the case where one schema for both directions lets clients send, or reads leak, it."""
    for qualname in (schema, *index.ancestors(schema)):
        cls = index.resolve(qualname)
        if isinstance(cls, ClassFacts) and any(
            name in _SERVER_OWNED or _WRITE_ONLY.search(name) for name in cls.attributes
        ):
            return True
    return False


class SharedSchema(Requirement, kind="shared_schema"):
    """A v2 schema used both as a request body and as a response model; the detail says where."""

    schema: str

    def holds(self, index: ProjectIndex) -> bool:
        canonical = _v2_schema(index, self.schema)
        return (
            canonical is not None and canonical in usage(index).body and canonical in usage(index).response
            and _asymmetric(index, canonical)
        )

    def detail(self, index: ProjectIndex) -> str:
        canonical = index.canonical_class(self.schema)
        routes = list(index.routes())
        body = [_label(r) for r in routes if canonical in index.canonical_classes(r.body_refs)]
        returned = [_label(r) for r in routes if canonical in index.canonical_classes(r.response_refs)]
        return f"body of {', '.join(body[:2])}; response of {', '.join(returned[:2])}"


class ResponseSchema(Requirement, kind="response_schema"):
    """A v2 schema some response reaches (directly, as a base or a nested field); the detail
    names the routes."""

    schema: str

    def holds(self, index: ProjectIndex) -> bool:
        canonical = _v2_schema(index, self.schema)
        return canonical is not None and canonical in usage(index).response_closure

    def detail(self, index: ProjectIndex) -> str:
        canonical = index.canonical_class(self.schema)
        return _listed([_label(r) for r in index.routes() if canonical in _route_closure(index, r)])


class ApiSchema(Requirement, kind="api_schema"):
    """A schema some route's request body or response reaches (directly, as a base or a nested
    field): it is in the OpenAPI document.  A domain command, an internal DTO or a logging
    model is not."""

    schema: str

    def holds(self, index: ProjectIndex) -> bool:
        canonical = index.canonical_class(self.schema)
        if canonical is None:
            return False
        used = usage(index)
        return canonical in used.response_closure or canonical in used.body_closure


class RequestSchema(Requirement, kind="request_schema"):
    """A v2 schema some request body reaches."""

    schema: str

    def holds(self, index: ProjectIndex) -> bool:
        canonical = _v2_schema(index, self.schema)
        return canonical is not None and canonical in usage(index).body_closure


class BoundExceedsColumn(Requirement, kind="bound_exceeds_column"):
    """A request field's max_length exceeds the String(n) of the model column it maps to; the
    detail says both."""

    schema: str
    field: str
    bound: str  # the max_length literal as written

    def holds(self, index: ProjectIndex) -> bool:
        length = column_length_for(index, self.schema, self.field)
        return length is not None and int(self.bound) > length

    def detail(self, index: ProjectIndex) -> str:
        length = column_length_for(index, self.schema, self.field)
        return f"max_length={self.bound} exceeds its model column String({length})"


class PydanticSchema(Requirement, kind="pydantic_schema"):
    """The class is a Pydantic v2 schema."""

    qualname: str

    def holds(self, index: ProjectIndex) -> bool:
        return is_v2_schema(index, self.qualname)


class NotPydanticSchema(Requirement, kind="not_pydantic_schema"):
    """The class is not a Pydantic schema (of any version)."""

    qualname: str

    def holds(self, index: ProjectIndex) -> bool:
        return not is_pydantic_schema(index, self.qualname)


class SchemaWithoutAttributeDocstrings(Requirement, kind="schema_without_attribute_docstrings"):
    """A v2 schema whose config does not turn on use_attribute_docstrings."""

    qualname: str

    def holds(self, index: ProjectIndex) -> bool:
        return is_v2_schema(index, self.qualname) and config_value(index, self.qualname, "use_attribute_docstrings") != "True"


class UndescribedAlias(Requirement, kind="undescribed_alias"):
    """A field type alias that carries no description (nor does the alias it wraps)."""

    qualname: str

    def holds(self, index: ProjectIndex) -> bool:
        return not described_alias(index, self.qualname)
