"""FR906 app-import-in-migration: a migration importing application models or services."""

from __future__ import annotations

import libcst as cst

from fastapi_review.facts import MIGRATIONS
from fastapi_review.rule import Rule
from fastapi_review.semantics.migrations import ApplicationImport, has_revision_shape
from fastapi_review.semantics.names import may_be_project_name, module_dotted, resolve_relative
from fastapi_review.syntax import dotted_name


class AppImportInMigration(Rule):
    """A migration is a snapshot of the schema at one revision; the application's models move on."""

    code = "FR906"
    name = "app-import-in-migration"
    summary = "a migration importing application models or services"
    message = "migration imports '{name}' from the application: the migration breaks or changes meaning as the models evolve; declare table stubs with sa.table()/sa.column() or use op.execute"
    default_enabled = False  # dev half measured (bench/precision/results.md, "Issue 20"); test half not yet labelled
    roles = frozenset({MIGRATIONS})

    def setup(self) -> None:
        self._revision = has_revision_shape(self.ctx.data)

    def visit_Import(self, node: cst.Import) -> None:
        if not self._revision:
            return
        for alias in node.names:
            name = dotted_name(alias.name)
            if name is not None and may_be_project_name(name):
                imported = ApplicationImport((name,))
                self.report(node, requires=imported, name=imported)
                return

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if not self._revision or isinstance(node.names, cst.ImportStar):
            return
        base = module_dotted(node.module)
        if node.relative:
            facts = self.ctx.facts
            base = resolve_relative(facts.module, facts.is_package, len(node.relative), base)
        if not base or not may_be_project_name(base):
            return
        names = tuple(f"{base}.{alias.name.value}" for alias in node.names if isinstance(alias.name, cst.Name))
        if names:
            imported = ApplicationImport(names)
            self.report(node, requires=imported, name=imported)
