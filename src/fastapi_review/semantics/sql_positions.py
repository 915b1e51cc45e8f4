"""Where an interpolated part sits in a SQL statement (FR401), read by a real SQL parser.

FR401's data flow (sql_strings.py) says a string is built by formatting with a non-constant
part; this module says what that part is *in the SQL*. The statement is rebuilt with each
non-constant part replaced by a placeholder identifier (`fr401hole0`) and each constant part
by a neutral one, then parsed with sqlglot (PostgreSQL's grammar first, then MySQL's and
sqlglot's generic one). A part is:

- VALUE: data — inside a string literal, an operand compared with a column, a member of an
  IN list, a VALUES tuple, an UPDATE's new value, LIMIT/OFFSET. Bound parameters exist for
  exactly these positions: formatting here is SQL injection.
- IDENTIFIER: a table, schema or column name, a selected or ordered expression, the column
  side of a comparison with a bound parameter. Parameters cannot bind identifiers; the fix is
  an allow-list or `quoted_name`, not `:param`.
- UTILITY: anywhere in a statement that takes no bound parameters at all — DDL (`CREATE`,
  `ALTER`, `DROP`), `SET`, `NOTIFY`, `GRANT`, `COPY`, …

`positions()` answers None when the statement cannot be parsed, a part cannot be placed, or a
part is a whole statement or condition (`WHERE {clause}`: SQL text of unknown content): the
caller then decides without this knowledge.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Optional

VALUE = "value"
IDENTIFIER = "identifier"
UTILITY = "utility"

HOLE = "fr401hole"
CONSTANT_PART = "fr401const"
_HOLE_NAME = re.compile(HOLE + r"\d+")
_DIALECTS = ("postgres", "mysql", "clickhouse", None)
# DB-API placeholders (`%s`, `%(name)s`) read as named ones, MySQL's `quoted` names as "quoted":
# one grammar then reads what drivers of several databases accept
_DBAPI_PLACEHOLDER = re.compile(r"%(?:\([A-Za-z_]\w*\))?s")
_BACKTICKED = re.compile(r"`([^`]*)`")
# statements that take no bound parameters, by their first keyword (for what sqlglot cannot parse)
_UTILITY_WORDS = frozenset({
    "alter", "analyze", "cluster", "comment", "copy", "create", "drop", "grant", "listen", "lock", "notify",
    "refresh", "reindex", "revoke", "set", "show", "truncate", "unlisten", "vacuum", "pragma", "attach", "detach",
    "begin", "start", "commit", "rollback", "savepoint", "release", "end", "abort",
})


def positions(sql: str) -> Optional[set[str]]:
    """The kinds of position the `fr401hole<N>` parts of `sql` take, or None when unknown."""
    holes = set(_HOLE_NAME.findall(sql))
    if not holes:
        return set()
    first = sql.lstrip(" \t\r\n(").split(None, 1)
    if first and first[0].lower() in _UTILITY_WORDS:
        return {UTILITY}
    if sql.strip() in holes:
        return None  # the whole statement is formatted in
    trees = _parse(_BACKTICKED.sub(r'"\1"', _DBAPI_PLACEHOLDER.sub(":p", sql)))
    if trees is None:
        return None
    found: set[str] = set()
    placed: set[str] = set()
    from sqlglot import exp

    utility_roots = _utility_roots(exp)
    for tree in trees:
        if tree is None:
            continue
        # a statement without parameters, or one with them, a condition or a column expression
        utility = isinstance(tree, utility_roots)
        for node in tree.walk():
            for hole in _holes_in(node, exp):
                kind = UTILITY if utility else _kind(node, exp)
                if kind is None:
                    return None
                placed.add(hole)
                found.add(kind)
    return found if placed == holes else None


def _parse(sql: str) -> Optional[list[Any]]:
    try:
        import sqlglot
        from sqlglot.errors import SqlglotError
    except ImportError:  # pragma: no cover - a dependency; without it nothing is known
        return None
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.CRITICAL)  # it warns on what it parses as a bare Command
    try:
        for dialect in _DIALECTS:
            try:
                return sqlglot.parse(sql, read=dialect)
            except (SqlglotError, RecursionError, ValueError):
                continue
    finally:
        logger.setLevel(level)
    return None


_UTILITY_STATEMENTS = ("Create", "Drop", "Alter", "AlterTable", "Command", "Set", "Grant", "Revoke", "Copy",
                       "TruncateTable", "Pragma", "Use", "Transaction", "Commit", "Rollback", "Comment", "Analyze")


def _utility_roots(exp: Any) -> tuple[type, ...]:
    # statements that take no bound parameters (the names differ across sqlglot versions)
    return tuple(cls for cls in (getattr(exp, name, None) for name in _UTILITY_STATEMENTS) if isinstance(cls, type))


def _holes_in(node: Any, exp: Any) -> list[str]:
    """The holes a node stands for: an identifier that is one, or a string literal holding some."""
    if isinstance(node, exp.Identifier) and isinstance(node.this, str):
        return _HOLE_NAME.findall(node.this)  # `fr401hole0_total`: part of a name is a name
    if isinstance(node, exp.Literal) and node.is_string:
        return _HOLE_NAME.findall(node.this)
    return []


_OPERAND_WRAPPERS = ("Func", "Paren", "Cast", "Neg", "Collate")


def _kind(node: Any, exp: Any) -> Optional[str]:
    if isinstance(node, exp.Literal):
        return VALUE  # inside quotes: data
    column = node.parent
    if not isinstance(column, exp.Column) or column.this is not node:
        return IDENTIFIER  # a table, schema, alias, column definition
    operand = column
    while isinstance(operand.parent, tuple(getattr(exp, w) for w in _OPERAND_WRAPPERS)):
        operand = operand.parent
    parent = operand.parent
    if parent is None:
        return IDENTIFIER  # a column expression (`literal_column(f"NEW.{column}")`)
    if isinstance(parent, (exp.Where, exp.Having, exp.Connector, exp.Not, exp.Join)):
        return None  # a whole condition formatted in: SQL text of unknown content
    if isinstance(parent, (exp.Limit, exp.Offset, exp.Values)) or parent.find_ancestor(exp.Values) is not None:
        return VALUE
    if isinstance(parent, exp.In):
        return IDENTIFIER if parent.this is operand and _all_bound(parent.expressions, exp) else VALUE
    if isinstance(parent, exp.Between):
        return IDENTIFIER if parent.this is operand else VALUE
    if isinstance(parent, (exp.Binary, exp.Is)):
        other = parent.expression if parent.this is operand else parent.this
        if _bound(other, exp):
            return IDENTIFIER  # `{column} = :value`: the formatted part names the column
        if parent.this is operand and isinstance(parent, exp.EQ) and isinstance(parent.parent, exp.Update):
            return IDENTIFIER  # `SET {column} = …`
        return VALUE  # `email = {value}`
    return IDENTIFIER  # selected, ordered, grouped, joined on


def _bound(node: Any, exp: Any) -> bool:
    """A bound parameter, a literal or NULL: nothing formatted on this side."""
    while isinstance(node, (exp.Paren, exp.Cast)):
        node = node.this
    if isinstance(node, (exp.Placeholder, exp.Parameter, exp.Null, exp.Boolean)):
        return True
    return isinstance(node, exp.Literal) and not _HOLE_NAME.search(str(node.this))


def _all_bound(nodes: list[Any], exp: Any) -> bool:
    return bool(nodes) and all(_bound(n, exp) for n in nodes)
