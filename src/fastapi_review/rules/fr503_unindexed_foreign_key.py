"""FR503 unindexed-foreign-key: a ForeignKey column PostgreSQL will not index by itself."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from fastapi_review.positions import Unit
from fastapi_review.rule import SQLALCHEMY_MODULES, Rule
from fastapi_review.semantics.indexes import INDEX_FLAGS, IndexCoverage, NotIndexedAlias, alias_requirement, flags_index
from fastapi_review.semantics.models import TableModel
from fastapi_review.semantics.names import ORM_LIBRARIES, in_library
from fastapi_review.semantics.versions import DialectTarget
from fastapi_review.syntax import arg_is, keyword_arg, last_name, string_value


class UnindexedForeignKey(Rule):
    """PostgreSQL indexes primary keys and unique constraints, never foreign keys."""

    code = "FR503"
    name = "unindexed-foreign-key"
    default_enabled = False  # below the 95% precision bar on unseen backends: rules/FR503.md
    summary = "a ForeignKey column without an index (PostgreSQL does not index foreign keys)"
    message = (
        "foreign key column '{column}' has no index: PostgreSQL does not index foreign keys, so joins "
        "and cascading deletes scan the table; add index=True (or lead a composite Index with it)"
    )
    # its columns, Table(...) and Index(...) calls resolve to SQLAlchemy / SQLModel
    mentions = SQLALCHEMY_MODULES

    def setup(self) -> None:
        # (class qualname or table, column) → where to report, resolved at the end of the file
        self._candidates: list[tuple[str, str, cst.CSTNode, Unit]] = []
        self._indexes = IndexCoverage(self.ctx.scope)
        self._class_columns: set[int] = set()
        # `Mapped[Alias]` columns: the check that the Annotated alias does not index them
        self._aliases: dict[int, Optional[NotIndexedAlias]] = {}

    # -- declarative classes -------------------------------------------------------------
    def visit_Assign(self, node: cst.Assign) -> None:
        self._check_statement(node)
        self._indexes.table_args(node)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._check_statement(node)
        self._indexes.table_args(node)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._indexes.computed_table_args(node)

    def _check_statement(self, node: "cst.Assign | cst.AnnAssign") -> None:
        scope = self.ctx.scope
        column = scope.class_column(node)
        if column is None or column.call is None:
            return
        if not self._has_foreign_key(column.call, column.kind):
            return
        if any(arg_is(column.keyword(flag), "True") for flag in INDEX_FLAGS):
            return
        if arg_is(column.keyword("index"), "False"):
            return  # `index=False` written out: the project decided against it
        self._candidates.append((scope.class_qualname_here, column.name, column.target, self.ctx.current_unit))
        self._class_columns.add(id(column.target))
        if column.kind == "mapped_column":
            self._aliases[id(column.target)] = alias_requirement(column.python_type, scope)

    def _has_foreign_key(self, call: cst.Call, kind: str) -> bool:
        if kind == "Field":
            return keyword_arg(call, "foreign_key") is not None
        return any(
            isinstance(arg.value, cst.Call) and (self.ctx.scope.callee(arg.value) or "").endswith(".ForeignKey")
            for arg in call.args
        )

    # -- Table(...) definitions and module-level Index(...) ------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        self._indexes.module_index(node)
        if last_name(node.func) != "Table":
            return
        qualified = self.ctx.scope.callee(node) or ""
        if in_library(qualified, *ORM_LIBRARIES) and qualified.rsplit(".", 1)[-1] == "Table":
            self._check_table(node)

    def _check_table(self, call: cst.Call) -> None:
        table = f"table:{id(call)}"
        args = [a.value for a in call.args if a.keyword is None and not a.star]
        self._indexes.table_constraints(table, args)
        for value in args:
            if not isinstance(value, cst.Call) or not (self.ctx.scope.callee(value) or "").endswith(".Column"):
                continue
            name_arg = value.args[0].value if value.args else None
            name = string_value(name_arg)
            if name is None or not self._has_foreign_key(value, "Column"):
                continue
            if flags_index(value) or arg_is(keyword_arg(value, "index"), "False"):
                continue
            self._candidates.append((table, name, name_arg, self.ctx.current_unit))  # type: ignore[arg-type]

    def finish(self) -> None:
        for owner, column, target, unit in self._candidates:
            if self._indexes.covers(owner, column):
                continue
            # a mixin's or abstract base's column may be indexed by the classes that use it
            requires = TableModel(owner) if id(target) in self._class_columns else None
            # PostgreSQL's problem: MySQL (InnoDB) indexes every foreign key itself, and an
            # embedded SQLite file has neither the rows nor the concurrent deletes
            dialects = DialectTarget(tuple(sorted(self.ctx.profile.dialects)), "postgresql")
            self.report(target, unit=unit, requires=(requires, dialects, self._aliases.get(id(target))), column=column)
