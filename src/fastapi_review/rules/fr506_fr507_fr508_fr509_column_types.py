"""FR506–FR509: how columns are declared (time zones, JSONB, clock defaults, 2.0 style)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import ClassVar

import libcst as cst

from fastapi_review.project import Requirement
from fastapi_review.rule import SQLALCHEMY_MODULES, Rule, RuleFix
from fastapi_review.semantics.columns import (
    ColumnDecl,
    column_declaration,
    is_datetime_annotation,
    is_timezone_aware,
    says_timezone_false,
)
from fastapi_review.semantics.edits import add_keyword, importable
from fastapi_review.semantics.models import DeclarativeClass, NaiveDatetimeMap, OrmModel, UpdatedAtUnwritten
from fastapi_review.semantics.names import ORM_LIBRARIES, in_library
from fastapi_review.semantics.versions import DialectTarget, ProjectUsesJsonb
from fastapi_review.syntax import dotted_name, last_name, source_text, string_value

_EQUAL = cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))
DIALECTS = ("auto", "postgresql", "mysql", "sqlite", "mssql", "oracle")


@dataclass(frozen=True)
class DialectOptions:
    """Options of FR506 / FR507: the database the models target ("auto": what the project's
    declared drivers and database URLs show; PostgreSQL when they show nothing)."""

    dialect: str = field(default="auto", metadata={"choices": DIALECTS})


class _ColumnRule(Rule):
    """Calls `check(column)` for every column declared in a class body (and, for rules about
    column types, in a Table(...))."""

    checks_tables: ClassVar[bool] = False
    # its columns and Table(...) calls resolve to SQLAlchemy / SQLModel through the imports
    mentions = SQLALCHEMY_MODULES

    def active(self) -> bool:
        """Whether the rule applies to this project at all."""
        return True

    def visit_Call(self, node: cst.Call) -> None:
        if self.checks_tables and self.active():
            for column in self.table_columns(node):
                self.check(column)

    def visit_Assign(self, node: cst.Assign) -> None:
        column = self.ctx.scope.class_column(node)
        if column is not None and self.active():
            self.check(column)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        column = self.ctx.scope.class_column(node)
        if column is not None and self.active():
            self.check(column)

    def check(self, column: ColumnDecl) -> None:
        """Inspect one column declaration."""

    def table_columns(self, call: cst.Call) -> list[ColumnDecl]:
        """Columns of a `Table("name", metadata, Column("col", Type), ...)` call."""
        scope = self.ctx.scope
        if last_name(call.func) != "Table":
            return []
        qualified = scope.callee(call) or ""
        if not in_library(qualified, *ORM_LIBRARIES) or not qualified.endswith(".Table"):
            return []
        columns = []
        for arg in call.args:
            value = arg.value
            if arg.keyword is None and isinstance(value, cst.Call) and value.args:
                name_arg = value.args[0].value
                name = string_value(name_arg)
                if name is not None:
                    decl = column_declaration(cst.Name(name), None, value, scope)
                    if decl is not None:
                        decl.target = name_arg
                        columns.append(decl)
        return columns

    def _in_model_requirement(self) -> tuple[str, str]:
        return OrmModel(self.ctx.scope.class_qualname_here)


class _PostgresColumnRule(_ColumnRule):
    """A column-type rule that applies only when the models target PostgreSQL (option `dialect`)."""

    Options = DialectOptions
    checks_tables = True

    def active(self) -> bool:
        dialect = self.options.dialect
        if dialect != "auto":
            return dialect == "postgresql"
        declared = self.ctx.profile.dialects
        return not declared or "postgresql" in declared

    def target(self, want: str = "postgresql") -> "DialectTarget | None":
        """With dialect "auto": the project-wide check that its databases fit `want`."""
        if self.options.dialect != "auto":
            return None
        return DialectTarget(tuple(sorted(self.ctx.profile.dialects)), want)


class NaiveDatetimeColumn(_PostgresColumnRule):
    """`timestamp without time zone` stores wall-clock times that silently shift across zones."""

    code = "FR506"
    fix_safety = "unsafe"
    name = "naive-datetime-column"
    default_enabled = False  # below the 95% precision bar on unseen backends: rules/FR506.md
    summary = "a DateTime column without timezone=True (incl. Mapped[datetime] via type_annotation_map)"
    message = "{detail}: PostgreSQL stores 'timestamp without time zone'; use DateTime(timezone=True)"

    def check(self, column: ColumnDecl) -> None:
        if "DateTime" in column.type_ancestors:
            if says_timezone_false(column.type_expr):
                return  # `timezone=False` written out: the project chose naive times
            if is_timezone_aware(column.type_expr) is False:
                self.report(column.target, requires=self.target(), fix=self._fix(column), detail=f"column '{column.name}' is a DateTime without timezone=True")
            return
        if column.type_expr is not None or not is_datetime_annotation(column.python_type, self.ctx.scope):
            return
        if column.kind == "Field":  # SQLModel maps datetime to a naive DateTime
            self.report(column.target, requires=(self._in_model_requirement(), self.target()), detail=f"field '{column.name}' is a datetime mapped to a naive DateTime")
        else:  # no fix: the column has no type to add timezone=True to
            self.report(
                column.target,
                requires=(NaiveDatetimeMap(self.ctx.scope.class_qualname_here), self.target()),
                detail=f"column '{column.name}' is Mapped[datetime] and the declarative base's type_annotation_map does not make datetime timezone-aware",
            )

    def _fix(self, column: ColumnDecl) -> "RuleFix | None":
        """`DateTime` → `DateTime(timezone=True)`; `DateTime(...)` gets `timezone=True` (not when
        it says timezone=False, or passes it positionally or through `*args`)."""
        expr = column.type_expr
        true = cst.Name("True")
        if isinstance(expr, (cst.Name, cst.Attribute)):
            fixed: cst.BaseExpression = cst.Call(expr.with_changes(lpar=[], rpar=[]), [cst.Arg(true, keyword=cst.Name("timezone"), equal=_EQUAL)], lpar=expr.lpar, rpar=expr.rpar)
        elif isinstance(expr, cst.Call) and all(a.keyword is not None and a.keyword.value != "timezone" and not a.star for a in expr.args):
            fixed = add_keyword(expr, "timezone", true)
        else:
            return None
        return RuleFix("unsafe", "Add timezone=True", ((expr, fixed),))


class JsonNotJsonb(_PostgresColumnRule):
    """PostgreSQL's JSON is stored as text: no indexing, no containment operators, slower."""

    code = "FR507"
    fix_safety = "unsafe"
    name = "json-not-jsonb"
    default_enabled = False  # below the 95% precision bar on unseen backends: rules/FR507.md
    summary = "a JSON column type on PostgreSQL instead of JSONB"
    message = "column '{column}' uses JSON: {advice}"

    def check(self, column: ColumnDecl) -> None:
        if column.type_qualname is None:
            return
        if "JSON" in column.type_ancestors and not column.type_qualname.endswith("JSONB"):
            advice = "on PostgreSQL use sqlalchemy.dialects.postgresql.JSONB (indexable, binary)"
            # PostgreSQL only: JSONB, with the fix; PostgreSQL and others: a variant, no fix
            self.report(column.target, requires=self.target("postgresql-only"), fix=self._fix(column), column=column.name, advice=advice)
            mixed = self.target("mixed")
            if mixed is not None:  # only where the project stores JSONB on PostgreSQL elsewhere
                self.report(column.target, requires=(mixed, ProjectUsesJsonb()), column=column.name, advice=mixed)

    def _fix(self, column: ColumnDecl) -> "RuleFix | None":
        """`JSON` → `JSONB` (the same arguments), imported from sqlalchemy.dialects.postgresql."""
        expr = column.type_expr
        head = expr.func if isinstance(expr, cst.Call) else expr
        if not isinstance(head, (cst.Name, cst.Attribute)):
            return None
        postgresql = "sqlalchemy.dialects.postgresql"
        if importable(self.ctx.scope.imports, self.ctx.data, "JSONB", (f"{postgresql}.JSONB",)):
            jsonb: cst.BaseExpression = cst.Name("JSONB")
            imports: tuple[tuple[str, str], ...] = ((postgresql, "JSONB"),)
        elif self.ctx.scope.imports.aliases.get("postgresql") == postgresql:
            jsonb, imports = cst.Attribute(cst.Name("postgresql"), cst.Name("JSONB")), ()
        else:
            return None
        return RuleFix("unsafe", "Use JSONB", ((head, jsonb.with_changes(lpar=head.lpar, rpar=head.rpar)),), imports)


_ON_UPDATE = re.compile(r"\bon\s+update\b", re.IGNORECASE)
_NAIVE_CLOCKS = frozenset({"datetime.datetime.utcnow", "datetime.datetime.now", "datetime.datetime.today"})


class TimestampDefault(_ColumnRule):
    """The app clock is naive, per process and skewed; `updated_at` without onupdate never changes."""

    code = "FR508"
    name = "timestamp-default"
    default_enabled = False  # below the 95% precision bar on unseen backends: rules/FR508.md
    summary = "a timestamp defaulting to naive datetime.utcnow/now, or updated_at without onupdate="
    message = "column '{column}' {detail}"

    def check(self, column: ColumnDecl) -> None:
        if column.call is None:
            return
        problems = []
        requires: list[Requirement] = [self._in_model_requirement()] if column.kind == "Field" else []
        default = column.keyword("default") or column.keyword("default_factory")
        naive = default is not None and self._naive_clock(default.value)
        if naive:
            problems.append("defaults to the application clock in naive time; use server_default=func.now() (or an aware default)")
        if column.name == "updated_at" and not self._has_onupdate(column) and not self._maintained_by_listener():
            problems.append("has no onupdate=: it keeps its first value forever; add onupdate=func.now()")
            if not naive:
                requires.append(UpdatedAtUnwritten())  # the project's own update code may set it
        if not problems:
            return
        if naive and len(problems) == 1:
            # an embedded SQLite file has one process's clock: the server clock is no better
            requires.append(DialectTarget(tuple(sorted(self.ctx.profile.dialects)), "not-sqlite-only"))
        self.report(column.target, requires=requires, column=column.name, detail=" and ".join(problems))

    def _naive_clock(self, value: cst.BaseExpression) -> bool:
        scope = self.ctx.scope
        if isinstance(value, cst.Lambda):
            value = value.body
            if not isinstance(value, cst.Call):
                return False
        if isinstance(value, cst.Call):
            # datetime.now(tz) / datetime.now(timezone.utc) are aware; now() / utcnow() are not
            return scope.imports.resolve(value.func) in _NAIVE_CLOCKS and not value.args
        return scope.imports.resolve(value) in _NAIVE_CLOCKS

    def _maintained_by_listener(self) -> bool:
        # a `before_update` event listener or __declare_last__ hook in the file sets it
        return b"before_update" in self.ctx.data or b"__declare_last__" in self.ctx.data

    def _has_onupdate(self, column: ColumnDecl) -> bool:
        if column.keyword("onupdate"):
            return True
        server_default = column.keyword("server_default")
        if server_default is not None and _ON_UPDATE.search(source_text(server_default.value)):
            return True  # MySQL's `DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP`
        server = column.keyword("server_onupdate")
        if server is not None:
            # FetchedValue(): a database trigger maintains it; func.now() here emits no DDL
            return "FetchedValue" in (dotted_name(server.value.func) if isinstance(server.value, cst.Call) else "") or ""
        kwargs = column.keyword("sa_column_kwargs")  # SQLModel
        if kwargs is not None:
            if not isinstance(kwargs.value, cst.Dict):
                return True  # cannot tell
            return any(
                isinstance(e, cst.DictElement) and string_value(e.key) in ("onupdate", "server_onupdate")
                for e in kwargs.value.elements
            )
        return False


class LegacyColumnStyle(_ColumnRule):
    """`Column()` in a class body is untyped; SQLAlchemy 2.0's `Mapped[...]` gives type checking."""

    code = "FR509"
    name = "legacy-column-style"
    summary = "Column(...) in a declarative class instead of Mapped[...] = mapped_column(...)"
    message = "column '{column}' uses the legacy Column() style: write '{column}: Mapped[...] = mapped_column(...)'"
    default_enabled = False

    def check(self, column: ColumnDecl) -> None:
        if column.kind == "Column":
            self.report(column.target, requires=DeclarativeClass(self.ctx.scope.class_qualname_here), column=column.name)
