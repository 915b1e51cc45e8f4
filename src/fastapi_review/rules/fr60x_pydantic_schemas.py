"""FR601 pydantic-v1-config and FR603 field-missing-description."""

from __future__ import annotations

import libcst as cst

from fastapi_review.rule import Rule
from fastapi_review.semantics.names import dotted_name
from fastapi_review.semantics.routes import string_value
from fastapi_review.semantics.scope import carries_description, is_constant_name
from fastapi_review.semantics.sessions import unwrap_annotation

_V1_METHODS = frozenset({"from_orm", "parse_obj"})
_V2_NAMES = {"from_orm": "model_validate", "parse_obj": "model_validate"}


class PydanticV1Config(Rule):
    """Pydantic v2 ignores parts of v1 configuration and deprecates the v1 methods."""

    code = "FR601"
    name = "pydantic-v1-config"
    summary = "class Config: / .from_orm() / .parse_obj() on a Pydantic v2 schema"
    message = "{detail}"

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        scope = self.ctx.scope
        if node.name.value != "Config" or len(scope.classes) < 2 or scope.functions:
            return
        # Scope has already pushed `Config`; its enclosing class is the schema
        owner = scope.classes[-2].facts.qualname
        orm_mode = "orm_mode" in scope.classes[-1].facts.attributes
        detail = (
            "Pydantic v1 'class Config' with orm_mode: use model_config = ConfigDict(from_attributes=True)"
            if orm_mode
            else "Pydantic v1 'class Config': use model_config = ConfigDict(...)"
        )
        self.report(node, requires=("pydantic_schema", owner), detail=detail)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute) or func.attr.value not in _V1_METHODS:
            return
        owner = self.ctx.scope.qualify(func.value)
        if owner is None:
            return
        method = func.attr.value
        self.report(
            node,
            requires=("pydantic_schema", owner),
            detail=f"'{dotted_name(func) or method}()' is the Pydantic v1 API: use '.{_V2_NAMES[method]}()'",
        )


class FieldMissingDescription(Rule):
    """Fields without a description are undocumented in the OpenAPI schema clients read."""

    code = "FR603"
    name = "field-missing-description"
    summary = "a Pydantic schema field without Field(description=...)"
    message = "field '{field}' of '{schema}' has no description: use Field(description=...) so OpenAPI documents it"

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        scope = self.ctx.scope
        if not scope.in_class_body or scope.in_type_checking or not isinstance(node.target, cst.Name):
            return
        name = node.target.value
        if name.startswith("_") or is_constant_name(name) or name == "model_config":
            return
        annotation = node.annotation.annotation
        if self._is_classvar(annotation) or self._has_description(node.value) or self._annotated_description(annotation):
            return
        parts = unwrap_annotation(annotation, scope)
        if any(self._is_hidden(p) for p in [annotation, *parts]):
            return
        alias_requirements = []
        for part in parts:
            if isinstance(part, cst.Name) and part.value in scope.facts.described_aliases:
                return  # a local documented alias
            if isinstance(part, cst.Name) and part.value in scope.facts.annotated_aliases:
                alias_requirements.append(("undescribed_alias", f"{scope.facts.module}.{part.value}"))
                continue
            imported = scope.imports.resolve(part) if isinstance(part, (cst.Name, cst.Attribute)) else None
            if imported is not None and not imported.startswith(("typing", "builtins", "datetime", "uuid", "decimal", "pydantic")):
                alias_requirements.append(("undescribed_alias", imported))
        qualname = scope.class_qualname_here
        requirement = (
            ("schema_without_attribute_docstrings", qualname)
            if self._has_attribute_docstring(node)
            else ("pydantic_schema", qualname)
        )
        self.report(node.target, requires=[requirement, *alias_requirements], field=name, schema=scope.classes[-1].facts.name)

    def _is_hidden(self, annotation: cst.BaseExpression) -> bool:
        """`SkipJsonSchema[...]`: the field is not in the OpenAPI schema at all."""
        head = annotation.value if isinstance(annotation, cst.Subscript) else None
        return head is not None and (dotted_name(head) or "").rsplit(".", 1)[-1] == "SkipJsonSchema"

    def _is_classvar(self, annotation: cst.BaseExpression) -> bool:
        head = annotation.value if isinstance(annotation, cst.Subscript) else annotation
        return (self.ctx.scope.imports.resolve(head) or dotted_name(head) or "").rsplit(".", 1)[-1] == "ClassVar"

    def _has_description(self, value: "cst.BaseExpression | None") -> bool:
        if not isinstance(value, cst.Call):
            return False
        if carries_description(value) or any(arg.star == "**" for arg in value.args):
            return True
        qualified = self.ctx.scope.callee(value) or dotted_name(value.func) or ""
        last = qualified.rsplit(".", 1)[-1]
        # a project helper that builds the Field (`Base.id_field()`) may set the description
        return last != "Field" and "field" in last.lower()

    def _annotated_description(self, annotation: cst.BaseExpression) -> bool:
        if not isinstance(annotation, cst.Subscript):
            return False
        if (self.ctx.scope.imports.resolve(annotation.value) or "").rsplit(".", 1)[-1] != "Annotated":
            return False
        first = annotation.slice[0].slice
        if isinstance(first, cst.Index) and isinstance(first.value, cst.Name) and first.value.value in self.ctx.scope.facts.described_aliases:
            return True
        return any(
            isinstance(e.slice, cst.Index) and isinstance(e.slice.value, cst.Call) and carries_description(e.slice.value)
            for e in annotation.slice[1:]
        )

    def _has_attribute_docstring(self, node: cst.AnnAssign) -> bool:
        body = self.ctx.scope.classes[-1].node.body
        if not isinstance(body, cst.IndentedBlock):
            return False
        statements = list(body.body)
        for index, stmt in enumerate(statements[:-1]):
            if isinstance(stmt, cst.SimpleStatementLine) and node in stmt.body:
                following = statements[index + 1]
                return (
                    isinstance(following, cst.SimpleStatementLine)
                    and isinstance(following.body[0], cst.Expr)
                    and string_value(following.body[0].value) is not None
                )
        return False
