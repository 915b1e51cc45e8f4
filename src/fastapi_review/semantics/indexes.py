"""Index coverage in a file: which (model or table, column) pairs an index, a unique or a
primary-key constraint leads with — `index=True`-style flags, `__table_args__`, module-level
`Index(...)`, `Table(...)` constraints — and which classes compute their `__table_args__`."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from fastapi_review.project import ProjectIndex, Requirement
from fastapi_review.semantics.context import Context
from fastapi_review.semantics.names import ORM_LIBRARIES, in_library
from fastapi_review.syntax import arg_is, dotted_name, keyword_arg, last_name, string_value

INDEX_FLAGS = ("index", "primary_key", "unique")  # Column(..., index=True) and the like
_CONSTRAINTS = frozenset({"Index", "UniqueConstraint", "PrimaryKeyConstraint"})


def column_ref(expr: cst.BaseExpression) -> Optional[str]:
    """`"org_id"`, `org_id`, `Model.org_id`, `table.c.org_id` → "org_id"."""
    text = string_value(expr)
    if text is not None:
        return text.split(".")[-1]
    name = dotted_name(expr)
    return name.rsplit(".", 1)[-1] if name is not None else None


class IndexCoverage:
    """What the indexes of one file cover, recorded as the walk meets them (see module docstring)."""

    def __init__(self, scope: Context) -> None:
        self.scope = scope
        self.covered: set[tuple[str, str]] = set()  # (class qualname or table key, column)
        self.unknown_table_args: set[str] = set()  # classes whose __table_args__ cannot be read

    def covers(self, owner: str, column: str) -> bool:
        """Whether `owner.column` is indexed (or may be: computed __table_args__)."""
        return (owner, column) in self.covered or owner in self.unknown_table_args

    def table_args(self, node: "cst.Assign | cst.AnnAssign") -> None:
        """`__table_args__ = (...)` (or `__table_args__: Any = (...)`) in the class being visited."""
        scope = self.scope
        targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
        if node.value is None or not any(isinstance(t, cst.Name) and t.value == "__table_args__" for t in targets):
            return
        if not scope.in_class_body:
            return
        owner = scope.classes[-1].facts.qualname
        leading = leading_columns(node.value, scope)
        if leading is None:
            self.unknown_table_args.add(owner)
        else:
            self.covered.update((owner, column) for column in leading)

    def computed_table_args(self, node: cst.FunctionDef) -> None:
        """`def __table_args__(cls)` (declared_attr) in the class being visited: computed."""
        function = self.scope.function
        if node.name.value == "__table_args__" and function is not None and function.is_method:
            self.unknown_table_args.add(self.scope.classes[-1].facts.qualname)

    def module_index(self, call: cst.Call) -> None:
        """`Index("ix", Model.column)` / `Index("ix", Model.__table__.c.column)` outside a class
        body (any other call is ignored)."""
        scope = self.scope
        if last_name(call.func) != "Index" or scope.in_class_body or not in_library(scope.callee(call) or "", *ORM_LIBRARIES):
            return
        positional = [a.value for a in call.args if a.keyword is None and not a.star]
        if len(positional) >= 2:
            owner = dotted_name(positional[1])
            column = column_ref(positional[1])
            if owner is not None and column is not None and "." in owner:
                model = owner.split(".")[0]
                self.covered.add((self.scope.class_qualname(model), column))

    def table_constraints(self, table: str, args: list[cst.BaseExpression]) -> None:
        """The constraints among a `Table(...)` call's arguments, for the table keyed `table`."""
        for value in args:
            if isinstance(value, cst.Call):
                self.covered.update((table, column) for column in covered_columns(value, self.scope))


def flags_index(call: cst.Call) -> bool:
    """`Column(..., index=True)`, `mapped_column(primary_key=True)`, `unique=True`."""
    return any(arg_is(keyword_arg(call, flag), "True") for flag in INDEX_FLAGS)


def leading_columns(value: cst.BaseExpression, scope: Context) -> Optional[set[str]]:
    """Leading columns of the Index / UniqueConstraint / PrimaryKeyConstraint in a
    `__table_args__` value; None when it cannot be read."""
    if isinstance(value, cst.Dict):
        return set()
    if not isinstance(value, (cst.Tuple, cst.List)):
        return None
    leading: set[str] = set()
    for element in value.elements:
        item = element.value
        if isinstance(item, cst.Call):
            leading.update(covered_columns(item, scope))
    return leading


def covered_columns(call: cst.Call, scope: Context) -> set[str]:
    """The leading column of an Index / UniqueConstraint, and every column of a (composite)
    PrimaryKeyConstraint — composite primary keys of association tables are exempt."""
    qualified = scope.callee(call) or ""
    kind = qualified.rsplit(".", 1)[-1]
    if kind not in _CONSTRAINTS or not in_library(qualified, *ORM_LIBRARIES):
        return set()
    positional = [a.value for a in call.args if a.keyword is None and not a.star]
    if kind == "Index":
        positional = positional[1:]  # Index(name, *columns)
    if kind == "PrimaryKeyConstraint":
        return {c for c in map(column_ref, positional) if c is not None}
    first = column_ref(positional[0]) if positional else None
    return {first} if first is not None else set()


def indexed_annotation(value: cst.Subscript, scope: Context) -> bool:
    """`Annotated[int, mapped_column(primary_key=True)]`: a type alias whose columns are indexed."""
    if not (scope.imports.resolve(value.value) or "").endswith("Annotated"):
        return False
    for element in value.slice[1:]:
        meta = element.slice.value if isinstance(element.slice, cst.Index) else None
        if isinstance(meta, cst.Call) and (scope.imports.resolve(meta.func) or "").endswith("mapped_column") and flags_index(meta):
            return True
    return False


class NotIndexedAlias(Requirement, kind="not_indexed_alias"):
    """The column's `Mapped[Alias]` type is not an Annotated alias that indexes it (directly or
    through the alias it wraps), wherever in the project the alias is defined."""

    qualname: str
    needs_whole_project = True

    def holds(self, index: ProjectIndex) -> bool:
        return not any(name in facts.indexed_aliases for facts, name in index.alias_chain(self.qualname))


def alias_requirement(python_type: Optional[cst.BaseExpression], scope: Context) -> Optional[NotIndexedAlias]:
    """For `Mapped[Alias]` (a name of the project's): the check that Alias does not index it."""
    if not isinstance(python_type, (cst.Name, cst.Attribute)):
        return None
    qualified = scope.qualify(python_type)
    if qualified is None or qualified.startswith(("builtins.", "typing.", "datetime.", "decimal.", "uuid.")):
        return None
    return NotIndexedAlias(qualified)
