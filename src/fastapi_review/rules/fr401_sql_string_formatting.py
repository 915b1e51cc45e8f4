"""FR401 sql-string-formatting: SQL built by string formatting reaching a SQL sink."""

from __future__ import annotations

import re
from typing import ClassVar, Optional

import libcst as cst

from fastapi_review.dispatch import descendants
from fastapi_review.findings import Severity
from fastapi_review.rule import SQLALCHEMY_MODULES, Rule
from fastapi_review.semantics.names import ORM_LIBRARIES, in_library
from fastapi_review.semantics.sessions import is_connection_annotation, is_session_expr
from fastapi_review.semantics.sql_positions import VALUE, positions
from fastapi_review.semantics.sql_strings import StringFlow, render
from fastapi_review.syntax import dotted_name

# Functions whose string argument is SQL text.
_TEXT_FUNCTIONS = frozenset({"text", "literal_column"})
# Methods that take SQL on a session / connection / cursor (SQLAlchemy, DB-API, asyncpg, psycopg).
_EXECUTE_METHODS = frozenset({"execute", "executemany", "scalar", "scalars", "fetch", "fetchrow", "fetchval"})
# Receivers conventionally naming a connection, cursor or pool.
_CONNECTION_NAME = re.compile(r"(?i)^(.*_)?(conn|connection|con|cursor|cur|pool)$")
_DRIVER_TYPES = re.compile(r"^(asyncpg|psycopg|psycopg2|aiosqlite|sqlite3|aiomysql|pymysql)(\.|$)")
_SQL_KEYWORDS = ("statement", "query", "sql", "operation", "text")


class SqlStringFormatting(Rule):
    """f-string / % / .format() / + / join-built SQL flowing into text(), execute(), fetch()..."""

    code = "FR401"
    name = "sql-string-formatting"
    default_enabled = False  # below the 95% precision bar on unseen backends: rules/FR401.md
    summary = "SQL built by f-string, %, .format(), + or join reaching text()/execute()/fetch()"
    message = "SQL built by string formatting reaches {sink}: {advice}"
    severity: ClassVar[Severity] = "error"
    # its sinks: text() / literal_column() from SQLAlchemy / SQLModel, or a method named
    # exec_driver_sql, execute(many), scalar(s), fetch(row/val)
    mentions = (*SQLALCHEMY_MODULES, b"exec", b"scalar", b"fetch")

    def setup(self) -> None:
        self._flows: list[StringFlow] = [StringFlow(None)]

    @property
    def _flow(self) -> StringFlow:
        return self._flows[-1]

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        scope = self.ctx.scope
        function = scope.function
        in_enum = function is not None and function.is_method and scope.classes and any(
            base.rsplit(".", 1)[-1].endswith("Enum") for base in scope.classes[-1].facts.bases
        )
        self._flows.append(StringFlow(function, in_enum=bool(in_enum)))

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._flows.pop()

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._flow.assign(target.target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._flow.assign(node.target, node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if isinstance(node.target, cst.Name) and isinstance(node.operator, cst.AddAssign):
            self._flow.augment(node.target.value, node.value)

    def visit_For(self, node: cst.For) -> None:
        self._flow.loop_target(node.target, node.iter)

    def visit_Call(self, node: cst.Call) -> None:
        flow = self._flow
        flow.mutate(node)
        sink = self._sink_name(node)  # few calls are sinks: the string analysis only for those
        if sink is None:
            return
        sql = _sql_argument(node)
        if sql is None or not flow.formatted(sql):
            return
        template = flow.template(sql)
        kinds = positions(render(template)) if template is not None else None
        if kinds is None or VALUE in kinds:
            self.report(node, sink=sink, advice=_BIND)
        elif self._request_value_in(sql):
            # a name (table, column, sort key) or a statement without parameters, from the request
            self.report(node, sink=sink, advice=_ALLOW_LIST)
        # else: only names or parameterless statements, from the code: bound parameters cannot
        # go there, and nothing says the value is not a validated name (Known problems)

    def _request_value_in(self, sql: cst.BaseExpression) -> bool:
        """A route handler's own parameter (request input) appears in the SQL expression."""
        function = self.ctx.scope.route_function
        if function is None:
            return False
        flow = self._flow
        return any(
            isinstance(n, cst.Name) and n.value in function.params and not flow.constant(n)
            for n in descendants(sql, skip=(cst.Lambda,))
        )

    def _sink_name(self, node: cst.Call) -> Optional[str]:
        func = node.func
        qualified = self.ctx.scope.callee(node)
        if qualified is not None:
            module, _, last = qualified.rpartition(".")
            if last in _TEXT_FUNCTIONS and in_library(module, *ORM_LIBRARIES):
                return f"{last}()"
        if not isinstance(func, cst.Attribute):
            return None
        method = func.attr.value
        if method == "exec_driver_sql":
            return "exec_driver_sql()"
        if method in _EXECUTE_METHODS and self._is_database_handle(func.value):
            return f"{dotted_name(func.value) or '...'}.{method}()"
        return None

    def _is_database_handle(self, receiver: cst.BaseExpression) -> bool:
        scope = self.ctx.scope
        if is_session_expr(receiver, scope, self.ctx.session_names):
            return True
        name = dotted_name(receiver)
        if name is None:
            return False
        last = name.rsplit(".", 1)[-1]
        if _CONNECTION_NAME.match(last):
            return True
        function = scope.function
        if function is not None and isinstance(receiver, cst.Name) and receiver.value in function.params:
            annotation = function.params[receiver.value]
            if annotation is not None:
                if is_connection_annotation(annotation, scope):
                    return True
                qualified = scope.imports.resolve(annotation) or ""
                return bool(_DRIVER_TYPES.match(qualified))
        return False


_BIND = "this is SQL injection; use bound parameters (text('... :name') with parameters)"
_ALLOW_LIST = (
    "a request value is formatted in where bound parameters cannot go (a name, or a statement "
    "without parameters): this is SQL injection; check it against an allow-list of known names"
)


def _sql_argument(node: cst.Call) -> Optional[cst.BaseExpression]:
    """The SQL-carrying argument: the first positional one, or a statement=/query=/sql= keyword."""
    for arg in node.args:
        if arg.keyword is None and arg.star == "":
            return arg.value
        if arg.keyword is not None and arg.keyword.value in _SQL_KEYWORDS:
            return arg.value
    return None
