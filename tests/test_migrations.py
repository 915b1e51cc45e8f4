"""Alembic migrations (semantics/migrations.py): the revision graph, raw DDL, coarse types."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import libcst as cst
import pytest

from fastapi_review.checker import check_paths
from fastapi_review.config import Config
from fastapi_review.facts import FileFacts
from fastapi_review.project import ProjectIndex
from fastapi_review.semantics.migrations import (
    UNREADABLE,
    ColumnType,
    build_revision_graph,
    column_type,
    has_revision_shape,
    parse_ddl,
    rewrites_table,
)


def _revision(revision: str, *down: str, tree: str = "alembic") -> FileFacts:
    facts = FileFacts(path=f"{tree}/versions/{revision}.py", module=f"versions.{revision}", is_package=False, role="migrations")
    facts.revision = revision
    facts.down_revisions = down
    return facts


def test_graph_orders_heads_by_depth_then_id() -> None:
    graph = build_revision_graph(ProjectIndex([
        _revision("a"), _revision("b", "a"), _revision("c", "b"), _revision("z", "a"),
    ]))
    assert not graph.unreadable
    assert graph.heads == {"alembic/versions": ("z", "c")}  # z is nearer the base: first


def test_merge_joins_heads_and_separate_trees_stay_separate() -> None:
    graph = build_revision_graph(ProjectIndex([
        _revision("a"), _revision("b", "a"), _revision("c", "a"), _revision("m", "b", "c"),
        _revision("x", tree="analytics"), _revision("y", "x", tree="analytics"),
    ]))
    assert graph.heads == {"alembic/versions": ("m",), "analytics/versions": ("y",)}
    assert graph.complete


def test_trees_may_reuse_ids_and_join_through_version_locations() -> None:
    """Two environments (core, tenant) may share a base id; a tree in another version location
    that continues one joins it."""
    graph = build_revision_graph(ProjectIndex([
        _revision("base", tree="core"), _revision("c1", "base", tree="core"),
        _revision("base", tree="tenant"), _revision("t1", "base", tree="tenant"),
        _revision("t2", "t1", tree="plugins"),
    ]))
    assert not graph.unreadable
    assert graph.heads == {"core/versions": ("c1",), "tenant/versions": ("t2",)}
    assert graph.tree("plugins/versions") == "tenant/versions"


@pytest.mark.parametrize("files", [
    [_revision("a"), _revision("b", "a"), _revision(UNREADABLE, "a")],  # an id that is not a literal
    [_revision("a"), _revision("b", "a"), _revision("c", "missing")],  # a down revision of no file
    [_revision("a"), _revision("b", "a"), _revision("b", "a")],  # a duplicate id
    [_revision("a"), _revision("b", UNREADABLE)],
])
def test_unreadable_tree_is_marked(files: list[FileFacts]) -> None:
    graph = build_revision_graph(ProjectIndex([*files, _revision("x", tree="other")]))
    assert graph.unreadable == {"alembic/versions"} and not graph.complete


def test_cyclic_graph_does_not_hang() -> None:
    graph = build_revision_graph(ProjectIndex([_revision("a", "b"), _revision("b", "a"), _revision("c")]))
    assert graph.heads == {"alembic/versions": ("c",)}


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text), encoding="utf-8")


def _codes(root: Path, select: tuple[str, ...]) -> list[tuple[str, int, str]]:
    cwd = os.getcwd()
    os.chdir(root)
    try:
        report = check_paths(["."], Config(root=root, select=select))
    finally:
        os.chdir(cwd)
    return sorted((Path(f.path).as_posix(), f.line, f.code) for f in report.findings)


def test_multiple_heads_silent_when_a_revision_is_unreadable(tmp_path: Path) -> None:
    files = {
        "alembic/env.py": "",
        "alembic/versions/a.py": 'revision = "a"\ndown_revision = None\n',
        "alembic/versions/b.py": 'revision = "b"\ndown_revision = "a"\n',
        "alembic/versions/c.py": 'revision = "c"\ndown_revision = "a"\n',
    }
    _write(tmp_path, files)
    assert _codes(tmp_path, ("FR907",)) == [("alembic/versions/c.py", 1, "FR907")]
    _write(tmp_path, {"alembic/versions/d.py": 'import os\n\nrevision = os.environ["R"]\ndown_revision = "c"\n'})
    assert _codes(tmp_path, ("FR907",)) == []


def test_env_py_is_not_a_revision(tmp_path: Path) -> None:
    """env.py imports the models on purpose and has no upgrade(): the FR9xx rules leave it alone."""
    _write(tmp_path, {
        "app/__init__.py": "",
        "app/models.py": """
            from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


            class Base(DeclarativeBase):
                pass


            class User(Base):
                __tablename__ = "user"
                id: Mapped[int] = mapped_column(primary_key=True)
        """,
        "alembic/env.py": "from app.models import Base, User\n\ntarget_metadata = Base.metadata\n",
        "alembic/versions/a.py": 'from app.models import User\n\nrevision = "a"\ndown_revision = None\n',
    })
    assert _codes(tmp_path, ("FR906",)) == [("alembic/versions/a.py", 1, "FR906")]


def test_parse_ddl() -> None:
    index, = parse_ddl("create index ix on public.t (a)") or []
    assert (index.kind, index.table, index.concurrently) == ("create_index", "t", False)
    assert [s.kind for s in parse_ddl("CREATE TABLE x (id int); CREATE INDEX CONCURRENTLY i ON x (id)") or []] == ["create_table", "create_index"]
    constraint, = parse_ddl("ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES u (id) NOT VALID") or []
    assert (constraint.kind, constraint.constraint, constraint.not_valid) == ("add_constraint", "foreign_key", True)
    assert parse_ddl("this is not ) sql (") is None


@pytest.mark.parametrize(("source", "expected"), [
    ("sa.String(length=64)", ColumnType("varchar", 64)),
    ("sa.String()", ColumnType("varchar")),
    ("sa.Numeric(10, 2)", ColumnType("numeric", 10, 2)),
    ("postgresql.TIMESTAMP(timezone=True)", ColumnType("timestamptz")),
    ("sa.BigInteger", ColumnType("int8")),
    ("sa.String(n)", None),
    ("MyType()", None),
    ("sa.Enum('a', name='e')", None),
])
def test_column_type(source: str, expected: ColumnType) -> None:
    assert column_type(cst.parse_expression(source)) == expected


@pytest.mark.parametrize(("old", "new", "rewrites"), [
    (ColumnType("varchar", 64), ColumnType("varchar", 255), False),
    (ColumnType("varchar", 64), ColumnType("text"), False),
    (ColumnType("text"), ColumnType("varchar"), False),
    (ColumnType("varchar", 64), ColumnType("varchar", 8), True),
    (ColumnType("varchar"), ColumnType("varchar", 255), True),  # a new limit: every row is checked and rewritten
    (ColumnType("text"), ColumnType("varchar", 255), True),
    (ColumnType("int4"), ColumnType("int8"), True),
    (ColumnType("numeric", 10, 2), ColumnType("numeric", 12, 2), False),
    (ColumnType("numeric", 10, 2), ColumnType("numeric", 10, 4), True),
    (ColumnType("timestamp"), ColumnType("timestamptz"), False),
    (ColumnType("json"), ColumnType("jsonb"), True),
])
def test_rewrites_table(old: ColumnType, new: ColumnType, rewrites: bool) -> None:
    assert rewrites_table(old, new) is rewrites


def test_revision_shape() -> None:
    assert has_revision_shape(b'revision: str = "a"\ndown_revision: Union[str, None] = None\n')
    assert not has_revision_shape(b'def f():\n    revision = 1\n    down_revision = 2\n')


def _ops_of(source: str) -> tuple:
    from fastapi_review.dispatch import Dispatcher
    from fastapi_review.semantics.file_facts import FileFactsWriter
    from fastapi_review.semantics.scope import Scope

    facts = FileFacts(path="versions/r.py", module="versions.r", is_package=False, role="migrations")
    scope = Scope(facts)
    writer = FileFactsWriter(scope, False, ("session",), lambda node, on_line: None)
    Dispatcher([scope, writer]).walk(cst.parse_module(textwrap.dedent(source)))
    return facts.migration_ops


def test_replay_operations() -> None:
    ops = _ops_of('''
        import sqlalchemy as sa
        from alembic import op

        revision = "r"
        down_revision = None


        def upgrade():
            op.create_table("a", sa.Column("id", sa.Integer()), sa.PrimaryKeyConstraint("id"))
            with op.batch_alter_table("a") as batch_op:
                batch_op.add_column(sa.Column("x", sa.Integer()))
                batch_op.alter_column("x", new_column_name="y")
            op.drop_column("a", "y")
            op.execute("ALTER TABLE a ADD COLUMN z text; ALTER TABLE a RENAME TO b")
            op.execute("UPDATE b SET z = ''")
            op.execute("CREATE EXTENSION IF NOT EXISTS citext")
            if op.get_bind().dialect.name == "postgresql":
                op.add_column("c", sa.Column("w", sa.Integer()))
    ''')
    assert ops[:10] == (
        ("create_table", "a", "id"), ("column", "a", "id", "1", "integer"), ("primary_key", "a", "id"),
        ("add_column", "a", "x"), ("column", "a", "x", "1", "integer"), ("rename_column", "a", "x", "y"),
        ("drop_column", "a", "y"), ("add_column", "a", "z"), ("column", "a", "z", "1", "text"),
        ("rename_table", "a", "b"),
    )
    # a statement not followed: every literal it names may be a table, now unknown
    assert set(ops[10:]) == {("unknown", "c"), ("unknown", "w"), ("unknown", "postgresql")}


@pytest.mark.parametrize("statement", [
    "op.execute(sql)",  # a variable: any DDL
    "op.execute(f\"ALTER TABLE {name} ADD COLUMN b int\")",
    "op.execute('ALTER TABLE ((( broken')",  # SQL that does not parse
    "Base.metadata.create_all(op.get_bind())",
    "op.get_bind().execute(sa.text('ALTER TABLE a ADD COLUMN b int'))",
])
def test_replay_gives_up_on_what_may_change_any_table(statement: str) -> None:
    ops = _ops_of(f'''
        import sqlalchemy as sa
        from alembic import op

        revision = "r"
        down_revision = None


        def upgrade():
            {statement}
    ''')
    assert ("unknown_all",) in ops


def test_replayed_schema_follows_the_graph() -> None:
    first = _revision("a")
    first.migration_ops = (("create_table", "t", "id"),)
    second = _revision("b", "a")
    second.migration_ops = (("add_column", "t", "x"), ("add_column", "u", "y"))
    from fastapi_review.semantics.migrations import MissingFromMigrations, replay_schema

    index = ProjectIndex([second, first])
    schema = replay_schema(index)
    assert schema.complete and {name: set(t.columns) if t else None for name, t in schema.tables.items()} == {"t": {"id", "x"}, "u": None}
    assert MissingFromMigrations("t", "z").holds(index)
    assert not MissingFromMigrations("t", "x").holds(index)
    assert not MissingFromMigrations("u", "z").holds(index)  # a table no revision created: unknown
    assert MissingFromMigrations("v", "").holds(index)
    second.migration_ops = (("unknown_all",),)
    assert not MissingFromMigrations("v", "").holds(ProjectIndex([second, first]))


def test_replay_ignores_data_queries() -> None:
    ops = _ops_of('''
        import sqlalchemy as sa
        from alembic import op

        revision = "r"
        down_revision = None

        user = sa.table("user", sa.column("active"))


        def upgrade():
            op.execute(user.update().where(user.c.active.is_(None)).values(active=False))
            op.execute(sa.text("UPDATE account SET x = 1"))
            op.execute(ddl_for("user"))
    ''')
    assert ops == (("unknown_all",),)


def test_replayed_keys_and_column_attributes() -> None:
    from fastapi_review.semantics.migrations import DiffersFromMigrations, Key, replay_schema

    first = _revision("a")
    first.migration_ops = (
        ("create_table", "p", "id"), ("create_table", "t", "id", "p_id", "x", "y"),
        ("column", "t", "x", "1", "string"), ("column", "t", "y", "0", "?"),
        ("fk", "t", "p_id", "p", "fk_t_p"), ("index", "t", "ix_t_x", "0", "x"), ("index", "t", "", "1", "x", "y"),
    )
    second = _revision("b", "a")
    second.migration_ops = (
        ("alter", "t", "x", "nullable", "0"), ("alter", "t", "y", "type", "integer"), ("rename_table", "p", "q"),
        ("drop_index", "ix_t_x"), ("rename_column", "t", "y", "z"),
    )
    index = ProjectIndex([second, first])
    table = replay_schema(index).tables["t"]
    assert table is not None and table.keys_known
    assert table.keys == [Key("foreign", "fk_t_p", ("p_id",), "q"), Key("unique", "", ("x", "z"))]
    assert (table.columns["x"].nullable, table.columns["x"].family) == (False, "string")
    assert (table.columns["z"].nullable, table.columns["z"].family) == (False, "integer")
    differs = {
        ("x", "nullable", "1"): True, ("x", "nullable", "0"): False, ("x", "type", "text"): True, ("x", "type", "string"): False,
        ("p_id", "foreign_key", "q"): False, ("p_id", "foreign_key", "p"): True, ("x", "index", ""): True,
    }
    for (column, aspect, value), expected in differs.items():
        assert DiffersFromMigrations("t", (column,), aspect, value).holds(index) is expected, (column, aspect, value)
    assert not DiffersFromMigrations("t", ("x", "z"), "unique", "").holds(index)
    assert DiffersFromMigrations("t", ("z", "x"), "unique", "").holds(index)
    second.migration_ops += (("constraints_unknown", "t"),)
    index = ProjectIndex([second, first])
    assert not DiffersFromMigrations("t", ("x",), "index", "").holds(index)  # keys the replay may not have seen
    assert DiffersFromMigrations("t", ("x",), "nullable", "1").holds(index)  # columns are still known
