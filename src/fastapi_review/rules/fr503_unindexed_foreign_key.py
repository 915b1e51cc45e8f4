"""FR503 unindexed-foreign-key: a ForeignKey column PostgreSQL will not index by itself."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from fastapi_review.positions import Unit
from fastapi_review.rule import SQLALCHEMY_MODULES, Rule
from fastapi_review.syntax import arg_is, dotted_name, keyword_arg, last_name, string_value
from fastapi_review.semantics.names import ORM_LIBRARIES, in_library
from fastapi_review.semantics.models import TableModel

_CONSTRAINTS = frozenset({"Index", "UniqueConstraint", "PrimaryKeyConstraint"})
_FLAGS = ("index", "primary_key", "unique")



def _column_ref(expr: cst.BaseExpression) -> Optional[str]:
    """`"org_id"`, `org_id`, `Model.org_id`, `table.c.org_id` → "org_id"."""
    text = string_value(expr)
    if text is not None:
        return text.split(".")[-1]
    name = dotted_name(expr)
    return name.rsplit(".", 1)[-1] if name is not None else None


class UnindexedForeignKey(Rule):
    """PostgreSQL indexes primary keys and unique constraints, never foreign keys."""

    code = "FR503"
    name = "unindexed-foreign-key"
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
        self._covered: set[tuple[str, str]] = set()
        self._unknown_table_args: set[str] = set()
        self._class_columns: set[int] = set()

    # -- declarative classes -------------------------------------------------------------
    def visit_Assign(self, node: cst.Assign) -> None:
        self._check_statement(node)
        scope = self.ctx.scope
        if scope.in_class_body and any(isinstance(t.target, cst.Name) and t.target.value == "__table_args__" for t in node.targets):
            owner = scope.class_qualname_here
            leading = self._leading_columns(node.value)
            if leading is None:
                self._unknown_table_args.add(owner)
            else:
                self._covered.update((owner, column) for column in leading)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._check_statement(node)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        function = self.ctx.scope.function
        if node.name.value == "__table_args__" and function is not None and function.is_method:
            self._unknown_table_args.add(self.ctx.scope.class_qualname_here)  # declared_attr: computed

    def _check_statement(self, node: "cst.Assign | cst.AnnAssign") -> None:
        scope = self.ctx.scope
        column = scope.class_column(node)
        if column is None or column.call is None:
            return
        if not self._has_foreign_key(column.call, column.kind):
            return
        if any(arg_is(column.keyword(flag), "True") for flag in _FLAGS):
            return
        self._candidates.append((scope.class_qualname_here, column.name, column.target, self.ctx.current_unit))
        self._class_columns.add(id(column.target))

    def _has_foreign_key(self, call: cst.Call, kind: str) -> bool:
        if kind == "Field":
            return keyword_arg(call, "foreign_key") is not None
        return any(
            isinstance(arg.value, cst.Call) and (self.ctx.scope.callee(arg.value) or "").endswith(".ForeignKey")
            for arg in call.args
        )

    def _leading_columns(self, value: cst.BaseExpression) -> Optional[set[str]]:
        """Leading columns of the Index / UniqueConstraint / PrimaryKeyConstraint in __table_args__."""
        if isinstance(value, cst.Dict):
            return set()
        if not isinstance(value, (cst.Tuple, cst.List)):
            return None
        leading: set[str] = set()
        for element in value.elements:
            item = element.value
            if isinstance(item, cst.Call):
                leading.update(self._covered_columns(item))
        return leading

    def _covered_columns(self, call: cst.Call) -> set[str]:
        """The leading column of an Index / UniqueConstraint, and every column of a (composite)
        PrimaryKeyConstraint — composite primary keys of association tables are exempt."""
        qualified = self.ctx.scope.callee(call) or ""
        kind = qualified.rsplit(".", 1)[-1]
        if kind not in _CONSTRAINTS or not in_library(qualified, *ORM_LIBRARIES):
            return set()
        positional = [a.value for a in call.args if a.keyword is None and not a.star]
        if kind == "Index":
            positional = positional[1:]  # Index(name, *columns)
        if kind == "PrimaryKeyConstraint":
            return {c for c in map(_column_ref, positional) if c is not None}
        first = _column_ref(positional[0]) if positional else None
        return {first} if first is not None else set()

    # -- Table(...) definitions and module-level Index(...) ------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        if last_name(node.func) not in ("Index", "Table"):
            return
        qualified = self.ctx.scope.callee(node) or ""
        if not in_library(qualified, *ORM_LIBRARIES):
            return
        kind = qualified.rsplit(".", 1)[-1]
        if kind == "Index" and not self.ctx.scope.in_class_body:
            self._record_index(node)
        elif kind == "Table":
            self._check_table(node)

    def _record_index(self, call: cst.Call) -> None:
        positional = [a.value for a in call.args if a.keyword is None and not a.star]
        if len(positional) >= 2:
            owner = dotted_name(positional[1])
            column = _column_ref(positional[1])
            if owner is not None and column is not None and "." in owner:
                model = owner.split(".")[0]
                self._covered.add((self.ctx.scope.class_qualname(model), column))

    def _check_table(self, call: cst.Call) -> None:
        table = f"table:{id(call)}"
        args = [a.value for a in call.args if a.keyword is None and not a.star]
        for value in args:
            if isinstance(value, cst.Call):
                self._covered.update((table, column) for column in self._covered_columns(value))
        for value in args:
            if not isinstance(value, cst.Call) or not (self.ctx.scope.callee(value) or "").endswith(".Column"):
                continue
            name_arg = value.args[0].value if value.args else None
            name = string_value(name_arg)
            if name is None or not self._has_foreign_key(value, "Column"):
                continue
            if any(arg_is(keyword_arg(value, flag), "True") for flag in _FLAGS):
                continue
            self._candidates.append((table, name, name_arg, self.ctx.current_unit))  # type: ignore[arg-type]

    def finish(self) -> None:
        for owner, column, target, unit in self._candidates:
            if (owner, column) in self._covered or owner in self._unknown_table_args:
                continue
            # a mixin's or abstract base's column may be indexed by the classes that use it
            requires = TableModel(owner) if id(target) in self._class_columns else None
            self.report(target, unit=unit, requires=requires, column=column)
