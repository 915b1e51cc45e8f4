"""FR901–FR904: DDL in an Alembic revision's `upgrade()` that locks or rewrites a table that
already holds rows on PostgreSQL (an index built in place, a NOT NULL column without a default,
a type change that rewrites, a constraint validated in the same step)."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from fastapi_review.facts import MIGRATIONS
from fastapi_review.rule import Rule
from fastapi_review.semantics.migrations import (
    RevisionReplay,
    batch_table,
    column_spec,
    column_type,
    execute_statements,
    has_revision_shape,
    in_sqlite_tree,
    is_autocommit_block,
    op_method,
    op_table,
    rewrites_table,
)
from fastapi_review.semantics.versions import DialectTarget
from fastapi_review.syntax import keyword_arg, keyword_is, positional_arg, string_value


class _UpgradeDdl(Rule):
    """The shared walk: the `op.*` calls of a revision's `upgrade()`, in source order, with the
    tables this revision created so far, the open `batch_alter_table` contexts and whether the
    call runs in an `autocommit_block()`."""

    roles = frozenset({MIGRATIONS})
    default_enabled = False  # dev half measured (bench/precision/results.md, "Issue 20"); test half not yet labelled
    mentions = (b"alembic",)
    postgresql_only = True

    def setup(self) -> None:
        # a PostgreSQL rule leaves a SQLite-only migration tree alone
        self._revision = has_revision_shape(self.ctx.data) and not (self.postgresql_only and in_sqlite_tree(self.ctx.path))
        self._replay = RevisionReplay()
        self._batches: dict[str, Optional[str]] = {}
        self._autocommit = 0
        self._with_kinds: list[tuple[Optional[str], bool]] = []

    def _in_upgrade(self) -> bool:
        functions = self.ctx.scope.functions
        return self._revision and bool(functions) and functions[0].node.name.value == "upgrade" and not self.ctx.scope.classes

    def visit_With(self, node: cst.With) -> None:
        alias: Optional[str] = None
        autocommit = False
        for item in node.items:
            batch = batch_table(item, self.ctx.scope)
            if batch is not None:
                alias = batch[0]
                self._batches[alias] = batch[1]
            autocommit = autocommit or is_autocommit_block(item)
        self._autocommit += autocommit
        self._with_kinds.append((alias, autocommit))

    def leave_With(self, node: cst.With) -> None:
        alias, autocommit = self._with_kinds.pop()
        if alias is not None:
            self._batches.pop(alias, None)
        self._autocommit -= autocommit

    def visit_Call(self, node: cst.Call) -> None:
        if not self._in_upgrade():
            return
        found = op_method(node, self.ctx.scope, self._batches)
        if found is None:
            return
        method, in_batch = found
        batch = self._batches.get(node.func.value.value) if in_batch else None  # type: ignore[attr-defined]
        table = op_table(node, method, batch, in_batch)
        self.check(node, method, table)
        self._replay.record(method, table, node)

    def check(self, node: cst.Call, method: str, table: Optional[str]) -> None:
        """Judge one op call before it is replayed (`table` None: not a literal)."""

    def _in_batch(self, node: cst.Call) -> bool:
        """A call on a `batch_alter_table` context (`batch_op.add_column(...)`): no table argument."""
        return isinstance(node.func, cst.Attribute) and isinstance(node.func.value, cst.Name) and node.func.value.value in self._batches

    def flag(self, node: cst.Call, **args: object) -> None:
        """Report `node`, waiting on a project that may run on PostgreSQL when the rule is about it."""
        requires = DialectTarget(tuple(sorted(self.ctx.profile.dialects)), "postgresql") if self.postgresql_only else None
        self.report(node, requires=requires, **args)


class IndexWithoutConcurrently(_UpgradeDdl):
    """An index built on a table that holds rows blocks its writes until the build ends."""

    code = "FR901"
    name = "index-without-concurrently"
    summary = "an index created on a table that existed before the revision without postgresql_concurrently=True in an autocommit_block()"
    message = "{what} on existing table '{table}' is built without CONCURRENTLY: writes to it are blocked until the build ends; {advice}"

    def check(self, node: cst.Call, method: str, table: Optional[str]) -> None:
        if method == "create_index":
            if keyword_arg(node, "postgresql_concurrently") is not None or not self._replay.existing(table):
                return  # with CONCURRENTLY outside an autocommit block Alembic fails loudly instead
            self.flag(node, what="index", table=table, advice=_CONCURRENT_INDEX)
        elif method == "create_unique_constraint":
            table = _unique_table(node, table, self._in_batch(node))
            if self._replay.existing(table):
                self.flag(node, what="unique constraint's index", table=table, advice=_UNIQUE_USING_INDEX)
        elif method == "add_column" and self._replay.existing(table):
            column = keyword_arg(node, "column") or positional_arg(node, 0 if self._in_batch(node) else 1)
            if column is not None and isinstance(column.value, cst.Call):
                if keyword_is(column.value, "unique", "True"):
                    self.flag(node, what="unique constraint's index", table=table, advice=_UNIQUE_USING_INDEX)
                elif keyword_is(column.value, "index", "True"):
                    self.flag(node, what="index", table=table, advice=_ADD_THEN_INDEX)
        elif method == "execute":
            for statement in execute_statements(node) or ():
                if statement.kind == "create_index" and not statement.concurrently and self._replay.existing(statement.table):
                    self.flag(node, what="index", table=statement.table, advice=_CONCURRENT_INDEX)
                    return


_CONCURRENT_INDEX = "use op.create_index(..., postgresql_concurrently=True) inside `with op.get_context().autocommit_block():`"
_UNIQUE_USING_INDEX = (
    "create the unique index with op.create_index(..., unique=True, postgresql_concurrently=True) inside "
    "`with op.get_context().autocommit_block():`, then op.execute('ALTER TABLE ... ADD CONSTRAINT ... UNIQUE USING INDEX ...')"
)
_ADD_THEN_INDEX = (
    "add the column without index=True, then op.create_index(..., postgresql_concurrently=True) inside "
    "`with op.get_context().autocommit_block():`"
)


def _unique_table(node: cst.Call, batch: Optional[str], in_batch: bool) -> Optional[str]:
    """The table of `op.create_unique_constraint(name, table, columns)` (a batch's own table)."""
    if in_batch:
        return batch
    table = keyword_arg(node, "table_name") or positional_arg(node, 1)
    return string_value(table.value) if table is not None else None


class NotNullColumnWithoutDefault(_UpgradeDdl):
    """A NOT NULL column without a server default cannot be added to a table that holds rows."""

    code = "FR902"
    name = "not-null-column-without-default"
    summary = "add_column(nullable=False) on an existing table without server_default"
    message = "NOT NULL column '{column}' is added to existing table '{table}' without a server_default: the migration fails on a table with rows; add server_default=..., or add it nullable, backfill, then set nullable=False"
    postgresql_only = False

    def check(self, node: cst.Call, method: str, table: Optional[str]) -> None:
        if method != "add_column" or not self._replay.existing(table):
            return
        column = keyword_arg(node, "column") or positional_arg(node, 0 if self._in_batch(node) else 1)
        spec = column_spec(column.value if column is not None else None)
        if spec is not None and spec.not_null and not spec.has_server_value:
            self.flag(node, column=spec.name or "?", table=table)


class ColumnTypeRewrite(_UpgradeDdl):
    """A type change PostgreSQL cannot do in place rewrites the whole table under an exclusive lock."""

    code = "FR903"
    name = "column-type-rewrite"
    summary = "alter_column(type_=...) on an existing table where PostgreSQL rewrites the table"
    message = "changing column '{column}' of existing table '{table}' from {old} to {new} rewrites the table under an ACCESS EXCLUSIVE lock: add a new column, backfill it in batches and swap"

    def check(self, node: cst.Call, method: str, table: Optional[str]) -> None:
        if method != "alter_column" or not self._replay.existing(table):
            return
        new_arg, old_arg = keyword_arg(node, "type_"), keyword_arg(node, "existing_type")
        if new_arg is None or old_arg is None:
            return  # without existing_type= the old type is not known here
        new, old = column_type(new_arg.value), column_type(old_arg.value)
        if new is None or old is None or not rewrites_table(old, new):
            return
        column = keyword_arg(node, "column_name") or positional_arg(node, 0 if self._in_batch(node) else 1)
        name = (string_value(column.value) if column is not None else None) or "?"
        self.flag(node, column=name, table=table, old=_spell(old), new=_spell(new))


def _spell(kind: object) -> str:
    family, length, scale = kind.family, kind.length, kind.scale  # type: ignore[attr-defined]
    if length is None:
        return str(family)
    return f"{family}({length}{f', {scale}' if scale is not None else ''})"


class ConstraintWithoutNotValid(_UpgradeDdl):
    """Adding a foreign key or check constraint validates every row under a lock that blocks writes."""

    code = "FR904"
    name = "constraint-without-not-valid"
    summary = "a foreign key or check constraint added to an existing table in one step (no NOT VALID, then VALIDATE)"
    message = "{constraint} constraint added to existing table '{table}' in one step: every row is checked while writes are blocked; add it NOT VALID (op.execute('ALTER TABLE ... ADD CONSTRAINT ... NOT VALID')) and VALIDATE CONSTRAINT in a later revision"

    def check(self, node: cst.Call, method: str, table: Optional[str]) -> None:
        if method in ("create_foreign_key", "create_check_constraint"):
            if not self._replay.existing(table) or keyword_is(node, "postgresql_not_valid", "True"):
                return
            if keyword_arg(node, "postgresql_not_valid") is not None:
                return  # a computed flag: undecidable
            self.flag(node, constraint="foreign key" if method == "create_foreign_key" else "check", table=table)
        elif method == "execute":
            for statement in execute_statements(node) or ():
                if (
                    statement.kind == "add_constraint" and statement.constraint in ("foreign_key", "check")
                    and not statement.not_valid and self._replay.existing(statement.table)
                ):
                    self.flag(node, constraint=statement.constraint.replace("_", " "), table=statement.table)
                    return
