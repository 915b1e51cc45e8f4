"""FR502 missing-timestamps: an ORM model without created_at / updated_at (own or inherited)."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from fastapi_review.rule import Rule
from fastapi_review.semantics.models import MissingColumns


@dataclass(frozen=True)
class MissingTimestampsOptions:
    """Options of FR502."""

    timestamp_columns: tuple[str, ...] = ("created_at", "updated_at")


class MissingTimestamps(Rule):
    """Rows without creation/modification times cannot be audited, synced or debugged."""

    code = "FR502"
    name = "missing-timestamps"
    default_enabled = False  # below the 95% precision bar on unseen backends: rules/FR502.md
    summary = "an ORM model without created_at/updated_at columns (own or inherited from any file)"
    message = "model '{model}' lacks {columns} (directly or through its bases and mixins): add them, e.g. with a TimestampMixin"
    Options = MissingTimestampsOptions

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        scope = self.ctx.scope
        columns = self.options.timestamp_columns
        if len(scope.classes) != 1 or scope.functions or not columns or scope.in_type_checking:
            return
        requirement = MissingColumns(scope.class_qualname_here, tuple(columns), self.ctx.learn_conventions)
        self.report(node.name, requires=requirement, model=node.name.value, columns=" / ".join(columns))
