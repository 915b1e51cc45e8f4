"""FR501 relationship-lazy-strategy: relationship() without an eager / explicit lazy= strategy."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import libcst as cst

from fastapi_review.rule import SQLALCHEMY_MODULES, Rule, RuleFix
from fastapi_review.semantics.edits import add_keyword, string_literal
from fastapi_review.semantics.models import OrmModel
from fastapi_review.semantics.relationships import UNKNOWN, relationship_declaration
from fastapi_review.semantics.sqlalchemy_facts import LAZY_STRATEGIES
from fastapi_review.syntax import dotted_name

DEFAULT_ALLOWED = ("selectin", "joined", "subquery", "immediate", "raise", "raise_on_sql", "noload", "write_only")


@dataclass(frozen=True)
class RelationshipLazyOptions:
    """Options of FR501."""

    allowed_lazy: tuple[str, ...] = field(default=DEFAULT_ALLOWED, metadata={"choices": LAZY_STRATEGIES})


class RelationshipLazyStrategy(Rule):
    """A relationship on an ORM model that loads lazily on attribute access (N+1, and an error under asyncio)."""

    code = "FR501"
    fix_safety = "unsafe"
    name = "relationship-lazy-strategy"
    default_enabled = False  # below the 95% precision bar on unseen backends: rules/FR501.md
    summary = "relationship() on a model without an eager lazy= strategy, or an unknown one"
    message = "{detail}"
    convention = True
    Options = RelationshipLazyOptions
    # relationship() / Relationship() / Mapped kinds resolve to SQLAlchemy / SQLModel
    mentions = SQLALCHEMY_MODULES

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if self.ctx.scope.in_class_body and isinstance(node.target, cst.Name):
            self._check(node.target, node.annotation.annotation, node.value)

    def visit_Assign(self, node: cst.Assign) -> None:
        if self.ctx.scope.in_class_body and len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            self._check(node.targets[0].target, None, node.value)

    def _check(self, target: cst.Name, annotation: Optional[cst.BaseExpression], value: Optional[cst.BaseExpression]) -> None:
        declared = relationship_declaration(annotation, value, self.ctx.scope)
        if declared is None or declared.api == "WriteOnlyMapped":  # WriteOnlyMapped implies lazy="write_only"
            return
        name = target.value
        if declared.api == "DynamicMapped":
            self._report(target, f"relationship '{name}' is DynamicMapped (lazy=\"dynamic\"): it queries on every access; use WriteOnlyMapped or lazy=\"selectin\"")
            return
        if declared.strategy == UNKNOWN:
            return  # computed at run time, or from **options: cannot decide
        if not declared.explicit:
            fix = None
            if declared.api == "relationship" and declared.call is not None:  # SQLModel's Relationship takes it in sa_relationship_kwargs
                fixed = add_keyword(declared.call, "lazy", string_literal("selectin", declared.call))
                fix = RuleFix("unsafe", 'Add lazy="selectin"', ((declared.call, fixed),))
            advice = "set lazy=\"selectin\" or another eager strategy"
            if _is_collection(annotation):
                advice += "; for a large collection, lazy=\"raise\" and selectinload() where it is used"
            self._report(target, f"relationship '{name}' has no lazy= strategy: the default \"select\" loads on attribute access (N+1, and MissingGreenlet under AsyncSession); {advice}", fix)
            return
        strategy = declared.strategy
        if strategy not in LAZY_STRATEGIES:
            self._report(target, f"relationship '{name}' has unknown lazy strategy {strategy!r}: SQLAlchemy rejects it at mapper configuration; valid: {', '.join(LAZY_STRATEGIES)}")
        elif strategy in self.options.allowed_lazy:
            self.conforms()
        else:
            self._report(target, f"relationship '{name}' uses lazy=\"{strategy}\", which loads on attribute access (N+1, and MissingGreenlet under AsyncSession); use one of: {', '.join(self.options.allowed_lazy)}")

    def _report(self, target: cst.Name, detail: str, fix: "RuleFix | None" = None) -> None:
        self.report(target, requires=OrmModel(self.ctx.scope.classes[-1].facts.qualname), fix=fix, detail=detail)


def _is_collection(annotation: Optional[cst.BaseExpression]) -> bool:
    """`Mapped[list[Order]]`, `Mapped[List["Order"]]`, `Mapped[set[Tag]]`: a to-many relationship."""
    if not isinstance(annotation, cst.Subscript):
        return False
    inner = [e.slice.value for e in annotation.slice if isinstance(e.slice, cst.Index)]
    head = inner[0].value if inner and isinstance(inner[0], cst.Subscript) else None
    return head is not None and (dotted_name(head) or "").rsplit(".", 1)[-1] in ("list", "List", "set", "Set")
