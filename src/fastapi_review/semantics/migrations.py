"""Alembic migrations: what a revision module says (its identity and its `op.*` operations) and
the revision graph of the project's migrations.

Per file, the facts writer records a revision module's `revision` / `down_revision` (FileFacts);
the project phase links them into a graph (`revision_graph`, memoized on the index) that FR907's
`ExtraHead` reads.  Within one revision, `RevisionReplay` follows the `upgrade()` operations in
source order and knows which tables this revision created itself (an index or a NOT NULL column
on such a table locks nothing that holds rows): FR901–FR904 read it.  What is not a literal
table name is unknown, and the rules stay silent on it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any, Optional

import libcst as cst

from fastapi_review.facts import APP, ClassFacts
from fastapi_review.project import ProjectIndex, Requirement
from fastapi_review.semantics.scope import Scope
from fastapi_review.syntax import called, keyword_arg, last_name, positional_arg, string_value

ALEMBIC_OP = "alembic.op"
UNREADABLE = "?"  # a revision id (or down revision) that is not a literal string

_REVISION = re.compile(rb"^revision\s*(?::[^=\n]*)?=", re.MULTILINE)
_DOWN_REVISION = re.compile(rb"^down_revision\s*(?::[^=\n]*)?=", re.MULTILINE)


def has_revision_shape(data: bytes) -> bool:
    """An Alembic revision module: `revision` and `down_revision` assigned at the top level."""
    return b"down_revision" in data and bool(_DOWN_REVISION.search(data)) and bool(_REVISION.search(data))


# -- identity: revision and down_revision ------------------------------------------------------

def revision_ids(value: cst.BaseExpression) -> Optional[tuple[str, ...]]:
    """The revision ids a `down_revision` / `depends_on` value names: `None` → (), a string →
    (it,), a tuple or list of strings → them; None when it is not such a literal."""
    if isinstance(value, cst.Name) and value.value == "None":
        return ()
    text = string_value(value)
    if text is not None:
        return (text,)
    if isinstance(value, (cst.Tuple, cst.List)):
        ids = [string_value(element.value) for element in value.elements]
        if all(isinstance(i, str) for i in ids):
            return tuple(ids)  # type: ignore[arg-type]
    return None


@dataclass
class RevisionGraph:
    """The project's revisions (id → the files' down revisions) and what the graph shows."""

    down: dict[str, tuple[str, ...]]
    heads_by_component: dict[str, tuple[str, ...]]  # a head → every head of its component, in order
    readable: bool  # every revision module's ids are literals and unique


def build_revision_graph(index: ProjectIndex) -> RevisionGraph:
    """Link every revision module of the project by `down_revision`; group them into connected
    components (independent Alembic environments, such as one tree per database, are separate
    components) and order each component's heads by depth, then id."""
    down: dict[str, tuple[str, ...]] = {}
    readable = True
    for facts in index.files:
        if facts.revision is None:
            continue
        if facts.revision == UNREADABLE or UNREADABLE in facts.down_revisions or facts.revision in down:
            readable = False
            continue
        down[facts.revision] = facts.down_revisions
    parent: dict[str, str] = {r: r for r in down}

    def find(r: str) -> str:
        while parent[r] != r:
            parent[r] = parent[parent[r]]
            r = parent[r]
        return r

    for revision, downs in down.items():
        for d in downs:
            if d not in down:
                readable = False  # a down revision no file of this run defines
                continue
            parent[find(revision)] = find(d)
    has_child = {d for downs in down.values() for d in downs}
    depth: dict[str, int] = {}

    def depth_of(revision: str) -> int:
        stack = [revision]
        while stack:
            current = stack[-1]
            pending = [d for d in down.get(current, ()) if d in down and d not in depth]
            if pending and len(stack) <= len(down):
                stack.extend(pending)
                continue
            stack.pop()
            depth[current] = 1 + max((depth.get(d, 0) for d in down.get(current, ())), default=0)
        return depth[revision]

    components: dict[str, list[str]] = {}
    for revision in down:
        if revision not in has_child:
            components.setdefault(find(revision), []).append(revision)
    heads_by_component: dict[str, tuple[str, ...]] = {}
    for heads in components.values():
        ordered = tuple(sorted(heads, key=lambda h: (depth_of(h), h)))
        for head in ordered:
            heads_by_component[head] = ordered
    return RevisionGraph(down, heads_by_component, readable)


def revision_graph(index: ProjectIndex) -> RevisionGraph:
    """The project's revision graph, built once per index."""
    return index.memo("alembic-revision-graph", lambda: build_revision_graph(index))


class ExtraHead(Requirement, kind="alembic_extra_head"):
    """The revision is a head of its revision graph, and not the first of its graph's heads: the
    graph has several heads and no merge revision joins them.  Silent when some revision module
    of the project is unreadable (an id that is not a literal, a duplicate id, a down revision no
    file defines)."""

    revision: str
    needs_whole_project = True

    def holds(self, index: ProjectIndex) -> bool:
        graph = revision_graph(index)
        heads = graph.heads_by_component.get(self.revision, ())
        return graph.readable and len(heads) > 1 and heads[0] != self.revision

    def detail(self, index: ProjectIndex) -> Optional[str]:
        heads = revision_graph(index).heads_by_component.get(self.revision, ())
        return ", ".join(h for h in heads if h != self.revision)


_SQLITE_DIRECTORY = re.compile(r"(^|[^a-z])sqlite([^a-z]|$)", re.IGNORECASE)


def in_sqlite_tree(path: str) -> bool:
    """A revision kept in a directory named for SQLite (`versions/sqlite/`): a migration tree of
    its own for SQLite, where PostgreSQL's locking advice does not apply."""
    return any(_SQLITE_DIRECTORY.search(part) for part in re.split(r"[\\/]", path)[:-1])


# -- operations: op.* calls of one revision --------------------------------------------------------

def op_method(call: cst.Call, scope: Scope, batches: dict[str, Optional[str]]) -> Optional[tuple[str, bool]]:
    """`("create_index", False)` for `op.create_index(...)` (op imported from alembic), and
    `(method, True)` for a call on a `batch_alter_table` context (`batch_op.add_column(...)`)."""
    func = call.func
    if not isinstance(func, cst.Attribute):
        return None
    if isinstance(func.value, cst.Name) and func.value.value in batches:
        return func.attr.value, True
    if scope.imports.resolve(func.value) == ALEMBIC_OP:
        return func.attr.value, False
    return None


def batch_table(item: cst.WithItem, scope: Scope) -> Optional[tuple[str, Optional[str]]]:
    """(alias, table) of `with op.batch_alter_table("t") as batch_op:`; table None when not a literal."""
    call = item.item
    if not (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and call.func.attr.value == "batch_alter_table"):
        return None
    if scope.imports.resolve(call.func.value) != ALEMBIC_OP:
        return None
    if item.asname is None or not isinstance(item.asname.name, cst.Name):
        return None
    table = _argument(call, 0, "table_name")
    return item.asname.name.value, string_value(table) if table is not None else None


def is_autocommit_block(item: cst.WithItem) -> bool:
    """`with op.get_context().autocommit_block():` (statements outside the migration's transaction)."""
    call = item.item
    return isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and call.func.attr.value == "autocommit_block"


def _argument(call: cst.Call, position: int, keyword: str) -> Optional[cst.BaseExpression]:
    arg = keyword_arg(call, keyword) or positional_arg(call, position)
    return arg.value if arg is not None else None


# Where each op names its table (positional index, keyword); batch ops drop the table argument.
_TABLE_ARGUMENT = {
    "create_table": (0, "table_name"),
    "add_column": (0, "table_name"),
    "alter_column": (0, "table_name"),
    "create_index": (1, "table_name"),
    "create_foreign_key": (1, "source_table"),
    "create_check_constraint": (1, "table_name"),
    "execute": None,
}


def op_table(call: cst.Call, method: str, batch: Optional[str], in_batch: bool) -> Optional[str]:
    """The literal table an op acts on (the batch's table for batch ops); None: unknown."""
    if in_batch:
        return batch
    where = _TABLE_ARGUMENT.get(method)
    if where is None:
        return None
    expr = _argument(call, *where)
    return string_value(expr) if expr is not None else None


@dataclass
class SqlStatement:
    """What a recognisable DDL statement in `op.execute("...")` does (PostgreSQL grammar)."""

    kind: str  # "create_table", "create_index", "add_constraint", "empty_table", "other"
    table: Optional[str] = None
    concurrently: bool = False
    not_valid: bool = False
    constraint: str = ""  # "foreign_key" / "check" / other for add_constraint


def parse_ddl(sql: str) -> Optional[list[SqlStatement]]:
    """The statements of a raw SQL string, as far as they matter to lock-safety; None when the
    string does not parse as PostgreSQL."""
    try:
        import sqlglot
        from sqlglot import exp
        from sqlglot.errors import SqlglotError
    except ImportError:  # pragma: no cover - a dependency; without it nothing is known
        return None
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        statements = sqlglot.parse(sql, read="postgres")
    except (SqlglotError, RecursionError, ValueError):
        return None
    finally:
        logger.setLevel(level)
    found = []
    for statement in statements:
        if statement is None:
            continue
        found.append(_statement(statement, exp))
    return found


def _table_name(table: Any, exp: Any) -> Optional[str]:
    if isinstance(table, exp.Schema):
        table = table.this
    return table.name if isinstance(table, exp.Table) and table.name else None


def _statement(statement: Any, exp: Any) -> SqlStatement:
    if isinstance(statement, exp.Create):
        kind = str(statement.args.get("kind") or "").upper()
        if kind == "TABLE":
            return SqlStatement("create_table", _table_name(statement.this, exp))
        if kind == "INDEX" and isinstance(statement.this, exp.Index):
            return SqlStatement("create_index", _table_name(statement.this.args.get("table"), exp),
                                concurrently=bool(statement.args.get("concurrently")))
    if isinstance(statement, exp.Delete) and statement.args.get("where") is None:
        return SqlStatement("empty_table", _table_name(statement.this, exp))
    if isinstance(statement, exp.TruncateTable) and len(statement.expressions) == 1:
        return SqlStatement("empty_table", _table_name(statement.expressions[0], exp))
    if isinstance(statement, exp.Alter) and str(statement.args.get("kind") or "").upper() == "TABLE":
        actions = statement.args.get("actions") or []
        for action in actions:
            if isinstance(action, exp.AddConstraint):
                inner = [e for c in action.expressions for e in getattr(c, "expressions", [])]
                constraint = (
                    "foreign_key" if any(isinstance(e, exp.ForeignKey) for e in inner)
                    else "check" if any(isinstance(e, exp.CheckColumnConstraint) for e in inner)
                    else "other"
                )
                return SqlStatement("add_constraint", _table_name(statement.this, exp),
                                    not_valid=bool(statement.args.get("not_valid")), constraint=constraint)
    return SqlStatement("other")


# -- column specifications and types -------------------------------------------------------------

@dataclass(frozen=True)
class ColumnType:
    """A coarse PostgreSQL type: its family and the parameters that decide a rewrite."""

    family: str  # "varchar", "text", "int2", "int4", "int8", "numeric", …
    length: Optional[int] = None  # varchar length / numeric precision (None: unbounded)
    scale: Optional[int] = None


_TYPE_FAMILIES = {
    "String": "varchar", "VARCHAR": "varchar", "Unicode": "varchar", "NVARCHAR": "varchar", "CHAR": "char",
    "Text": "text", "TEXT": "text", "UnicodeText": "text", "CITEXT": "citext",
    "SmallInteger": "int2", "SMALLINT": "int2", "Integer": "int4", "INTEGER": "int4", "INT": "int4",
    "BigInteger": "int8", "BIGINT": "int8",
    "Numeric": "numeric", "NUMERIC": "numeric", "DECIMAL": "numeric",
    "Float": "float8", "FLOAT": "float8", "DOUBLE_PRECISION": "float8", "Double": "float8", "REAL": "float4",
    "Boolean": "bool", "BOOLEAN": "bool", "Date": "date", "DATE": "date",
    "DateTime": "timestamp", "TIMESTAMP": "timestamp", "Time": "time", "TIME": "time", "Interval": "interval",
    "JSON": "json", "JSONB": "jsonb", "UUID": "uuid", "Uuid": "uuid", "LargeBinary": "bytea", "BYTEA": "bytea",
    "INET": "inet", "CIDR": "cidr",
}


def column_type(expr: Optional[cst.BaseExpression]) -> Optional[ColumnType]:
    """The coarse type of `sa.String(255)`, `postgresql.TIMESTAMP(timezone=True)`, `sa.Text()`…;
    None for types it does not know (custom, Enum, ARRAY, variants)."""
    if expr is None:
        return None
    name = last_name(called(expr))
    family = _TYPE_FAMILIES.get(name or "")
    if family is None:
        return None
    if not isinstance(expr, cst.Call):
        return ColumnType(family)
    if any(arg.star for arg in expr.args):
        return None
    if family in ("varchar", "char", "numeric"):
        length = _int(_argument(expr, 0, "length" if family != "numeric" else "precision"))
        scale = _int(_argument(expr, 1, "scale")) if family == "numeric" else None
        if length is False or scale is False:
            return None
        return ColumnType(family, length or None, scale or None)  # type: ignore[arg-type]
    if family in ("timestamp", "time"):
        timezone = _argument(expr, 0, "timezone")
        if timezone is None:
            return ColumnType(family)
        if isinstance(timezone, cst.Name) and timezone.value in ("True", "False"):
            return ColumnType(family + "tz" if timezone.value == "True" else family)
        return None
    return ColumnType(family)


def _int(expr: Optional[cst.BaseExpression]) -> "int | bool | None":
    """An integer literal's value; None when absent; False when present but not a literal."""
    if expr is None:
        return None
    return int(expr.value) if isinstance(expr, cst.Integer) else False


def rewrites_table(old: ColumnType, new: ColumnType) -> bool:
    """Whether PostgreSQL rewrites the table to change a column from `old` to `new` (binary
    coercible changes do not: widening or dropping a varchar limit, varchar ↔ text, raising a
    numeric's precision at the same scale)."""
    if old == new:
        return False
    texts = ("varchar", "text")
    if old.family in texts and new.family in texts:
        if new.family == "text" or new.length is None:
            return False
        return old.family == "varchar" and old.length is not None and new.length < old.length  # shrink: a rewrite-free scan is not promised
    if old.family == new.family == "numeric":
        if new.length is None and new.scale is None:
            return False
        return not (old.length is not None and new.length is not None and new.length >= old.length and old.scale == new.scale)
    if {old.family, new.family} == {"timestamp", "timestamptz"}:
        return False  # no rewrite on PostgreSQL 12+ when the session time zone is UTC: undecidable here
    if {old.family, new.family} == {"cidr", "inet"}:
        return False
    return True


@dataclass
class ColumnSpec:
    """What FR902 needs of a `sa.Column(...)` passed to `add_column`."""

    name: Optional[str]
    not_null: bool
    has_server_value: bool  # server_default=, Identity(), Computed()


def column_spec(expr: Optional[cst.BaseExpression]) -> Optional[ColumnSpec]:
    """Read `sa.Column("name", sa.Type, nullable=False, server_default=...)`; None when it is not
    a plain Column call (unpacked arguments, a variable)."""
    if not isinstance(expr, cst.Call) or last_name(expr.func) != "Column" or any(a.star for a in expr.args):
        return None
    nullable = keyword_arg(expr, "nullable")
    if nullable is not None and not (isinstance(nullable.value, cst.Name) and nullable.value.value in ("True", "False")):
        return None  # computed nullability: undecidable
    not_null = nullable is not None and isinstance(nullable.value, cst.Name) and nullable.value.value == "False"
    server_value = keyword_arg(expr, "server_default") is not None or any(
        arg.keyword is None and last_name(called(arg.value)) in ("Identity", "Computed", "Sequence") for arg in expr.args
    )
    default = keyword_arg(expr, "server_default")
    if default is not None and isinstance(default.value, cst.Name) and default.value.value == "None":
        server_value = False
    name_arg = positional_arg(expr, 0)
    return ColumnSpec(string_value(name_arg.value) if name_arg is not None else None, not_null, server_value)


_SCHEMA_METHOD = re.compile(r"^(create|drop|add|alter|rename)_|^batch_alter_table$")


_IDEMPOTENT_SQL = re.compile(r"\bif\s+(not\s+)?exists\b|\bor\s+replace\b", re.IGNORECASE)
_ALEMBIC_MARKER = re.compile(r"#\s*###\s*(commands auto generated by Alembic|end Alembic commands)", re.IGNORECASE)


def changes_schema(method: str, call: cst.Call) -> bool:
    """Whether an op call changes the schema in a way a re-run would trip on: a create/drop/add/
    alter/rename op, a batch, or `op.execute` of DDL (CREATE/ALTER/DROP), except idempotent SQL
    (`IF NOT EXISTS`, `IF EXISTS`, `OR REPLACE`), which runs again after a no-op downgrade."""
    if _SCHEMA_METHOD.match(method):
        return True
    if method != "execute":
        return False
    expr = _argument(call, 0, "sqltext")
    if isinstance(expr, cst.Call) and last_name(expr.func) == "text":
        inner = positional_arg(expr, 0)
        expr = inner.value if inner is not None else None
    sql = string_value(expr) if expr is not None else None
    return sql is not None and bool(re.match(r"\s*(create|alter|drop)\s", sql, re.IGNORECASE)) and not _IDEMPOTENT_SQL.search(sql)


def is_silent_body(function: cst.FunctionDef) -> bool:
    """A body that does nothing and says nothing: only `pass` / `...`, with no docstring and no
    comment but Alembic's own `# ### commands auto generated ...` markers (a human comment or a
    docstring in an empty downgrade states an intent)."""
    body = function.body
    if not isinstance(body, cst.IndentedBlock):
        return False
    for statement in body.body:
        if not isinstance(statement, cst.SimpleStatementLine) or not all(_is_nothing(s) for s in statement.body):
            return False
    code = cst.Module([]).code_for_node(body).split("\n", 1)[-1]  # the `def ...:` line's own comment aside
    return all(_ALEMBIC_MARKER.match(comment) for comment in re.findall(r"#[^\n]*", code))


def _is_nothing(statement: cst.BaseSmallStatement) -> bool:
    return isinstance(statement, cst.Pass) or isinstance(statement, cst.Expr) and isinstance(statement.value, cst.Ellipsis)


@dataclass
class RevisionReplay:
    """The tables one revision's `upgrade()` creates or empties, in source order (such tables hold
    no rows: indexes, NOT NULL columns and constraints on them lock nothing that holds rows)."""

    created: set[str] = field(default_factory=set)

    def record(self, method: str, table: Optional[str], call: cst.Call) -> None:
        """Note what an op call creates or empties (`create_table`, raw `CREATE TABLE`,
        `DELETE FROM t` without WHERE, `TRUNCATE t`)."""
        if method == "create_table" and table is not None:
            self.created.add(table)
        elif method == "execute":
            for statement in execute_statements(call) or ():
                if statement.kind in ("create_table", "empty_table") and statement.table is not None:
                    self.created.add(statement.table)

    def existing(self, table: Optional[str]) -> bool:
        """A literal table this revision did not create: it existed before the revision."""
        return table is not None and table not in self.created


def execute_statements(call: cst.Call) -> Optional[list[SqlStatement]]:
    """The DDL of `op.execute("...")` / `op.execute(sa.text("..."))` with a literal string."""
    expr = _argument(call, 0, "sqltext")
    if isinstance(expr, cst.Call) and last_name(expr.func) == "text":
        inner = positional_arg(expr, 0)
        expr = inner.value if inner is not None else None
    sql = string_value(expr) if expr is not None else None
    return parse_ddl(sql) if sql else None


# -- imports of application code --------------------------------------------------------------------

_SERVICE_MODULE = re.compile(r"(^|\.)(services?|\w+_services?)(\.|$)")


def imports_application_code(index: ProjectIndex, qualname: str) -> bool:
    """Whether an imported name is the application's ORM model or service, or a module of the
    application that defines (or re-exports) ORM models or is a service module."""
    from fastapi_review.semantics.models import is_orm_model

    resolved = index.resolve(qualname)
    if isinstance(resolved, ClassFacts):
        owner = index.module(resolved.qualname.rpartition(".")[0])
        if owner is None or owner.role != APP:
            return False
        return is_orm_model(index, resolved.qualname) or resolved.name.endswith("Service")
    if resolved is not None:
        return False  # a declarative base name: its metadata, not a model
    module = index.module(qualname)
    if module is None or module.role != APP:
        return False
    if _SERVICE_MODULE.search(module.module):
        return True
    return any(is_orm_model(index, cls.qualname) for cls in module.classes) or any(
        is_orm_model(index, target) for target in module.imports.values() if isinstance(index.resolve(target), ClassFacts)
    )


class ApplicationImport(Requirement, kind="alembic_application_import"):
    """One of the names a migration's import statement imports is the application's ORM model or
    service (or a module of them); the detail names the first."""

    qualnames: tuple[str, ...]

    def holds(self, index: ProjectIndex) -> bool:
        return any(imports_application_code(index, name) for name in self.qualnames)

    def detail(self, index: ProjectIndex) -> Optional[str]:
        return next((name for name in self.qualnames if imports_application_code(index, name)), None)
