"""FR908 model-migration-drift: the ORM models and the project's replayed Alembic migrations
disagree at head (a table, a column, its nullability or coarse type, an index, a unique
constraint, a foreign key; or a migrated column the model no longer declares)."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from fastapi_review.rule import SQLALCHEMY_MODULES, Rule
from fastapi_review.semantics.columns import ColumnDecl, database_name, names_by_lowered_class
from fastapi_review.semantics.migrations import (
    DiffersFromMigrations,
    MigratedColumnsNotModelled,
    MissingFromMigrations,
    coarse_type,
    referred_table,
)
from fastapi_review.project import Requirement
from fastapi_review.semantics.models import NamedByClass, TableModel
from fastapi_review.semantics.scope import Scope
from fastapi_review.semantics.types import parse_string_annotation, unwrap_annotation
from fastapi_review.syntax import arg_is, keyword_arg, last_name, string_value

AT_HEAD = "is not built by the Alembic migrations at head"
# Python types whose `Mapped[T]` decides nothing but nullability (not an Annotated alias that may)
_PLAIN_MODULES = ("builtins.", "datetime.", "decimal.", "uuid.", "typing.Any")
_PLAIN_BUILTINS = frozenset({"str", "int", "float", "bool", "bytes", "dict", "list"})


class ModelMigrationDrift(Rule):
    """A model changed without a migration: the application expects a table, a column or a key
    that the database built by `alembic upgrade head` does not have (or not that way)."""

    code = "FR908"
    name = "model-migration-drift"
    summary = "(project-wide) an ORM model that disagrees with the replayed Alembic migrations at head"
    message = "{what} {state}: run `alembic revision --autogenerate` and review the new revision"
    default_enabled = False  # dev half measured (bench/precision/results.md, "Issue 20"); test half not yet labelled
    mentions = SQLALCHEMY_MODULES

    def setup(self) -> None:
        self._tables: list[Optional[str]] = []  # the table of each class being visited (None: unknown)
        self._requires: list[tuple[Requirement, ...]] = []  # what makes it that class's table

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        table = _literal_tablename(node)
        qualname = self.ctx.scope.class_qualname_here
        requires: tuple[Requirement, ...] = (TableModel(qualname),)
        if table is None and _names_itself_by_class(node):
            table = node.name.value.lower()
        elif table is None and _names_no_table(node):
            table = node.name.value.lower()
            requires = (*requires, NamedByClass(qualname))
        self._tables.append(table)
        self._requires.append(requires)
        if table is None:
            return
        self.report(node.name, requires=(*requires, MissingFromMigrations(table, "")), what=f"table '{table}' of model {node.name.value}", state=AT_HEAD)
        extra = MigratedColumnsNotModelled(qualname, table)
        self.report(node.name, requires=(*requires, extra), what=f"model {node.name.value}", state=extra)

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        self._tables.pop()
        self._requires.pop()

    def visit_Assign(self, node: cst.Assign) -> None:
        self._check(node)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._check(node)

    def _check(self, node: "cst.Assign | cst.AnnAssign") -> None:
        scope = self.ctx.scope
        if not self._tables or self._tables[-1] is None or not scope.in_class_body:
            return
        table = self._tables[-1]
        model = self._requires[-1]
        targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
        if any(isinstance(t, cst.Name) and t.value == "__table_args__" for t in targets) and node.value is not None:
            self._table_args(node.value, table, model)
            return
        column = scope.class_column(node)
        if column is None or column.name.startswith("_"):
            return
        if column.call is not None and (any(arg.star for arg in column.call.args) or column.keyword("sa_column") is not None):
            return
        name = database_name(column)
        if not name:
            return
        subject = f"column '{name}' of table '{table}'"
        self.report(column.target, requires=(*model, MissingFromMigrations(table, name)), what=subject, state=AT_HEAD)
        for aspect, value, said in _aspects(column, scope):
            differs = DiffersFromMigrations(table, (name,), aspect, value)
            self.report(column.target, requires=(*model, differs), what=f"{subject} {said} in the model", state=differs)

    def _table_args(self, value: cst.BaseExpression, table: str, model: tuple[Requirement, ...]) -> None:
        """`Index("ix", "a", "b")` / `UniqueConstraint("a", "b")` in `__table_args__` with literal column names."""
        if not isinstance(value, (cst.Tuple, cst.List)):
            return
        for element in value.elements:
            call = element.value
            if not isinstance(call, cst.Call) or any(arg.star for arg in call.args):
                continue
            kind = last_name(call.func)
            if kind not in ("Index", "UniqueConstraint") or not (self.ctx.scope.callee(call) or "").startswith(("sqlalchemy", "sqlmodel")):
                continue
            positional = [a.value for a in call.args if a.keyword is None][1 if kind == "Index" else 0:]
            columns = tuple(string_value(p) for p in positional)
            if not columns or not all(columns) or any(keyword_arg(call, k) is not None for k in ("postgresql_where", "postgresql_using", "postgresql_include")):
                continue
            unique = kind == "UniqueConstraint" or arg_is(keyword_arg(call, "unique"), "True")
            aspect = "unique" if unique else "index"
            differs = DiffersFromMigrations(table, columns, aspect, "")  # type: ignore[arg-type]
            said = "a unique constraint" if unique else "an index"
            self.report(call, requires=(*model, differs), what=f"{said} on ({', '.join(columns)}) of table '{table}' is in the model", state=differs)  # type: ignore[arg-type]


def _aspects(column: ColumnDecl, scope: Scope) -> list[tuple[str, str, str]]:
    """(aspect, the model's value, how to say it) of a column's nullability, coarse type, foreign
    key and index flags, for those the declaration decides."""
    found: list[tuple[str, str, str]] = []
    call = column.call
    primary = call is not None and arg_is(keyword_arg(call, "primary_key"), "True")
    nullable = None if primary else _nullable(column, scope)
    if nullable is not None:
        found.append(("nullable", "1" if nullable else "0", "is nullable" if nullable else "is NOT NULL"))
    family = coarse_type(column.type_expr) if column.type_ancestors else None
    if family is not None:
        found.append(("type", family, f"is of type {family}"))
    if call is None or column.kind == "Field":
        return found
    for arg in call.args:
        if arg.keyword is None and isinstance(arg.value, cst.Call) and last_name(arg.value.func) == "ForeignKey" and arg.value.args:
            referred = referred_table(string_value(arg.value.args[0].value) or "")
            if referred:
                found.append(("foreign_key", referred, f"has a foreign key to '{referred}'"))
    if not primary:
        if arg_is(keyword_arg(call, "unique"), "True"):
            found.append(("unique", "", "is unique"))
        elif arg_is(keyword_arg(call, "index"), "True"):
            found.append(("index", "", "is indexed"))
    return found


def _nullable(column: ColumnDecl, scope: Scope) -> Optional[bool]:
    """Whether the model's column is nullable: `nullable=` as written, else `Mapped[T | None]`
    vs `Mapped[T]` for a plain T, else True for a `Column()` / `mapped_column()` without
    `Mapped`; None when undecided (a computed flag, an Annotated alias, a SQLModel field)."""
    call = column.call
    flag = keyword_arg(call, "nullable") if call is not None else None
    if flag is not None:
        return True if arg_is(flag, "True") else False if arg_is(flag, "False") else None
    if column.kind == "Field":
        return None
    annotation = column.python_type
    if annotation is None:
        return True if column.kind in ("Column", "mapped_column") else None
    if column.kind == "Column":
        return None  # Column() under a Mapped annotation: left undecided
    if isinstance(annotation, cst.SimpleString):
        annotation = parse_string_annotation(annotation) or annotation
    if isinstance(annotation, cst.Subscript) and last_name(annotation.value) == "Annotated":
        return None
    if isinstance(annotation, cst.Subscript) and last_name(annotation.value) == "Optional":
        return True
    parts = unwrap_annotation(annotation, scope)
    if any(isinstance(p, cst.Name) and p.value == "None" for p in parts):
        return True
    for part in parts:
        head = part.value if isinstance(part, cst.Subscript) else part
        qualified = scope.imports.resolve(head)
        plain = qualified.startswith(_PLAIN_MODULES) if qualified else isinstance(head, cst.Name) and head.value in _PLAIN_BUILTINS
        if not plain:
            return None
    return False if parts else None


def _names_itself_by_class(node: cst.ClassDef) -> bool:
    """The class's own `declared_attr` `__tablename__` returns `cls.__name__.lower()`."""
    body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
    return any(isinstance(s, cst.FunctionDef) and s.name.value == "__tablename__" and names_by_lowered_class(s) for s in body)


def _names_no_table(node: cst.ClassDef) -> bool:
    """A class body without `__tablename__` / `__table__`: its table, if it has one, is named
    by a base or by SQLModel (the project phase decides, NamedByClass)."""
    code = cst.Module([]).code_for_node(node.body)
    return "__tablename__" not in code and "__table__" not in code


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
