"""FR907 multiple-heads: the revision graph has more than one head."""

from __future__ import annotations

import libcst as cst

from fastapi_review.facts import MIGRATIONS
from fastapi_review.rule import Rule
from fastapi_review.semantics.migrations import UNREADABLE, ExtraHead, tree_key


class MultipleHeads(Rule):
    """Two heads: `alembic upgrade head` refuses to run until a merge revision joins them."""

    code = "FR907"
    name = "multiple-heads"
    summary = "(project-wide) the Alembic revision graph has more than one head"
    message = "revision '{revision}' is another head of the revision graph (also: {heads}): `alembic upgrade head` fails; add a merge revision with `alembic merge heads`"
    default_enabled = False  # dev half measured (bench/precision/results.md, "Issue 20"); test half not yet labelled
    roles = frozenset({MIGRATIONS})
    mentions = (b"down_revision",)

    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) == 1:
            self._check(node, node.targets[0].target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._check(node, node.target)

    def _check(self, node: cst.CSTNode, target: cst.BaseExpression) -> None:
        revision = self.ctx.facts.revision
        if not self.ctx.scope.at_module_level or not isinstance(target, cst.Name) or target.value != "revision":
            return
        if revision is None or revision == UNREADABLE:
            return
        head = ExtraHead(tree_key(self.ctx.facts.path), revision)
        self.report(node, requires=head, revision=revision, heads=head)
