"""FR501 relationship-lazy-strategy: relationship() without an eager / explicit lazy= strategy."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import libcst as cst

from fastapi_review.rule import SQLALCHEMY_MODULES, Rule, RuleFix
from fastapi_review.semantics.edits import add_keyword, string_literal
from fastapi_review.syntax import keyword_arg, string_value
from fastapi_review.semantics.sqlalchemy_facts import LAZY_STRATEGIES
from fastapi_review.semantics.models import OrmModel

DEFAULT_ALLOWED = ("selectin", "joined", "subquery", "immediate", "raise", "raise_on_sql", "noload", "write_only")
# lazy=True / False / None are SQLAlchemy's legacy spellings of "select" / "joined" / "noload".
_LEGACY_LAZY = {"True": "select", "False": "joined", "None": "noload"}


@dataclass(frozen=True)
class RelationshipLazyOptions:
    """Options of FR501."""

    allowed_lazy: tuple[str, ...] = field(default=DEFAULT_ALLOWED, metadata={"choices": LAZY_STRATEGIES})


class RelationshipLazyStrategy(Rule):
    """A relationship on an ORM model that loads lazily on attribute access (N+1, and an error under asyncio)."""

    code = "FR501"
    fix_safety = "unsafe"
    name = "relationship-lazy-strategy"
    summary = "relationship() on a model without an eager lazy= strategy, or an unknown one"
    message = "{detail}"
    Options = RelationshipLazyOptions
    # relationship() / Relationship() / Mapped kinds resolve to SQLAlchemy / SQLModel
    mentions = SQLALCHEMY_MODULES

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if not self._in_class_body() or not isinstance(node.target, cst.Name):
            return
        annotation = node.annotation.annotation
        head = annotation.value if isinstance(annotation, cst.Subscript) else annotation
        qualified = self.ctx.scope.imports.resolve(head) or ""
        mapped_kind = qualified.rsplit(".", 1)[-1] if qualified.startswith("sqlalchemy") else ""
        if mapped_kind == "WriteOnlyMapped":  # implies lazy="write_only"
            return
        if mapped_kind == "DynamicMapped":
            self._report(node.target, f"relationship '{node.target.value}' is DynamicMapped (lazy=\"dynamic\"): it queries on every access; use WriteOnlyMapped or lazy=\"selectin\"")
            return
        if node.value is not None:
            self._check_value(node.target, node.value)

    def visit_Assign(self, node: cst.Assign) -> None:
        if not self._in_class_body() or len(node.targets) != 1 or not isinstance(node.targets[0].target, cst.Name):
            return
        self._check_value(node.targets[0].target, node.value)

    def _in_class_body(self) -> bool:
        scope = self.ctx.scope
        return scope.in_class_body

    def _check_value(self, target: cst.Name, value: cst.BaseExpression) -> None:
        if not isinstance(value, cst.Call):
            return
        qualified = self.ctx.scope.callee(value) or ""
        module, _, last = qualified.rpartition(".")
        if last == "relationship" and module.startswith("sqlalchemy"):
            lazy_arg = keyword_arg(value, "lazy")
            lazy = lazy_arg.value if lazy_arg is not None else None
        elif last == "Relationship" and module.startswith("sqlmodel"):
            lazy = _sqlmodel_lazy(value)
            if lazy is False:  # sa_relationship_kwargs is not a literal dict: cannot tell
                return
        else:
            return
        name = target.value
        if lazy is None and any(arg.star for arg in value.args):
            return  # lazy= may come from **options: cannot tell
        if lazy is None:
            fix = None
            if last == "relationship":  # SQLModel's Relationship takes it in sa_relationship_kwargs
                fixed = add_keyword(value, "lazy", string_literal("selectin", value))
                fix = RuleFix("unsafe", 'Add lazy="selectin"', ((value, fixed),))
            self._report(target, f"relationship '{name}' has no lazy= strategy: the default \"select\" loads on attribute access (N+1, and MissingGreenlet under AsyncSession); set lazy=\"selectin\" or another eager strategy", fix)
            return
        strategy = _strategy(lazy)
        if strategy is None:
            return  # computed at run time: cannot decide
        if strategy not in LAZY_STRATEGIES:
            self._report(target, f"relationship '{name}' has unknown lazy strategy {strategy!r}: SQLAlchemy rejects it at mapper configuration; valid: {', '.join(LAZY_STRATEGIES)}")
        elif strategy not in self.options.allowed_lazy:
            self._report(target, f"relationship '{name}' uses lazy=\"{strategy}\", which loads on attribute access (N+1, and MissingGreenlet under AsyncSession); use one of: {', '.join(self.options.allowed_lazy)}")

    def _report(self, target: cst.Name, detail: str, fix: "RuleFix | None" = None) -> None:
        self.report(target, requires=OrmModel(self.ctx.scope.classes[-1].facts.qualname), fix=fix, detail=detail)


def _strategy(lazy: cst.BaseExpression) -> Optional[str]:
    if isinstance(lazy, cst.Name) and lazy.value in _LEGACY_LAZY:
        return _LEGACY_LAZY[lazy.value]
    return string_value(lazy)


def _sqlmodel_lazy(call: cst.Call) -> "cst.BaseExpression | None | bool":
    """The `lazy` value inside SQLModel's `sa_relationship_kwargs={...}`; False when unknowable."""
    kwargs = keyword_arg(call, "sa_relationship_kwargs")
    if kwargs is None:
        return None
    if not isinstance(kwargs.value, cst.Dict):
        return False
    for element in kwargs.value.elements:
        if isinstance(element, cst.DictElement) and string_value(element.key) == "lazy":
            return element.value
        if isinstance(element, cst.StarredDictElement):
            return False
    return None
