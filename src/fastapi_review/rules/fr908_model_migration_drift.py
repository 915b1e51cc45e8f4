"""FR908 model-migration-drift: an ORM table or column the project's Alembic migrations never build."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from fastapi_review.rule import SQLALCHEMY_MODULES, Rule
from fastapi_review.semantics.migrations import MissingFromMigrations
from fastapi_review.semantics.models import TableModel
from fastapi_review.syntax import keyword_arg, positional_arg, string_value


class ModelMigrationDrift(Rule):
    """A model changed without a migration: the application queries a table or column the
    database built by `alembic upgrade head` does not have."""

    code = "FR908"
    name = "model-migration-drift"
    summary = "(project-wide) an ORM table or column that the replayed Alembic migrations do not build at head"
    message = "{what} is not built by the Alembic migrations at head: run `alembic revision --autogenerate` and review the new revision"
    default_enabled = False  # new: off until measured on the benchmark's test half
    mentions = SQLALCHEMY_MODULES

    def setup(self) -> None:
        self._tables: list[Optional[str]] = []  # the literal __tablename__ of each class being visited

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        table = _literal_tablename(node)
        self._tables.append(table)
        if table is not None:
            qualname = self.ctx.scope.class_qualname_here
            self.report(node.name, requires=(TableModel(qualname), MissingFromMigrations(table, "")), what=f"table '{table}' of model {node.name.value}")

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        self._tables.pop()

    def visit_Assign(self, node: cst.Assign) -> None:
        self._check(node)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._check(node)

    def _check(self, node: "cst.Assign | cst.AnnAssign") -> None:
        scope = self.ctx.scope
        if not self._tables or self._tables[-1] is None or not scope.in_class_body:
            return
        column = scope.class_column(node)
        if column is None or column.name.startswith("_"):
            return
        name: Optional[str] = column.name
        if column.call is not None:
            if any(arg.star for arg in column.call.args) or column.keyword("sa_column") is not None:
                return
            first = positional_arg(column.call, 0)
            named = keyword_arg(column.call, "name")
            if named is not None:
                name = string_value(named.value)
            elif first is not None and isinstance(first.value, (cst.SimpleString, cst.ConcatenatedString)):
                name = string_value(first.value)
        if not name:
            return
        table = self._tables[-1]
        requires = (TableModel(scope.class_qualname_here), MissingFromMigrations(table, name))
        self.report(column.target, requires=requires, what=f"column '{name}' of table '{table}'")


def _literal_tablename(node: cst.ClassDef) -> Optional[str]:
    """`__tablename__ = "users"` in the class body (None: absent, computed, or `__table__` assigned)."""
    found: Optional[str] = None
    body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
    for statement in body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            targets: list[cst.BaseExpression] = []
            value: Optional[cst.BaseExpression] = None
            if isinstance(small, cst.Assign):
                targets, value = [t.target for t in small.targets], small.value
            elif isinstance(small, cst.AnnAssign):
                targets, value = [small.target], small.value
            for target in targets:
                if isinstance(target, cst.Name) and target.value == "__table__":
                    return None
                if isinstance(target, cst.Name) and target.value == "__tablename__":
                    found = string_value(value) if value is not None else None
    return found
