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
from fastapi_review.syntax import arg_is, called, keyword_arg, last_name, positional_arg, string_value

ALEMBIC_OP = "alembic.op"
UNREADABLE = "?"  # a revision id (or down revision) that is not a literal string
UNKNOWN = "?"  # a column's nullability or type the replay cannot read

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


def tree_key(path: str) -> str:
    """The migration tree a revision file starts in: its directory.  Directories whose revisions
    refer to each other's (subdirectories of `versions/`, several `version_locations`) are
    joined when the graph is built; separate environments (one per database) stay apart."""
    return "/".join(re.split(r"[\\/]", path)[:-1])


Node = tuple[str, str]  # (tree, revision id)


@dataclass
class RevisionGraph:
    """The project's revisions by tree, and what each tree's graph shows."""

    down: dict[Node, tuple[Node, ...]]  # every revision → its down revisions
    tree_of: dict[str, str]  # a tree key → its tree (trees joined by cross references)
    heads: dict[str, tuple[str, ...]]  # a tree → its heads, ordered by depth, then id
    unreadable: set[str]  # trees with an id that is not a literal, a duplicate, a dangling down revision

    def tree(self, key: str) -> str:
        """The joined tree of a revision file's tree key."""
        return self.tree_of.get(key, key)

    @property
    def complete(self) -> bool:
        """Some revisions, every tree readable, one head each."""
        return bool(self.down) and not self.unreadable and all(len(h) == 1 for h in self.heads.values())


def build_revision_graph(index: ProjectIndex) -> RevisionGraph:
    """Link every revision module of the project by `down_revision`, per migration tree (one
    per Alembic environment: `tree_key`, joined when one names another's revisions); order each
    tree's heads by depth, then id."""
    by_key: dict[str, dict[str, tuple[str, ...]]] = {}
    unreadable_keys: set[str] = set()
    for facts in index.files:
        if facts.revision is None:
            continue
        key = tree_key(facts.path)
        revisions = by_key.setdefault(key, {})
        if facts.revision == UNREADABLE or UNREADABLE in facts.down_revisions or facts.revision in revisions:
            unreadable_keys.add(key)
            continue
        revisions[facts.revision] = facts.down_revisions
    parent = {key: key for key in by_key}

    def find(key: str) -> str:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    owners: dict[str, list[str]] = {}
    for key, revisions in by_key.items():
        for revision in revisions:
            owners.setdefault(revision, []).append(key)
    dangling: set[str] = set()
    for key, revisions in by_key.items():
        for downs in revisions.values():
            for d in downs:
                if d in revisions:
                    continue
                others = owners.get(d, [])
                if len(others) == 1:
                    parent[find(key)] = find(others[0])
                else:
                    dangling.add(key)
    tree_of = {key: find(key) for key in by_key}
    unreadable = {tree_of[key] for key in unreadable_keys | dangling}
    down: dict[Node, tuple[Node, ...]] = {}
    ids: dict[str, dict[str, Node]] = {}
    for key, revisions in by_key.items():
        tree = tree_of[key]
        known = ids.setdefault(tree, {})
        for revision in revisions:
            if revision in known:
                unreadable.add(tree)  # the same id in two joined trees
            known[revision] = (key, revision)
    for key, revisions in by_key.items():
        known = ids[tree_of[key]]
        for revision, downs in revisions.items():
            down[(key, revision)] = tuple(known[d] for d in downs if d in known)
    has_child = {d for downs in down.values() for d in downs}
    depth: dict[Node, int] = {}

    def depth_of(node: Node) -> int:
        stack = [node]
        while stack:
            current = stack[-1]
            pending = [d for d in down.get(current, ()) if d not in depth and d not in stack]
            if pending and len(stack) <= len(down):
                stack.extend(pending)
                continue
            stack.pop()
            depth[current] = 1 + max((depth.get(d, 0) for d in down.get(current, ())), default=0)
        return depth[node]

    heads: dict[str, list[Node]] = {}
    for node in down:
        if node not in has_child:
            heads.setdefault(tree_of[node[0]], []).append(node)
    ordered = {tree: tuple(n[1] for n in sorted(nodes, key=lambda n: (depth_of(n), n[1]))) for tree, nodes in heads.items()}
    return RevisionGraph(down, tree_of, ordered, unreadable)


def revision_graph(index: ProjectIndex) -> RevisionGraph:
    """The project's revision graph, built once per index."""
    return index.memo("alembic-revision-graph", lambda: build_revision_graph(index))


class ExtraHead(Requirement, kind="alembic_extra_head"):
    """The revision is a head of its migration tree, and not the first of its tree's heads: the
    tree has several heads and no merge revision joins them.  Silent when the tree has a
    revision module that is unreadable (an id that is not a literal, a duplicate id, a down
    revision no file defines)."""

    tree: str
    revision: str
    needs_whole_project = True

    def holds(self, index: ProjectIndex) -> bool:
        graph = revision_graph(index)
        tree = graph.tree(self.tree)
        heads = graph.heads.get(tree, ())
        return tree not in graph.unreadable and len(heads) > 1 and self.revision in heads[1:]

    def detail(self, index: ProjectIndex) -> Optional[str]:
        graph = revision_graph(index)
        return ", ".join(h for h in graph.heads.get(graph.tree(self.tree), ()) if h != self.revision)


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


def _keyword(call: cst.Call, keyword: str) -> Optional[cst.BaseExpression]:
    arg = keyword_arg(call, keyword)
    return arg.value if arg is not None else None


# Where each op names its table (positional index, keyword); batch ops drop the table argument.
_TABLE_ARGUMENT = {
    "create_table": (0, "table_name"),
    "add_column": (0, "table_name"),
    "alter_column": (0, "table_name"),
    "drop_column": (0, "table_name"),
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
    # what it does to tables and columns, as replay operations (None: not a table statement)
    schema_ops: Optional[tuple[tuple[str, ...], ...]] = None


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
    found = _lock_statement(statement, exp)
    found.schema_ops = _table_ops(statement, exp)
    return found


def _table_ops(statement: Any, exp: Any) -> Optional[tuple[tuple[str, ...], ...]]:
    """Replay operations of CREATE TABLE / DROP TABLE / ALTER TABLE (unknown for the table when an
    action is not followed); None for statements about no table's columns."""
    kind = str(statement.args.get("kind") or "").upper()
    if kind == "INDEX" and isinstance(statement, exp.Create):
        # which columns, how unique, how partial: not followed; the table's indexes are unknown
        table = _table_name(statement.this.args.get("table"), exp) if isinstance(statement.this, exp.Index) else None
        return (("constraints_unknown", table),) if table else (("constraints_unknown_all",),)
    if kind != "TABLE":
        return None
    if isinstance(statement, exp.Create):
        table = _table_name(statement.this, exp)
        if table is None:
            return (("unknown_all",),)
        if not isinstance(statement.this, exp.Schema) or statement.args.get("expression") is not None:
            return (("unknown", table),)
        definitions = statement.this.expressions
        columns = [c for c in definitions if isinstance(c, exp.ColumnDef)]
        ops = [("create_table", table, *(c.name for c in columns))]
        ops.extend(_sql_column(table, c, exp) for c in columns)
        if len(columns) < len(definitions) or any(_sql_keys(c, exp) for c in columns):
            ops.append(("constraints_unknown", table))  # table constraints, inline keys: not followed
        return tuple(ops)
    if isinstance(statement, exp.Drop):
        tables = [t.name for t in statement.find_all(exp.Table) if t.name]
        return tuple(("drop_table", t) for t in tables) or (("unknown_all",),)
    if isinstance(statement, exp.Alter):
        table = _table_name(statement.this, exp)
        if table is None:
            return (("unknown_all",),)
        ops: list[tuple[str, ...]] = []
        for action in statement.args.get("actions") or []:
            if isinstance(action, exp.ColumnDef) and action.name:
                ops.append(("add_column", table, action.name))
                ops.append(_sql_column(table, action, exp))
                if _sql_keys(action, exp):
                    ops.append(("constraints_unknown", table))  # inline REFERENCES / UNIQUE: not followed
            elif isinstance(action, exp.AlterColumn) and action.this is not None and action.this.name:
                ops.append(("alter", table, action.this.name, "nullable", UNKNOWN))
                ops.append(("alter", table, action.this.name, "type", UNKNOWN))
            elif isinstance(action, exp.AddConstraint):
                ops.append(("constraints_unknown", table))
            elif isinstance(action, exp.Drop) and str(action.args.get("kind") or "").upper() == "COLUMN" and action.this is not None:
                ops.append(("drop_column", table, action.this.name))
            elif isinstance(action, exp.RenameColumn) and action.this is not None and action.args.get("to") is not None:
                ops.append(("rename_column", table, action.this.name, action.args["to"].name))
            elif isinstance(action, exp.AlterRename) and action.this is not None and action.this.name:
                ops.append(("rename_table", table, action.this.name))
            else:
                ops.append(("unknown", table))
        return tuple(ops)
    return None


_SQL_FAMILIES = {
    "SMALLINT": "integer", "INT": "integer", "BIGINT": "integer", "SERIAL": "integer", "BIGSERIAL": "integer",
    "SMALLSERIAL": "integer", "VARCHAR": "string", "CHAR": "string", "TEXT": "text", "BOOLEAN": "boolean",
    "TIMESTAMP": "datetime", "TIMESTAMPTZ": "datetime", "DATE": "date", "DECIMAL": "numeric", "DOUBLE": "float",
    "FLOAT": "float", "JSON": "json", "JSONB": "json", "UUID": "uuid",
}


def _sql_column(table: str, column: Any, exp: Any) -> SchemaOp:
    """("column", table, name, nullable, coarse type) of a raw `name type [NOT NULL] ...` definition."""
    kinds = [c.args.get("kind") for c in column.args.get("constraints") or []]
    not_null = any(
        isinstance(k, exp.PrimaryKeyColumnConstraint) or (isinstance(k, exp.NotNullColumnConstraint) and not k.args.get("allow_null"))
        for k in kinds
    )
    data_type = column.args.get("kind")
    family = _SQL_FAMILIES.get(data_type.this.name, UNKNOWN) if isinstance(data_type, exp.DataType) else UNKNOWN
    return ("column", table, column.name, "0" if not_null else "1", family)


def _sql_keys(column: Any, exp: Any) -> bool:
    """Whether a raw column definition makes a key (PRIMARY KEY, UNIQUE, REFERENCES): not followed."""
    return any(
        not isinstance(c.args.get("kind"), (exp.NotNullColumnConstraint, exp.DefaultColumnConstraint))
        for c in column.args.get("constraints") or []
    )


def _lock_statement(statement: Any, exp: Any) -> SqlStatement:
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
    if not isinstance(expr, cst.Integer):
        return False
    try:
        return int(expr.value, 0)
    except ValueError:
        return False


def rewrites_table(old: ColumnType, new: ColumnType) -> bool:
    """Whether PostgreSQL rewrites the table to change a column from `old` to `new` (binary
    coercible changes do not: widening or dropping a varchar limit, varchar → text, raising a
    numeric's precision at the same scale; adding or lowering a length limit does)."""
    if old == new:
        return False
    texts = ("varchar", "text")
    if old.family in texts and new.family in texts:
        if new.family == "text" or new.length is None:
            return False
        # a new or lower limit keeps a length check PostgreSQL cannot drop: the table is rewritten
        return old.length is None or new.length < old.length
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
    sql = execute_sql(call)
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


def _execute_argument(call: cst.Call) -> Optional[cst.BaseExpression]:
    """What `op.execute(...)` runs, `sa.text("...")` unwrapped."""
    expr = _argument(call, 0, "sqltext")
    if isinstance(expr, cst.Call) and last_name(expr.func) == "text":
        inner = positional_arg(expr, 0)
        return inner.value if inner is not None else None
    return expr


def execute_sql(call: cst.Call) -> Optional[str]:
    """The literal SQL string of `op.execute("...")` / `op.execute(sa.text("..."))`; None otherwise."""
    expr = _execute_argument(call)
    return string_value(expr) if expr is not None else None


def execute_statements(call: cst.Call) -> Optional[list[SqlStatement]]:
    """The DDL of `op.execute("...")` / `op.execute(sa.text("..."))` with a literal string."""
    sql = execute_sql(call)
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


# -- schema replay: the tables and columns the migrations build, at head ---------------------------
#
# A revision's upgrade() is recorded per file as a tuple of operations (plain tuples of strings,
# cheap to cache): ("create_table", table, *columns), ("drop_table", table), ("rename_table", old,
# new), ("add_column", table, column), ("drop_column", table, column), ("rename_column", table,
# old, new), ("unknown", table) for a table touched in a way not followed, ("unknown_all",) when
# the revision may have changed any table (metadata.create_all, SQL that does not parse).
# What a column and a table's keys are: ("column", table, column, nullable "1"/"0"/"?", coarse
# type or "?"), ("alter", table, column, "nullable" / "type", value), ("primary_key", table,
# *columns), ("index", table, name, unique "1"/"0", *columns) (a unique constraint is a unique
# index here), ("fk", table, column, referred table, name), ("drop_index", name),
# ("drop_constraint", table, name), ("constraints_unknown", table) when indexes or foreign keys
# may have been made that the replay does not see, ("constraints_unknown_all",).

SchemaOp = tuple[str, ...]
_SCHEMA_UNKNOWN_ALL: SchemaOp = ("unknown_all",)
_IGNORED_OPS = frozenset({
    "create_check_constraint", "create_exclude_constraint", "f", "get_bind", "get_context",
    "bulk_insert", "create_table_comment", "drop_table_comment", "inline_literal",
})
_WHOLE_SCHEMA_CALLS = frozenset({"create_all", "drop_all", "reflect", "run_sync", "invoke"})

# PostgreSQL types by coarse family: a difference between families is a schema change, one within
# a family (a length, integer width, time zone, json/jsonb) is not judged.
_COARSE_FAMILIES = {
    "int2": "integer", "int4": "integer", "int8": "integer", "varchar": "string", "char": "string",
    "text": "text", "citext": "citext", "numeric": "numeric", "float8": "float", "float4": "float",
    "bool": "boolean", "date": "date", "timestamp": "datetime", "timestamptz": "datetime", "time": "time",
    "timetz": "time", "interval": "interval", "json": "json", "jsonb": "json", "uuid": "uuid", "bytea": "binary",
    "inet": "inet", "cidr": "inet",
}


def coarse_type(expr: Optional[cst.BaseExpression]) -> Optional[str]:
    """The coarse family of a SQL type expression (`sa.String(255)` → "string"); None when unsure."""
    found = column_type(expr)
    return _COARSE_FAMILIES.get(found.family) if found is not None else None


def referred_table(target: str) -> Optional[str]:
    """The table of a foreign key target `"user.id"` / `"auth.user.id"`."""
    parts = target.split(".")
    return parts[-2] if len(parts) >= 2 and parts[-2] else None


def constraint_name(expr: Optional[cst.BaseExpression]) -> str:
    """A constraint's literal name (`"ix_a"`, `op.f("ix_a")`); "" when unnamed or not a literal."""
    if isinstance(expr, cst.Call) and last_name(expr.func) == "f":
        inner = positional_arg(expr, 0)
        expr = inner.value if inner is not None else None
    return string_value(expr) or "" if expr is not None else ""


def _literal_names(expr: Optional[cst.BaseExpression]) -> Optional[tuple[str, ...]]:
    """`["a", "b"]` / `("a",)` / `"a"` → the names; None when not all are string literals."""
    if expr is None:
        return None
    single = string_value(expr)
    if single is not None:
        return (single,)
    if not isinstance(expr, (cst.List, cst.Tuple)):
        return None
    names = tuple(string_value(e.value) for e in expr.elements)
    return names if names and all(names) else None  # type: ignore[return-value]


_COLUMN_EXTRAS = frozenset({"ForeignKey", "Sequence", "Identity", "Computed", "CheckConstraint", "DefaultClause", "FetchedValue"})


def column_ops(table: str, expr: cst.BaseExpression) -> Optional[tuple[str, list[SchemaOp], bool]]:
    """(name, ops, primary key) of a migration's `sa.Column("name", type, *constraints, **flags)`:
    its nullability and coarse type, its foreign keys, and the index or unique constraint its
    flags make; None when it is not such a column (a variable, unpacked arguments, a computed name)."""
    spec = column_spec(expr)
    if spec is None or not spec.name or not isinstance(expr, cst.Call):
        return None
    name = spec.name
    primary = arg_is(keyword_arg(expr, "primary_key"), "True")
    nullable = "1" if keyword_arg(expr, "nullable") is None and not primary else ("0" if spec.not_null or primary else "1")
    type_arg = keyword_arg(expr, "type_")
    type_expr = type_arg.value if type_arg is not None else None
    ops: list[SchemaOp] = []
    for arg in expr.args[1:]:
        if arg.keyword is not None:
            continue
        extra = last_name(called(arg.value))
        if extra == "ForeignKey" and isinstance(arg.value, cst.Call):
            target = _argument(arg.value, 0, "column")
            referred = referred_table(string_value(target) or "") if target is not None else None
            ops.append(("fk", table, name, referred, constraint_name(_keyword(arg.value, "name"))) if referred else ("constraints_unknown", table))
        elif extra not in _COLUMN_EXTRAS and type_expr is None:
            type_expr = arg.value
    ops.insert(0, ("column", table, name, nullable, coarse_type(type_expr) or UNKNOWN))
    unique, indexed = keyword_arg(expr, "unique"), keyword_arg(expr, "index")
    for flag in (unique, indexed):
        if flag is not None and not (isinstance(flag.value, cst.Name) and flag.value.value in ("True", "False", "None")):
            ops.append(("constraints_unknown", table))
    if arg_is(unique, "True") or arg_is(indexed, "True"):
        ops.append(("index", table, "", "1" if arg_is(unique, "True") else "0", name))
    return name, ops, primary


def constraint_ops(table: str, expr: cst.BaseExpression) -> Optional[list[SchemaOp]]:
    """The keys a `create_table` argument `sa.PrimaryKeyConstraint("id")`, `sa.UniqueConstraint(...)`,
    `sa.Index(...)`, `sa.ForeignKeyConstraint([...], [...])` makes (a check constraint: none);
    None when it is none of them."""
    if not isinstance(expr, cst.Call):
        return None
    kind = last_name(expr.func)
    if kind not in _TABLE_CONSTRAINTS or any(arg.star for arg in expr.args):
        return None
    name = constraint_name(_keyword(expr, "name"))
    positional = [a.value for a in expr.args if a.keyword is None]
    if kind == "CheckConstraint":
        return []
    if kind == "ForeignKeyConstraint":
        local = _literal_names(_argument(expr, 0, "columns"))
        remote = _literal_names(_argument(expr, 1, "refcolumns"))
        referred = referred_table(remote[0]) if remote else None
        if local is None or referred is None:
            return [("constraints_unknown", table)]
        return [("fk", table, column, referred, name) for column in local]
    if kind == "Index":
        name = constraint_name(positional[0]) if positional else ""
        positional = positional[1:]
    columns = tuple(string_value(p) for p in positional)
    if not columns or not all(columns):
        return [("constraints_unknown", table)]
    if kind == "PrimaryKeyConstraint":
        return [("primary_key", table, *columns)]  # type: ignore[list-item]
    unique = kind == "UniqueConstraint" or arg_is(keyword_arg(expr, "unique"), "True")
    return [("index", table, name, "1" if unique else "0", *columns)]  # type: ignore[list-item]


def upgrade_operations(function: cst.FunctionDef, scope: Scope) -> tuple[SchemaOp, ...]:
    """The schema operations of a revision's `upgrade()`, statement by statement."""
    ops: list[SchemaOp] = []
    body = function.body.body if isinstance(function.body, cst.IndentedBlock) else ()
    for statement in body:
        _statement_ops(statement, scope, {}, ops)
    return tuple(ops)


def _statement_ops(statement: cst.CSTNode, scope: Scope, batches: dict[str, Optional[str]], ops: list[SchemaOp]) -> None:
    if isinstance(statement, cst.SimpleStatementLine):
        for small in statement.body:
            if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
                if _call_ops(small.value, scope, batches, ops):
                    continue
            elif isinstance(small, (cst.Pass, cst.Import, cst.ImportFrom)) or (
                isinstance(small, cst.Expr) and isinstance(small.value, (cst.SimpleString, cst.ConcatenatedString))
            ):
                continue
            _opaque(small, ops)
        return
    if isinstance(statement, cst.With) and all(batch_table(item, scope) is not None for item in statement.items):
        inner = dict(batches)
        for item in statement.items:
            alias, table = batch_table(item, scope)  # type: ignore[misc]
            inner[alias] = table
        if isinstance(statement.body, cst.IndentedBlock):
            for child in statement.body.body:
                _statement_ops(child, scope, inner, ops)
            return
    if isinstance(statement, cst.With) and all(is_autocommit_block(item) for item in statement.items):
        if isinstance(statement.body, cst.IndentedBlock):
            for child in statement.body.body:
                _statement_ops(child, scope, batches, ops)
            return
    _opaque(statement, ops)


def _opaque(node: cst.CSTNode, ops: list[SchemaOp]) -> None:
    """A statement the replay does not follow: every table it names as a literal is unknown, and
    everything is when it may build or reflect the whole schema."""
    code = cst.Module([]).code_for_node(node)
    if any(re.search(rf"\.{name}\s*\(", code) for name in _WHOLE_SCHEMA_CALLS) or re.search(
        r"\bop\s*\.\s*execute\s*\(|\b(create|alter|drop|rename)\s+(table|column)\b", code, re.IGNORECASE
    ):
        ops.append(_SCHEMA_UNKNOWN_ALL)
        return
    for literal in re.findall(r"""["']([A-Za-z_][A-Za-z0-9_]*)["']""", code):
        ops.append(("unknown", literal))
    if re.search(r"\bindex\b|constraint|foreign", code, re.IGNORECASE):
        ops.append(("constraints_unknown_all",))


# (name, columns, unique) positions of the key ops outside a batch; a batch op drops the table
_KEY_ARGUMENTS = {
    "create_index": ((0, "index_name"), (2, "columns")),
    "create_unique_constraint": ((0, "constraint_name"), (2, "columns")),
    "create_primary_key": ((0, "constraint_name"), (2, "columns")),
}


def _key_ops(call: cst.Call, method: str, table: Optional[str], in_batch: bool) -> Optional[list[SchemaOp]]:
    """The key (index / constraint) ops of a create/drop index or constraint call; None: not one."""
    shift = 1 if in_batch else 0
    if method == "drop_index":
        return [("drop_index", constraint_name(_argument(call, 0, "index_name")))]
    if table is None:
        return [("constraints_unknown_all",)] if method in _KEY_ARGUMENTS or method in ("create_foreign_key", "drop_constraint") else None
    if method == "drop_constraint":
        return [("drop_constraint", table, constraint_name(_argument(call, 0, "constraint_name")))]
    if method == "create_foreign_key":
        referent = string_value(_argument(call, 2 - shift, "referent_table"))
        local = _literal_names(_argument(call, 3 - shift, "local_cols"))
        if not referent or local is None:
            return [("constraints_unknown", table)]
        name = constraint_name(_argument(call, 0, "constraint_name"))
        return [("fk", table, column, referent, name) for column in local]
    where = _KEY_ARGUMENTS.get(method)
    if where is None:
        return None
    (name_at, name_kw), (columns_at, columns_kw) = where
    columns = _literal_names(_argument(call, columns_at - shift, columns_kw))
    unique = keyword_arg(call, "unique")
    if columns is None or (unique is not None and not isinstance(unique.value, cst.Name)):
        return [("constraints_unknown", table)]
    name = constraint_name(_argument(call, name_at, name_kw))
    if method == "create_primary_key":
        return [("primary_key", table, *columns)]
    is_unique = method == "create_unique_constraint" or arg_is(unique, "True")
    return [("index", table, name, "1" if is_unique else "0", *columns)]


def _call_ops(call: cst.Call, scope: Scope, batches: dict[str, Optional[str]], ops: list[SchemaOp]) -> bool:
    """Record a followed op call; False when the call is not one (the statement is opaque)."""
    found = op_method(call, scope, batches)
    if found is None:
        return False
    method, in_batch = found
    if any(arg.star for arg in call.args):
        return False
    table = op_table(call, method, batches.get(call.func.value.value) if in_batch else None, in_batch)  # type: ignore[attr-defined]
    offset = 0 if in_batch else 1
    if method in _IGNORED_OPS:
        return True
    if not in_batch and method in ("create_unique_constraint", "create_primary_key", "drop_constraint", "create_foreign_key"):
        table = string_value(_argument(call, 1, "table_name" if method != "create_foreign_key" else "source_table"))
    keys = _key_ops(call, method, table, in_batch)
    if keys is not None:
        ops.extend(keys)
        return True
    if method == "create_table" and table is not None:
        columns: list[str] = []
        details: list[SchemaOp] = []
        primary: list[str] = []
        for arg in call.args[1:]:
            if arg.keyword is not None:
                continue
            column = column_ops(table, arg.value)
            constraint = constraint_ops(table, arg.value) if column is None else None
            if column is not None:
                columns.append(column[0])
                details.extend(column[1])
                if column[2]:
                    primary.append(column[0])
            elif constraint is not None:
                details.extend(constraint)
            else:
                ops.append(("unknown", table))
                return True
        ops.append(("create_table", table, *columns))
        ops.extend(details)
        if primary:
            ops.append(("primary_key", table, *primary))
        return True
    if method == "drop_table":
        name = _argument(call, 0, "table_name")
        ops.append(("drop_table", string_value(name) or "") if name is not None and string_value(name) else _SCHEMA_UNKNOWN_ALL)
        return True
    if method == "rename_table":
        old, new = string_value(_argument(call, 0, "old_table_name")), string_value(_argument(call, 1, "new_table_name"))
        ops.append(("rename_table", old, new) if old and new else _SCHEMA_UNKNOWN_ALL)
        return True
    if method == "execute":
        return _sql_ops(call, ops)
    if table is None:
        return False
    if method == "add_column":
        column_arg = keyword_arg(call, "column") or positional_arg(call, offset)
        column = column_ops(table, column_arg.value) if column_arg is not None else None
        if column is None:
            ops.append(("unknown", table))
        else:
            ops.append(("add_column", table, column[0]))
            ops.extend(column[1])
        return True
    if method in ("drop_column", "alter_column"):
        name_arg = keyword_arg(call, "column_name") or positional_arg(call, offset)
        column_name = string_value(name_arg.value) if name_arg is not None else None
        if column_name is None:
            ops.append(("unknown", table))
        elif method == "drop_column":
            ops.append(("drop_column", table, column_name))
        else:
            ops.extend(_alter_ops(call, table, column_name))
        return True
    ops.append(("unknown", table))
    return True


def _alter_ops(call: cst.Call, table: str, column: str) -> list[SchemaOp]:
    """`alter_column(table, column, nullable=..., type_=..., new_column_name=...)`: nullability and
    type first, the rename last (Alembic's order)."""
    ops: list[SchemaOp] = []
    nullable = keyword_arg(call, "nullable")
    if nullable is not None:
        value = "1" if arg_is(nullable, "True") else "0" if arg_is(nullable, "False") else UNKNOWN
        ops.append(("alter", table, column, "nullable", value))
    type_arg = keyword_arg(call, "type_")
    if type_arg is not None:
        ops.append(("alter", table, column, "type", coarse_type(type_arg.value) or UNKNOWN))
    new_name = keyword_arg(call, "new_column_name")
    if new_name is not None:
        renamed = string_value(new_name.value)
        ops.append(("rename_column", table, column, renamed) if renamed else ("unknown", table))
    return ops


_TABLE_CONSTRAINTS = frozenset({"PrimaryKeyConstraint", "ForeignKeyConstraint", "UniqueConstraint", "CheckConstraint", "Index"})


_DATA_BUILDERS = frozenset({"update", "insert", "delete", "values", "where", "returning", "select", "from_select", "filter", "execution_options", "bindparams"})


def _sql_ops(call: cst.Call, ops: list[SchemaOp]) -> bool:
    sql = execute_sql(call)
    if sql is None:
        # a query built with sa.table()/.update()/.values(): data, not schema; anything else
        # (a variable, a helper's result, an f-string) may be any DDL
        expr = _execute_argument(call)
        if isinstance(expr, cst.Call) and last_name(expr.func) in _DATA_BUILDERS:
            return True
        ops.append(_SCHEMA_UNKNOWN_ALL)
        return True
    if not re.match(r"\s*(create|alter|drop)\s", sql, re.IGNORECASE):
        return True  # data (INSERT/UPDATE/DELETE), settings, comments
    statement_kinds = parse_ddl(sql)
    if statement_kinds is None:
        ops.append(_SCHEMA_UNKNOWN_ALL)
        return True
    for statement in statement_kinds:
        if statement.schema_ops is not None:
            ops.extend(statement.schema_ops)
        # else: indexes, functions, triggers, extensions, types: no table's columns change
    return True


@dataclass
class ColumnState:
    """What the replay knows of a column: nullability and coarse type (None: unknown)."""

    nullable: Optional[bool] = None
    family: Optional[str] = None


@dataclass(frozen=True)
class Key:
    """An index, unique constraint (kind "unique": a unique index too), primary key or foreign key."""

    kind: str  # "index", "unique", "primary", "foreign"
    name: str  # "" when unnamed
    columns: tuple[str, ...]
    referred: str = ""  # the table a foreign key refers to


@dataclass
class TableState:
    """A table at head: its columns, and its keys (`keys_known` False when some may be missing)."""

    columns: dict[str, ColumnState] = field(default_factory=dict)
    keys: list[Key] = field(default_factory=list)
    keys_known: bool = True


@dataclass
class ReplayedSchema:
    """The tables at head (None: a table the replay lost track of); `complete` False when any
    revision may have changed any table, or the graph has no single head per tree."""

    tables: dict[str, Optional[TableState]]
    complete: bool


def replay_schema(index: ProjectIndex) -> ReplayedSchema:
    """Replay every revision's operations in graph order (each revision after all its down
    revisions) into one schema; memoized on the index."""
    return index.memo("alembic-replayed-schema", lambda: _replay(index))


def _replay(index: ProjectIndex) -> ReplayedSchema:
    graph = revision_graph(index)
    ops_of = {(tree_key(f.path), f.revision): f.migration_ops for f in index.files if f.revision is not None}
    complete = graph.complete
    tables: dict[str, Optional[TableState]] = {}
    done: set[Node] = set()
    heads = sorted(node for node in graph.down if node[1] in graph.heads.get(graph.tree(node[0]), ()))
    for head in heads:
        stack = [head]
        while stack:
            current = stack[-1]
            pending = [d for d in graph.down.get(current, ()) if d not in done and d not in stack]
            if pending:
                stack.extend(sorted(pending))
                continue
            stack.pop()
            if current in done:
                continue
            done.add(current)
            for op in ops_of.get(current, ()):
                if not _apply(op, tables):
                    complete = False
    return ReplayedSchema(tables, complete)


def _flag(value: str) -> Optional[bool]:
    return None if value == UNKNOWN else value == "1"


def _apply(op: SchemaOp, tables: dict[str, Optional[TableState]]) -> bool:
    kind = op[0]
    if kind == "unknown_all":
        return False
    if kind == "constraints_unknown_all":
        for known in tables.values():
            if known is not None:
                known.keys_known = False
        return True
    if kind == "drop_index":
        for known in tables.values():
            if known is not None and any(k.name == op[1] for k in known.keys if k.kind != "foreign"):
                known.keys = [k for k in known.keys if k.name != op[1] or k.kind == "foreign"]
                break
        return True  # an index the replay never saw made: dropping it changes nothing it knows
    table = op[1]
    state = tables.get(table)
    if kind == "create_table":
        tables[table] = TableState({column: ColumnState() for column in op[2:]})
    elif kind == "drop_table":
        tables.pop(table, None)
    elif kind == "rename_table":
        tables[op[2]] = tables.pop(table, None)
        for known in tables.values():  # foreign keys follow a renamed table
            if known is not None:
                known.keys = [Key(k.kind, k.name, k.columns, op[2]) if k.referred == table else k for k in known.keys]
    elif kind == "unknown" or state is None:
        tables[table] = None  # also: an op on a table no revision created (built elsewhere)
    else:
        _apply_to_table(op, state)
    return True


def _apply_to_table(op: SchemaOp, state: TableState) -> None:
    kind, columns = op[0], state.columns
    if kind == "add_column":
        columns[op[2]] = ColumnState()
    elif kind == "drop_column":
        columns.pop(op[2], None)
        state.keys = [k for k in state.keys if op[2] not in k.columns]  # PostgreSQL drops them too
    elif kind == "rename_column":
        columns[op[3]] = columns.pop(op[2], ColumnState())
        state.keys = [Key(k.kind, k.name, tuple(op[3] if c == op[2] else c for c in k.columns), k.referred) for k in state.keys]
    elif kind == "column" and op[2] in columns:
        columns[op[2]] = ColumnState(_flag(op[3]), None if op[4] == UNKNOWN else op[4])
    elif kind == "alter" and op[2] in columns:
        column = columns[op[2]]
        if op[3] == "nullable":
            column.nullable = _flag(op[4])
        else:
            column.family = None if op[4] == UNKNOWN else op[4]
    elif kind == "primary_key":
        state.keys.append(Key("primary", "", op[2:]))
        for name in op[2:]:
            if name in columns:
                columns[name].nullable = False
    elif kind == "index":
        state.keys.append(Key("unique" if op[3] == "1" else "index", op[2], op[4:]))
    elif kind == "fk":
        state.keys.append(Key("foreign", op[4], (op[2],), op[3]))
    elif kind == "drop_constraint":
        state.keys = [k for k in state.keys if k.name != op[2] or not op[2]]
    elif kind == "constraints_unknown":
        state.keys_known = False


def _table_at_head(index: ProjectIndex, table: str) -> Optional[TableState]:
    """The replayed table, when every revision was followed and the table is known."""
    schema = replay_schema(index)
    return schema.tables.get(table) if schema.complete else None


class MissingFromMigrations(Requirement, kind="alembic_missing_from_migrations"):
    """The model's table (column "" ) or column is not built by the project's migrations at head:
    every revision is followed, the tree has one head, and the table is one the replay knows
    (a column) or no revision could have made without the replay seeing it (a table)."""

    table: str
    column: str
    needs_whole_project = True

    def holds(self, index: ProjectIndex) -> bool:
        schema = replay_schema(index)
        if not schema.complete:
            return False
        if not self.column:  # a table the application builds itself (create_all) is no drift
            return self.table not in schema.tables and not any(f.creates_tables for f in index.files)
        state = schema.tables.get(self.table)
        return state is not None and self.column not in state.columns


class DiffersFromMigrations(Requirement, kind="alembic_differs_from_migrations"):
    """The model's column (or columns) differ from the migrated table at head in one aspect the
    replay knows on both sides: "nullable" (value "1"/"0"), "type" (a coarse family),
    "foreign_key" (the referred table), "index" / "unique" (an index / a unique index or
    constraint on exactly these columns).  Silent when the replay does not know the column's
    side, or (keys) when the table's keys may include some it did not see."""

    table: str
    columns: tuple[str, ...]
    aspect: str
    value: str
    needs_whole_project = True

    def holds(self, index: ProjectIndex) -> bool:
        return self._migrated(index) is not None

    def detail(self, index: ProjectIndex) -> Optional[str]:
        migrated = self._migrated(index)
        return f"but {migrated} in the migrations at head" if migrated else None

    def _migrated(self, index: ProjectIndex) -> Optional[str]:
        """What the migrations have instead, when they differ; None when they agree or it is unknown."""
        state = _table_at_head(index, self.table)
        if state is None or not self.columns or not all(c in state.columns for c in self.columns):
            return None
        column = state.columns[self.columns[0]]
        if self.aspect == "nullable":
            wanted = self.value == "1"
            return None if column.nullable is None or column.nullable == wanted else ("nullable" if column.nullable else "NOT NULL")
        if self.aspect == "type":
            return None if column.family is None or column.family == self.value else column.family
        if not state.keys_known:
            return None
        if self.aspect == "foreign_key":
            found = any(k.kind == "foreign" and self.columns[0] in k.columns and k.referred == self.value for k in state.keys)
            return None if found else "not"
        kinds = ("unique", "primary") if self.aspect == "unique" else ("index", "unique", "primary")
        found = any(k.kind in kinds and k.columns == self.columns for k in state.keys)
        return None if found else "not"


class MigratedColumnsNotModelled(Requirement, kind="alembic_migrated_columns_not_modelled"):
    """The migrations at head give the model's table columns that neither the model nor its mixins
    declare; silent when the model's columns are not all readable (models.table_columns_of)."""

    qualname: str
    table: str
    needs_whole_project = True

    def holds(self, index: ProjectIndex) -> bool:
        return bool(self._extra(index))

    def detail(self, index: ProjectIndex) -> Optional[str]:
        extra = self._extra(index)
        listed = ", ".join(f"'{c}'" for c in extra)
        return f"does not declare column{'s' if len(extra) > 1 else ''} {listed} that the migrations at head give table '{self.table}'"

    def _extra(self, index: ProjectIndex) -> list[str]:
        from fastapi_review.semantics.models import table_columns_of

        state = _table_at_head(index, self.table)
        if state is None:
            return []
        modelled = table_columns_of(index, self.qualname, self.table)
        return [] if modelled is None else sorted(set(state.columns) - modelled)
