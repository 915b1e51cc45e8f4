"""Picklable per-file facts: what the project phase needs to know about a file, without its CST."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from fastapi_review.packing import Packed

# File roles (roles.py decides a file's role; each rule declares the roles it runs on).
APP, TESTS, MIGRATIONS, GENERATED, SCRIPTS = "app", "tests", "migrations", "generated", "scripts"
ROLES = (APP, TESTS, MIGRATIONS, GENERATED, SCRIPTS)


@dataclass
class ClassFacts(Packed):
    """A class definition: its bases (qualified where resolvable) and ORM/schema markers."""

    qualname: str  # module-qualified: "app.models.user.User"
    name: str
    bases: tuple[str, ...]  # qualified names; "?" for bases that are not plain names
    keywords: dict[str, str] = field(default_factory=dict)  # class keywords, e.g. {"table": "True"}
    decorators: tuple[str, ...] = ()  # qualified decorator names (calls included: "x.mapped")
    has_tablename: bool = False  # `__tablename__ = ...` or `__table__ = ...` in the body
    table_assigned: bool = False  # `__table__ = ...`: a reflected table or a view
    abstract: bool = False  # `__abstract__ = True`
    # names the body binds: columns, relationships, declared_attr functions
    attributes: tuple[str, ...] = ()
    # columns the body itself indexes (index/unique/primary_key flags, leading columns of the
    # constraints in __table_args__); "*" when __table_args__ is computed or unreadable
    indexed_columns: tuple[str, ...] = ()
    # a declarative base's `type_annotation_map` for datetime: True aware, False naive, None unset
    datetime_map: Optional[bool] = None
    # Pydantic `model_config = ConfigDict(key=value)` (or `class Config:`) literals, as source text
    model_config: dict[str, str] = field(default_factory=dict)
    # qualified classes the annotations of the class-body fields refer to (nested schemas)
    field_refs: tuple[str, ...] = ()
    # relationship attributes → loading strategy ("select" when lazy= is absent; "?" unknown)
    relationships: dict[str, str] = field(default_factory=dict)
    # columns typed String(n) / VARCHAR(n): name → n (FR606 compares request bounds with them)
    string_lengths: dict[str, int] = field(default_factory=dict)
    # a literal `__tablename__ = "users"` ("" otherwise)
    tablename: str = ""
    # "lower": a `declared_attr` `__tablename__` that returns `cls.__name__.lower()` ("" otherwise)
    derived_tablename: str = ""
    # the database names of the columns the body declares; None when the body may declare
    # columns not read (a declared_attr, an unknown call, a computed name, a SQLModel field)
    table_columns: Optional[tuple[str, ...]] = ()


@dataclass
class FunctionFacts(Packed):
    """What the project phase needs of a function: its return type, raises and calls."""

    qualname: str
    return_refs: tuple[str, ...] = ()  # classes named by the return annotation (list[M] → M)
    statuses: tuple[int, ...] = ()  # HTTPException statuses raised directly
    calls: tuple[str, ...] = ()  # qualified names of the functions it calls
    is_async: bool = False  # `async def`
    # calls a session method that reads (execute, scalars, get, query, …) / writes (add, commit,
    # flush, delete, …) on a session expression in its own body (nested defs excluded)
    db_reads: bool = False
    db_writes: bool = False
    commits: bool = False  # calls `commit()` on a session expression in its own body


@dataclass
class RouteFacts(Packed):
    """A route handler and what links it to schemas, models and tests."""

    handler: str  # qualified function name
    method: str  # "get", "post", ... ("api_route" / "add_api_route" keep the decorator's name)
    path: Optional[str]
    key: str = ""  # unique in the project: handler@ordinal (two handlers may share a name)
    response_refs: tuple[str, ...] = ()  # the response model, and list[S] elements
    response_nested: tuple[str, ...] = ()  # plus classes inside generic wrappers (Page[S] → S)
    body_refs: tuple[str, ...] = ()  # classes of request-body parameters
    returns_orm: bool = False  # returns what a session query produced
    returned_calls: tuple[str, ...] = ()  # functions whose results it returns (service calls)
    declared: tuple[int, ...] = ()  # statuses in responses= of the decorator and its router
    declared_unknown: bool = False  # responses= not a literal dict: cannot tell what is declared
    router: str = ""  # the router it is declared on, qualified
    statuses: tuple[int, ...] = ()  # HTTPException statuses the handler raises itself
    calls: tuple[str, ...] = ()  # functions it calls (followed for raised statuses)


@dataclass
class FileFacts(Packed):
    """Everything the project phase reads about one file."""

    path: str
    module: str
    is_package: bool
    imports: dict[str, str] = field(default_factory=dict)  # local name → qualified name
    classes: list[ClassFacts] = field(default_factory=list)
    # module-level names bound to a declarative base factory (`Base = declarative_base()`)
    declarative_bases: list[str] = field(default_factory=list)
    # those of them built with arguments that may add columns (`declarative_base(cls=Model)`)
    custom_declarative_bases: list[str] = field(default_factory=list)
    # module-level names bound to `FastAPI(...)` / `APIRouter(...)` (value: "app" / "router")
    routers: dict[str, str] = field(default_factory=dict)
    # every module-level `name = call(...)`: name → qualified callee (subclasses across files)
    call_bindings: dict[str, str] = field(default_factory=dict)
    # module-level `Name = Annotated[AsyncSession, Depends(...)]` session aliases → session class
    session_aliases: dict[str, str] = field(default_factory=dict)
    # module-level names bound to sessionmaker() / async_sessionmaker() → "sync" / "async"
    session_factories: dict[str, str] = field(default_factory=dict)
    # routers / apps whose routes are not in the OpenAPI schema: local names of
    # `APIRouter(include_in_schema=False)` / `FastAPI(openapi_url=None)`, and qualified names of
    # routers passed to `include_router(r, include_in_schema=False)`
    hidden_routers: list[str] = field(default_factory=list)
    hidden_includes: list[str] = field(default_factory=list)
    # module-level `Name = Annotated[T, Field(description=...)]` aliases (FR603)
    described_aliases: list[str] = field(default_factory=list)
    # module-level `Name = Annotated[T, mapped_column(index=True | primary_key=True | unique=True)]`
    indexed_aliases: list[str] = field(default_factory=list)
    # other module-level `Name = Annotated[Inner, ...]` aliases: name → qualified Inner (alias chains)
    annotated_aliases: dict[str, str] = field(default_factory=dict)
    # qualified exception types with a registered handler (`@app.exception_handler(T)`)
    exception_handlers: list[str] = field(default_factory=list)
    functions: dict[str, FunctionFacts] = field(default_factory=dict)
    routes: list[RouteFacts] = field(default_factory=list)
    # query sites: (model as written, column, line, the statement's other filtered columns as
    # "model|column") of where/filter/filter_by/order_by keys
    query_sites: list[tuple[str, str, int, tuple[str, ...]]] = field(default_factory=list)
    # test-client requests in test files: (HTTP method, path with "*" for interpolated parts)
    test_requests: list[tuple[str, str]] = field(default_factory=list)
    # module-level routers' `responses={404: ...}` keys
    router_responses: dict[str, tuple[int, ...]] = field(default_factory=dict)
    router_prefixes: dict[str, str] = field(default_factory=dict)  # APIRouter(prefix="/x")
    routers_with_unknown_responses: list[str] = field(default_factory=list)
    # `parent.include_router(child, responses={...})`: (parent, child, statuses, unknown), qualified
    router_includes: list[tuple[str, str, tuple[int, ...], bool]] = field(default_factory=list)
    # imports sqlalchemy.ext.asyncio / sqlmodel.ext.asyncio (FR701's "project uses AsyncSession")
    uses_async_sqlalchemy: bool = False
    # the file's role (roles.py): project-wide rules weigh app code only (FR504's query sites)
    role: str = APP
    # matches the `models` globs (FR505 learns where the project keeps its models)
    models_module: bool = False
    # convention rules (semantics/conventions.py): code → (sites that follow, sites reported)
    conventions: dict[str, tuple[int, int]] = field(default_factory=dict)
    # dialects of the database URLs written in the file (`sqlite:///`, `postgresql+asyncpg://`)
    dialects: list[str] = field(default_factory=list)
    # uses an API only Pydantic 2 has (semantics.versions.V2_MARKERS)
    pydantic_v2: bool = False
    # imports PostgreSQL's JSONB (the project stores JSONB somewhere: FR507 in mixed projects)
    uses_jsonb: bool = False
    # the code writes `updated_at` itself (`x.updated_at = …`, `updated_at=…` arguments, an
    # "updated_at" key) or uses a CRUD library that does (FR508's onupdate= half)
    writes_updated_at: bool = False
    # application code calls `metadata.create_all` (the app builds missing tables itself)
    creates_tables: bool = False
    # an Alembic revision module (migrations role): its `revision` id and `down_revision` ids
    # ("?" for what is not a literal string; semantics/migrations.py links them into a graph)
    revision: Optional[str] = None
    down_revisions: tuple[str, ...] = ()
    # the schema operations of its upgrade() (semantics.migrations.upgrade_operations)
    migration_ops: tuple[tuple[str, ...], ...] = ()
    syntax_error: Optional[str] = None
