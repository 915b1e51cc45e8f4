"""Column declarations in models and tables, and their types through SQLAlchemy's hierarchy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import libcst as cst

from fastapi_review.semantics.context import Context
from fastapi_review.semantics.names import ORM_LIBRARIES, in_library
from fastapi_review.semantics.sqlalchemy_facts import COLUMN_TYPES
from fastapi_review.semantics.types import parse_string_annotation, unwrap_annotation
from fastapi_review.syntax import keyword_arg, last_name, positional_arg, source_text, string_value

_COLUMN_CALLS = frozenset({"Column", "mapped_column"})
_DIALECT_MODULES = ("sqlalchemy.dialects.postgresql", "sqlalchemy.dialects.mysql", "sqlalchemy.dialects.sqlite")


def type_ancestors(qualified: Optional[str]) -> tuple[str, ...]:
    """SQLAlchemy's generic type classes a (qualified) column type derives from, e.g.
    `sqlalchemy.dialects.postgresql.TIMESTAMP` → (DateTime, TIMESTAMP, TypeEngine); () if unknown."""
    if not qualified:
        return ()
    if qualified in COLUMN_TYPES:
        return COLUMN_TYPES[qualified]
    module, _, last = qualified.rpartition(".")
    if module.startswith(_DIALECT_MODULES):
        dialect = ".".join(module.split(".")[:3])
        return COLUMN_TYPES.get(f"{dialect}.{last}", ())
    if in_library(module, *ORM_LIBRARIES):  # sqlalchemy.sql.sqltypes.X, sqlmodel.X re-exports
        return COLUMN_TYPES.get(f"sqlalchemy.{last}", ())
    return ()


@dataclass
class ColumnDecl:
    """`name = Column(...)`, `name: Mapped[T] = mapped_column(...)`, `name: Mapped[T]`, SQLModel fields."""

    name: str
    target: cst.CSTNode  # where findings about the column point
    call: Optional[cst.Call]  # Column(...) / mapped_column(...) / Field(...)
    kind: str  # "Column", "mapped_column", "Field", "annotation"
    type_expr: Optional[cst.BaseExpression]  # the explicit SQL type (class or instance)
    type_qualname: Optional[str]
    python_type: Optional[cst.BaseExpression]  # T of Mapped[T] (or the SQLModel annotation)

    def keyword(self, name: str) -> Optional[cst.Arg]:
        """A keyword argument of the column call (SQLModel: also inside sa_column_kwargs)."""
        return keyword_arg(self.call, name) if self.call is not None else None

    @property
    def type_ancestors(self) -> tuple[str, ...]:
        """The generic SQLAlchemy types of the explicit column type."""
        return type_ancestors(self.type_qualname)


def _type_argument(call: cst.Call, scope: Context) -> tuple[Optional[cst.BaseExpression], Optional[str]]:
    """The SQL type among Column()/mapped_column() positional arguments (after an optional name)."""
    for arg in call.args:
        if arg.keyword is not None:
            if arg.keyword.value in ("type_", "sa_type"):
                expr = arg.value
            else:
                continue
        elif arg.star:
            return None, None
        else:
            expr = arg.value
            if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString)):
                continue  # the column name
        head = expr.func if isinstance(expr, cst.Call) else expr
        if isinstance(head, cst.Attribute) and head.attr.value == "with_variant" and isinstance(expr, cst.Call):
            return expr, "with_variant"
        qualified = scope.imports.resolve(head)
        if qualified is not None and type_ancestors(qualified):
            return expr, qualified
        if qualified is not None and qualified.rsplit(".", 1)[-1] in ("ForeignKey", "Sequence", "Identity", "Computed"):
            continue
        return expr, qualified  # a type we do not know (a TypeDecorator of the project…)
    return None, None


def mapped_inner(annotation: cst.BaseExpression, scope: Context) -> tuple[Optional[str], Optional[cst.BaseExpression]]:
    """(Mapped / WriteOnlyMapped / … , T) for `Mapped[T]`; (None, None) otherwise."""
    if isinstance(annotation, cst.SimpleString):
        parsed = parse_string_annotation(annotation)
        if parsed is None:
            return None, None
        annotation = parsed
    if not isinstance(annotation, cst.Subscript):
        return None, None
    qualified = scope.imports.resolve(annotation.value) or ""
    if not in_library(qualified, "sqlalchemy"):
        return None, None
    elements = [e.slice.value for e in annotation.slice if isinstance(e.slice, cst.Index)]
    return qualified.rsplit(".", 1)[-1], (elements[0] if elements else None)


def column_declaration(
    target: cst.BaseExpression, annotation: Optional[cst.BaseExpression], value: Optional[cst.BaseExpression], scope: Context
) -> Optional[ColumnDecl]:
    """The column a class-body statement declares, or None (relationships, constants, methods)."""
    if not isinstance(target, cst.Name):
        return None
    name = target.value
    mapped, python_type = mapped_inner(annotation, scope) if annotation is not None else (None, None)
    if mapped is not None and mapped != "Mapped":
        return None  # relationships (WriteOnlyMapped, DynamicMapped) are not columns
    if isinstance(value, cst.Call):
        callee = scope.callee(value) or ""
        module, _, last = callee.rpartition(".")
        if last in _COLUMN_CALLS and in_library(module, *ORM_LIBRARIES):
            type_expr, type_qualname = _type_argument(value, scope)
            return ColumnDecl(name, target, value, last, type_expr, type_qualname, python_type)
        if last == "Field" and in_library(module, "sqlmodel"):
            sa_column = keyword_arg(value, "sa_column")
            if sa_column is not None and isinstance(sa_column.value, cst.Call):
                inner = column_declaration(target, None, sa_column.value, scope)
                if inner is not None:
                    return inner
            sa_type = keyword_arg(value, "sa_type")
            type_expr = sa_type.value if sa_type is not None else None
            head = type_expr.func if isinstance(type_expr, cst.Call) else type_expr
            type_qualname = scope.imports.resolve(head) if head is not None else None
            return ColumnDecl(name, target, value, "Field", type_expr, type_qualname, annotation)
        return None
    if value is None and mapped == "Mapped":
        return ColumnDecl(name, target, None, "annotation", None, None, python_type)
    return None


def database_name(column: ColumnDecl) -> Optional[str]:
    """The column's name in the database: `name=`, else a first string argument, else the
    attribute's name; None when it is computed."""
    if column.call is None or column.kind == "Field":
        return column.name
    named = keyword_arg(column.call, "name")
    if named is not None:
        return string_value(named.value)
    first = positional_arg(column.call, 0)
    if first is not None and isinstance(first.value, (cst.SimpleString, cst.ConcatenatedString)):
        return string_value(first.value)
    return column.name


# Class-body calls that bind no column of the class's table.
_NOT_COLUMNS = frozenset({
    "relationship", "backref", "column_property", "synonym", "association_proxy", "query_expression",
    "dynamic_loader", "hybrid_property", "ConfigDict", "registry", "MetaData",
})


def declared_table_columns(body: Sequence[cst.BaseStatement], scope: Context) -> Optional[tuple[str, ...]]:
    """The database names of the columns a class body declares; None when the body may declare
    columns this does not read: a `declared_attr` other than a dunder, a call that is neither a
    column nor a known non-column, an annotation that is not `Mapped[...]`/`ClassVar`, a computed
    name, a SQLModel field, unpacked arguments."""
    names: list[str] = []
    for stmt in body:
        if isinstance(stmt, cst.FunctionDef):
            if not stmt.name.value.startswith("__") and any("declared_attr" in source_text(d.decorator) for d in stmt.decorators):
                return None
            continue
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if isinstance(small, cst.Assign) and len(small.targets) == 1:
                target, annotation, value = small.targets[0].target, None, small.value
            elif isinstance(small, cst.AnnAssign):
                target, annotation, value = small.target, small.annotation.annotation, small.value
            else:
                continue
            if not isinstance(target, cst.Name) or target.value.startswith("__"):
                continue
            column = column_declaration(target, annotation, value, scope)
            if column is not None:
                name = database_name(column)
                if column.kind == "Field" or name is None or (column.call is not None and any(a.star for a in column.call.args)):
                    return None
                names.append(name)
            elif isinstance(value, cst.Call) and last_name(value.func) not in _NOT_COLUMNS:
                return None
            elif value is None and annotation is not None and mapped_inner(annotation, scope)[0] is None:
                head = annotation.value if isinstance(annotation, cst.Subscript) else annotation
                if last_name(head) not in ("ClassVar", "Final"):
                    return None
    return tuple(names)


def names_by_lowered_class(function: cst.FunctionDef) -> bool:
    """`def __tablename__(cls): return cls.__name__.lower()` (a `declared_attr`): the table is
    the class name in lower case."""
    body = function.body.body if isinstance(function.body, cst.IndentedBlock) else ()
    statements = [s for s in body if not (isinstance(s, cst.SimpleStatementLine) and isinstance(s.body[0], cst.Expr)
                                          and isinstance(s.body[0].value, (cst.SimpleString, cst.ConcatenatedString)))]
    if len(statements) != 1 or not isinstance(statements[0], cst.SimpleStatementLine):
        return False
    returned = statements[0].body[0]
    params = function.params.params
    return (
        isinstance(returned, cst.Return) and returned.value is not None and bool(params)
        and source_text(returned.value).replace(" ", "") == f"{params[0].name.value}.__name__.lower()"
    )


def is_timezone_aware(type_expr: Optional[cst.BaseExpression]) -> Optional[bool]:
    """`DateTime(timezone=True)` / `TIMESTAMP(True)` → True; `DateTime` / `DateTime()` → False;
    None when the argument is not a literal."""
    if not isinstance(type_expr, cst.Call):
        return False
    arg = keyword_arg(type_expr, "timezone")
    if arg is None:
        positional = [a for a in type_expr.args if a.keyword is None and not a.star]
        arg = positional[0] if positional else None
    if arg is None:
        return False
    if isinstance(arg.value, cst.Name) and arg.value.value in ("True", "False"):
        return arg.value.value == "True"
    return None


def says_timezone_false(type_expr: Optional[cst.BaseExpression]) -> bool:
    """`DateTime(timezone=False)`: naive by an explicit decision, not by default."""
    return isinstance(type_expr, cst.Call) and any(
        a.keyword is not None and a.keyword.value == "timezone" and isinstance(a.value, cst.Name) and a.value.value == "False"
        for a in type_expr.args
    )


def is_datetime_annotation(expr: Optional[cst.BaseExpression], scope: Context) -> bool:
    """`datetime`, `datetime.datetime`, `Optional[datetime]`, `datetime | None`, `"datetime"`."""
    if expr is None:
        return False
    for t in unwrap_annotation(expr, scope):
        qualified = scope.imports.resolve(t)
        if qualified == "datetime.datetime":
            return True
    return False


def string_length(value: Optional[cst.BaseExpression], scope: Context) -> Optional[int]:
    """n of `Column(String(n))` / `mapped_column(String(n))` (first positional type argument)."""
    if not isinstance(value, cst.Call):
        return None
    for arg in value.args:
        inner = arg.value
        if arg.keyword is None and isinstance(inner, cst.Call) and inner.args:
            if "String" in type_ancestors(scope.imports.resolve(inner.func)) and isinstance(inner.args[0].value, cst.Integer):
                return int(inner.args[0].value.value)
    return None


def datetime_mapping(value: cst.BaseExpression, scope: Context) -> Optional[bool]:
    """How `type_annotation_map = {datetime: X}` (or `registry(type_annotation_map=...)`) maps
    datetime: False to a naive DateTime, True to an aware one, to a type not known to be naive (a
    project TypeDecorator such as `TZDateTime`) or to `DateTime(timezone=False)` written out (a
    decision, as on a column), None when it does not map datetime."""
    if isinstance(value, cst.Call):
        mapping = keyword_arg(value, "type_annotation_map")
        if mapping is None:
            return None
        value = mapping.value
    if not isinstance(value, cst.Dict):
        return None
    for element in value.elements:
        if not isinstance(element, cst.DictElement) or scope.imports.resolve(element.key) != "datetime.datetime":
            continue
        head = element.value.func if isinstance(element.value, cst.Call) else element.value
        if "DateTime" not in type_ancestors(scope.imports.resolve(head)):
            return True  # a project TypeDecorator (`TZDateTime`): not known to be naive
        if says_timezone_false(element.value):
            return True  # naive by the project's written decision, as on a column (FR506)
        aware = is_timezone_aware(element.value)
        return True if aware is None else aware  # `DateTime(timezone=settings.X)`: not known either
    return None

