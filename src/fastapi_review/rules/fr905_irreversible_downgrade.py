"""FR905 irreversible-downgrade: an empty downgrade() while upgrade() changes the schema."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from fastapi_review.facts import MIGRATIONS
from fastapi_review.positions import Unit
from fastapi_review.rule import Rule
from fastapi_review.semantics.migrations import changes_schema, has_revision_shape, is_silent_body, op_method


class IrreversibleDowngrade(Rule):
    """A downgrade that silently does nothing leaves the schema at the new revision while Alembic
    records the old one."""

    code = "FR905"
    name = "irreversible-downgrade"
    summary = "an empty downgrade() while upgrade() changes the schema, with no stated intent"
    message = "downgrade() does nothing while upgrade() changes the schema: write the reverse operations, or `raise NotImplementedError(\"irreversible: ...\")` to say so"
    default_enabled = False  # dev half measured (bench/precision/results.md, "Issue 20"); test half not yet labelled
    roles = frozenset({MIGRATIONS})
    mentions = (b"downgrade",)

    def setup(self) -> None:
        self._revision = has_revision_shape(self.ctx.data)
        self._upgrade_changes = False
        self._downgrade: Optional[tuple[cst.FunctionDef, Unit]] = None

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        scope = self.ctx.scope
        if not self._revision or len(scope.functions) != 1 or scope.classes:
            return
        if node.name.value == "downgrade" and is_silent_body(node):
            self._downgrade = (node, self.ctx.current_unit)

    def visit_Call(self, node: cst.Call) -> None:
        functions = self.ctx.scope.functions
        if self._upgrade_changes or not self._revision or not functions or functions[0].node.name.value != "upgrade":
            return
        found = op_method(node, self.ctx.scope, {})
        self._upgrade_changes = found is not None and changes_schema(found[0], node)

    def finish(self) -> None:
        if self._downgrade is not None and self._upgrade_changes:
            node, unit = self._downgrade
            self.report(node.name, unit=unit)
