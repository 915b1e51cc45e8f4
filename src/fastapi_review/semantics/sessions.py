"""Session expressions (RULES.md "Shared vocabulary": Session expression)."""

from __future__ import annotations

import re
from typing import Optional

import libcst as cst

from fastapi_review.project import ProjectIndex, Requirement
from fastapi_review.semantics.context import Context
from fastapi_review.semantics.names import ORM_LIBRARIES, in_library, may_be_project_name
from fastapi_review.semantics.types import unwrap_annotation
from fastapi_review.syntax import dotted_name

SESSION_CLASS_NAMES = frozenset({"AsyncSession", "Session", "async_scoped_session", "scoped_session"})
CONNECTION_CLASS_NAMES = frozenset({"AsyncConnection", "Connection"})
# Conventional names of session factories (`SessionLocal = sessionmaker(...)` in another
# module); a bare `Session` is not one of them (requests.Session, a model named Session...).
_FACTORY_NAME = re.compile(r"(?i)^(async_?)?session_?(local|maker|factory)$|^async_session$")
SESSIONMAKERS = frozenset({"sessionmaker", "async_sessionmaker"})
# Session / connection methods that talk to the database (FR201, FR701).
SESSION_IO_METHODS = frozenset(
    {"execute", "scalar", "scalars", "get", "get_one", "add", "add_all", "delete", "merge", "flush",
     "commit", "rollback", "refresh", "stream", "query", "exec"}
)
# The ones that read: a round trip that returns rows (FR402 follows them through helpers).
SESSION_READ_METHODS = frozenset({"execute", "scalar", "scalars", "get", "get_one", "refresh", "stream", "query", "exec"})
DEFAULT_SESSION_NAMES = ("session", "db", "db_session", "async_session")
# Request-scoped sessions behind a middleware: `from fastapi_sqlalchemy import db` → `db.session`
MIDDLEWARE_SESSION_HOLDERS = frozenset({"fastapi_sqlalchemy.db", "fastapi_async_sqlalchemy.db"})
_NOT_DATABASE_LIBRARIES = frozenset({"requests", "httpx", "aiohttp", "boto3", "aioboto3", "botocore"})


def _of_other_library(qualified: Optional[str]) -> bool:
    """A qualified name from a library that talks HTTP or cloud APIs, not to a database
    (`aiohttp.ClientSession`, `requests.Session`)."""
    return qualified is not None and qualified.split(".", 1)[0] in _NOT_DATABASE_LIBRARIES


def looks_like_session_factory(name: str) -> bool:
    """Conventional factory names: SessionLocal, async_session_maker, session_factory, …"""
    return bool(_FACTORY_NAME.match(name) or name.lower() in ("sessionmaker", "async_sessionmaker"))


def _is_orm_qualname(qualname: Optional[str], names: frozenset[str]) -> bool:
    if not qualname:
        return False
    module, _, last = qualname.rpartition(".")
    return last in names and in_library(module, *ORM_LIBRARIES)


ASYNC_KINDS = {"AsyncSession": "session", "async_scoped_session": "session", "AsyncConnection": "connection"}
SYNC_SESSION_NAMES = frozenset({"Session", "scoped_session"})


def session_class_name(annotation: cst.BaseExpression, scope: Context) -> Optional[str]:
    """`AsyncSession`, `Session`, `AsyncConnection`, … named by an annotation (or a local alias)."""
    for t in unwrap_annotation(annotation, scope):
        qualified = scope.imports.resolve(t)
        if _is_orm_qualname(qualified, SESSION_CLASS_NAMES | CONNECTION_CLASS_NAMES):
            return qualified.rsplit(".", 1)[-1]  # type: ignore[union-attr]
        if isinstance(t, cst.Name) and t.value in scope.session_aliases:
            return scope.session_aliases[t.value]
    return None


def is_session_annotation(annotation: cst.BaseExpression, scope: Context) -> bool:
    """An annotation naming a SQLAlchemy / SQLModel session class, or a local alias of one."""
    return session_class_name(annotation, scope) in SESSION_CLASS_NAMES


def is_sync_session_annotation(annotation: cst.BaseExpression, scope: Context) -> bool:
    """An annotation naming the sync `Session` / `scoped_session` (or a local alias of one)."""
    return session_class_name(annotation, scope) in SYNC_SESSION_NAMES


def sessionmaker_kind(call: cst.Call, callee_name: str, scope: Context) -> str:
    """"async" / "sync": what sessions a sessionmaker() call makes — async_sessionmaker(), or
    sessionmaker(class_=AsyncSession, ...), makes async ones."""
    if callee_name.startswith("async"):
        return "async"
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "class_":
            if session_class_name(arg.value, scope) in ASYNC_KINDS:
                return "async"
    return "sync"


def is_sync_session_call(call: cst.Call, scope: Context) -> bool:
    """`Session(...)` or a call of a name bound to a sync `sessionmaker(...)` in this module."""
    qualified = scope.callee(call)
    if _is_orm_qualname(qualified, SYNC_SESSION_NAMES):
        return True
    name = dotted_name(call.func)
    return name is not None and scope.session_factories.get(name) == "sync"


def async_session_kind(expr: cst.BaseExpression, scope: Context) -> Optional[str]:
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


def session_alias_requirement(expr: cst.BaseExpression, scope: Context) -> Optional[Requirement]:
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
            return SessionAlias(qualified)
    return None


def is_connection_annotation(annotation: cst.BaseExpression, scope: Context) -> bool:
    """An annotation naming a SQLAlchemy (async) connection class."""
    return any(
        _is_orm_qualname(scope.imports.resolve(t), CONNECTION_CLASS_NAMES)
        for t in unwrap_annotation(annotation, scope)
    )


def is_session_factory_call(expr: cst.BaseExpression, scope: Context) -> bool:
    """`AsyncSession(...)`, `Session(...)`, or a call of a name bound to (async_)sessionmaker().

    Calling `sessionmaker(...)` itself makes a factory, not a session; a factory received as a
    parameter was injected.
    """
    if not isinstance(expr, cst.Call):
        return False
    qualified = scope.callee(expr)
    if _is_orm_qualname(qualified, SESSION_CLASS_NAMES):
        return True
    if _is_orm_qualname(qualified, SESSIONMAKERS):
        return False
    name = dotted_name(expr.func)
    if name is None:
        return False
    if name in scope.session_factories:
        return True
    function = scope.function
    if function is not None and name.split(".", 1)[0] in function.params and not name.startswith(("self.", "cls.")):
        return False
    if _of_other_library(qualified):
        return False
    return bool(_FACTORY_NAME.match(name.rsplit(".", 1)[-1]))


# Annotations that say "not a session" whatever the parameter's name (`db: dict`, `session: str`)
_PLAIN_TYPES = frozenset({"dict", "list", "set", "tuple", "str", "bytes", "int", "float", "bool"})
_CONTAINERS = frozenset({"Dict", "List", "Set", "Tuple", "Mapping", "MutableMapping", "DefaultDict", "OrderedDict", "defaultdict", "Counter", "deque"})


def _names_something_else(annotation: cst.BaseExpression, scope: Context) -> bool:
    """The annotation names a builtin or typing container, or a class of a library that is not
    a database (`aiohttp.ClientSession`, `requests.Session`)."""
    for t in unwrap_annotation(annotation, scope):
        if isinstance(t, cst.Subscript):
            t = t.value
        if isinstance(t, cst.Name) and t.value in _PLAIN_TYPES and scope.imports.resolve(t) is None:
            return True
        qualified = scope.imports.resolve(t)
        if qualified is None:
            continue
        top, _, last = qualified.partition(".")
        if _of_other_library(qualified) or (top in ("typing", "collections") and last.rsplit(".", 1)[-1] in _CONTAINERS):
            return True
    return False


def _session_param(name: str, annotation: Optional[cst.BaseExpression], scope: Context, session_names: tuple[str, ...]) -> bool:
    if annotation is not None:
        if is_session_annotation(annotation, scope):
            return True
        if _names_something_else(annotation, scope):
            return False
    return name in session_names


def is_session_expr(expr: cst.BaseExpression, scope: Context, session_names: tuple[str, ...]) -> bool:
    """Whether `expr` denotes a database session in the current function: a parameter
    annotated with a session class or named in `session-names`; a local bound by a session
    factory, a session context manager or `engine.connect()`; a module-level session; an
    attribute of `self` named like a session (`self._db`) or set from one in `__init__`;
    `(a or b)` / `a if c else b` of session expressions."""
    if isinstance(expr, cst.Name):
        function = scope.function
        if function is None:
            return False
        if expr.value in function.session_locals:
            return True
        if expr.value in function.params:
            return _session_param(expr.value, function.params[expr.value], scope, session_names)
        return expr.value in scope.module_sessions
    if isinstance(expr, cst.Attribute) and expr.attr.value == "session" and scope.imports.resolve(expr.value) in MIDDLEWARE_SESSION_HOLDERS:
        return True  # `db.session` of fastapi-sqlalchemy's middleware
    if isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name) and expr.value.value in ("self", "cls"):
        attr = expr.attr.value
        if attr in session_names or attr.lstrip("_") in session_names:
            return True
        if scope.classes:
            cls = scope.classes[-1]
            if cls.session_attrs is None:
                cls.session_attrs = class_session_attrs(cls.node, scope)
            attrs = cls.session_attrs
            if attr in attrs:
                source = attrs[attr]
                return source is None or source in session_names
        return False
    if isinstance(expr, cst.BooleanOperation) and isinstance(expr.operator, cst.Or):
        return is_session_expr(expr.left, scope, session_names) and is_session_expr(expr.right, scope, session_names)
    if isinstance(expr, cst.IfExp):
        return is_session_expr(expr.body, scope, session_names) and is_session_expr(expr.orelse, scope, session_names)
    return False


# `async with get_session() as session`, `with session_scope() as db`, `async with
# self.db.session() as session`: a context manager of the project's whose name says session.
_SESSION_CONTEXT_NAME = re.compile(r"(?i)session|(^|_)(db|database)(_|$)")


def is_session_context_call(expr: cst.BaseExpression, bound_name: str, scope: Context) -> bool:
    """`<call>()` in `with <call>() as <bound_name>` makes a session: the bound name is a
    conventional session name (`session`, `db`, …) and the callee's own name says session or
    db (`get_session`, `session_scope`, `db.session`, `get_db`) — not a library client
    (`aiohttp.ClientSession()`, `requests.Session()`)."""
    if not isinstance(expr, cst.Call) or bound_name.lstrip("_") not in DEFAULT_SESSION_NAMES:
        return False
    name = dotted_name(expr.func)
    if name is None:
        return False
    qualified = scope.callee(expr)
    if _of_other_library(qualified):
        return False
    if qualified is not None and not may_be_project_name(qualified) and not in_library(qualified.rpartition(".")[0], *ORM_LIBRARIES):
        return False  # another library's context manager
    return bool(_SESSION_CONTEXT_NAME.search(name.rsplit(".", 1)[-1]))


def is_engine_connection_call(expr: cst.BaseExpression) -> bool:
    """`engine.connect()` / `engine.begin()` / `async_engine.connect()`: a connection."""
    if not (isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute)):
        return False
    if expr.func.attr.value not in ("connect", "begin"):
        return False
    receiver = dotted_name(expr.func.value)
    return receiver is not None and receiver.rsplit(".", 1)[-1].lower().endswith("engine")


def class_session_attrs(node: cst.ClassDef, scope: Context) -> dict[str, Optional[str]]:
    """The class's session attributes (ClassInfo.session_attrs): `session: AsyncSession` in the
    body; `self.x = <parameter>` in `__init__` (the parameter annotated with a session class, or
    named like one); `self.x = SessionLocal()`."""
    found: dict[str, Optional[str]] = {}
    body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
    for statement in body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) and is_session_annotation(small.annotation.annotation, scope):
                    found[small.target.value] = None
        elif isinstance(statement, cst.FunctionDef) and statement.name.value == "__init__":
            params = {
                p.name.value: (p.annotation.annotation if p.annotation else None)
                for p in (*statement.params.params, *statement.params.kwonly_params)
            }
            init_body = statement.body.body if isinstance(statement.body, cst.IndentedBlock) else ()
            for line in init_body:
                if not isinstance(line, cst.SimpleStatementLine):
                    continue
                for small in line.body:
                    if isinstance(small, cst.Assign) and len(small.targets) == 1:
                        target, value = small.targets[0].target, small.value
                    elif isinstance(small, cst.AnnAssign) and small.value is not None:
                        target, value = small.target, small.value
                        if isinstance(target, cst.Attribute) and is_session_annotation(small.annotation.annotation, scope):
                            found[target.attr.value] = None
                            continue
                    else:
                        continue
                    if not (isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name) and target.value.value == "self"):
                        continue
                    if isinstance(value, cst.Name) and value.value in params:
                        annotation = params[value.value]
                        if annotation is not None and is_session_annotation(annotation, scope):
                            found[target.attr.value] = None
                        elif annotation is None:
                            found[target.attr.value] = value.value
                    elif is_session_factory_call(value, scope):
                        found[target.attr.value] = None
    return found


def session_io_method(call: cst.Call, scope: Context, session_names: tuple[str, ...]) -> Optional[str]:
    """The method when `call` is `<session expression>.<I/O method>(...)` (SESSION_IO_METHODS)."""
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value in SESSION_IO_METHODS and is_session_expr(func.value, scope, session_names):
        return func.attr.value
    return None


# -- across the project ----------------------------------------------------------------------


def session_alias_class(index: ProjectIndex, qualname: str) -> Optional[str]:
    """The session class of a name bound to `Annotated[AsyncSession, ...]` (or another session
    type) somewhere in the project, else None."""
    located = index.locate(qualname)
    if located is None:
        return None
    return located[0].session_aliases.get(located[1])


def session_factory_kind(index: ProjectIndex, qualname: str) -> Optional[str]:
    """"sync" / "async" for a name bound to sessionmaker() / async_sessionmaker() somewhere."""
    located = index.locate(qualname)
    return located[0].session_factories.get(located[1]) if located is not None else None


class SessionAlias(Requirement, kind="session_alias"):
    """The imported name is an `Annotated[<session class>, ...]` alias."""

    qualname: str

    def holds(self, index: ProjectIndex) -> bool:
        return session_alias_class(index, self.qualname) is not None


class SyncSessionAlias(Requirement, kind="sync_session_alias"):
    """The imported name is an alias of the sync `Session` / `scoped_session`."""

    qualname: str

    def holds(self, index: ProjectIndex) -> bool:
        return session_alias_class(index, self.qualname) in SYNC_SESSION_NAMES


class SessionFactory(Requirement, kind="session_factory"):
    """The imported name is bound to sessionmaker() / async_sessionmaker()."""

    qualname: str

    def holds(self, index: ProjectIndex) -> bool:
        return session_factory_kind(index, self.qualname) is not None


class SyncSessionFactory(Requirement, kind="sync_session_factory"):
    """The imported name is bound to a sync sessionmaker()."""

    qualname: str

    def holds(self, index: ProjectIndex) -> bool:
        return session_factory_kind(index, self.qualname) == "sync"


class AsyncProject(Requirement, kind="async_project"):
    """Some module of the project imports SQLAlchemy's (or SQLModel's) asyncio extension."""

    def holds(self, index: ProjectIndex) -> bool:
        return any(f.uses_async_sqlalchemy for f in index.files)


class CalledFromAsync(Requirement, kind="called_from_async"):
    """Some `async def` of the project calls the function directly (a route handler, an async
    service): the sync function then runs on the event loop and blocks it."""

    function: str

    def holds(self, index: ProjectIndex) -> bool:
        callers = index.memo(
            ("async-callees",),
            lambda: {c for f in index.files for fn in f.functions.values() if fn.is_async for c in fn.calls},
        )
        return self.function in callers
