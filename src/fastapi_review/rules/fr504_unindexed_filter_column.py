"""FR504 unindexed-filter-column: a column that queries across the project filter or sort on, without an index."""

from __future__ import annotations

import re

from dataclasses import dataclass
from typing import Optional

import libcst as cst

from fastapi_review.positions import Unit
from fastapi_review.rule import SQLALCHEMY_MODULES, Rule
from fastapi_review.semantics.indexes import INDEX_FLAGS, IndexCoverage, NotIndexedAlias, alias_requirement
from fastapi_review.semantics.queries import FilteredUnindexed
from fastapi_review.semantics.types import unwrap_annotation
from fastapi_review.syntax import arg_is


@dataclass(frozen=True)
class UnindexedFilterColumnOptions:
    """Options of FR504."""

    min_query_sites: int = 2


_FEW_VALUES = re.compile(r"(^|_)(status|state|kind|type|role|priority|severity|level|order|position)$")


class UnindexedFilterColumn(Rule):
    """A column filtered or sorted on in several queries but not indexed: every query scans."""

    code = "FR504"
    name = "unindexed-filter-column"
    default_enabled = False  # below the 95% precision bar on unseen backends: rules/FR504.md
    summary = "(project-wide) a column filtered/sorted on at several query sites without an index"
    message = "column '{column}' is filtered or sorted on by queries ({sites}) but has no index: add index=True or a composite Index leading with it"
    Options = UnindexedFilterColumnOptions
    # its columns resolve to SQLAlchemy / SQLModel
    mentions = SQLALCHEMY_MODULES

    def setup(self) -> None:
        # (class qualname, column) → where to report, resolved at the end of the file
        self._candidates: list[tuple[str, str, cst.CSTNode, Unit, Optional[NotIndexedAlias]]] = []
        self._indexes = IndexCoverage(self.ctx.scope)

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
        if column is None or column.call is None and column.kind != "annotation":
            return
        if column.call is not None and any(arg_is(column.keyword(flag), "True") for flag in INDEX_FLAGS):
            return
        if "Boolean" in column.type_ancestors or "Enum" in column.type_ancestors or _is_bool(column.python_type, scope):
            return  # a few distinct values: an index on it alone rarely serves a query
        if _FEW_VALUES.search(column.name):
            return  # `status`, `kind`, `priority`: named like a column of a few values
        alias = alias_requirement(column.python_type, scope) if column.kind in ("annotation", "mapped_column") else None
        self._candidates.append((scope.class_qualname_here, column.name, column.target, self.ctx.current_unit, alias))

    def visit_Call(self, node: cst.Call) -> None:
        self._indexes.module_index(node)

    def finish(self) -> None:
        minimum = max(self.options.min_query_sites, 1)
        for owner, column, target, unit, alias in self._candidates:
            if self._indexes.covers(owner, column):
                continue
            filtered = FilteredUnindexed(owner, column, minimum)
            self.report(target, unit=unit, requires=(filtered, alias), column=column, sites=filtered)



def _is_bool(annotation: Optional[cst.BaseExpression], scope: object) -> bool:
    if annotation is None:
        return False
    return any(isinstance(t, cst.Name) and t.value == "bool" for t in unwrap_annotation(annotation, scope))  # type: ignore[arg-type]
