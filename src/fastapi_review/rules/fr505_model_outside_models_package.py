"""FR505 model-outside-models-package: an ORM model defined outside the models package."""

from __future__ import annotations

import libcst as cst

from fastapi_review.rule import Rule
from fastapi_review.semantics.models import StrayModel


class ModelOutsideModelsPackage(Rule):
    """Models scattered through routers and services are hard to find and import in cycles."""

    code = "FR505"
    name = "model-outside-models-package"
    default_enabled = False  # below the 95% precision bar on unseen backends: rules/FR505.md
    summary = "an ORM model defined in a module outside the models globs"
    message = "ORM model '{model}' is defined outside the models package{where}: move it there (config: models globs)"

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        ctx = self.ctx
        scope = ctx.scope
        if ctx.is_models_module or ctx.is_test_module or len(scope.classes) != 1 or scope.functions:
            return
        if scope.in_type_checking:
            return  # typing-only classes are never mapped
        stray = StrayModel(scope.class_qualname_here, ctx.learn_conventions)
        self.report(node.name, requires=stray, model=node.name.value, where=stray)
