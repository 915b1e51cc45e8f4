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


def _revision(revision: str, *down: str) -> FileFacts:
    facts = FileFacts(path=f"versions/{revision}.py", module=f"versions.{revision}", is_package=False, role="migrations")
    facts.revision = revision
    facts.down_revisions = down
    return facts


def test_graph_orders_heads_by_depth_then_id() -> None:
    graph = build_revision_graph(ProjectIndex([
        _revision("a"), _revision("b", "a"), _revision("c", "b"), _revision("z", "a"),
    ]))
    assert graph.readable
    assert graph.heads_by_component["c"] == ("z", "c")  # z is nearer the base: first


def test_merge_joins_heads_and_separate_trees_stay_separate() -> None:
    graph = build_revision_graph(ProjectIndex([
        _revision("a"), _revision("b", "a"), _revision("c", "a"), _revision("m", "b", "c"),
        _revision("x"), _revision("y", "x"),
    ]))
    assert graph.heads_by_component == {"m": ("m",), "y": ("y",)}


@pytest.mark.parametrize("files", [
    [_revision("a"), _revision("b", "a"), _revision(UNREADABLE, "a")],  # an id that is not a literal
    [_revision("a"), _revision("b", "a"), _revision("c", "missing")],  # a down revision of no file
    [_revision("a"), _revision("b", "a"), _revision("b", "a")],  # a duplicate id
    [_revision("a"), _revision("b", UNREADABLE)],
])
def test_unreadable_graph_is_marked(files: list[FileFacts]) -> None:
    assert not build_revision_graph(ProjectIndex(files)).readable


def test_cyclic_graph_does_not_hang() -> None:
    graph = build_revision_graph(ProjectIndex([_revision("a", "b"), _revision("b", "a"), _revision("c")]))
    assert graph.heads_by_component == {"c": ("c",)}


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
