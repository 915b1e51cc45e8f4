"""FR601 pydantic-v1-config and FR603 field-missing-description."""

from __future__ import annotations

import libcst as cst

from fastapi_review.rule import Rule, RuleFix
from fastapi_review.semantics.edits import importable
from fastapi_review.semantics.schemas import (
    ApiSchema,
    PydanticSchema,
    SchemaWithoutAttributeDocstrings,
    UndescribedAlias,
    carries_description,
)
from fastapi_review.semantics.types import unwrap_annotation
from fastapi_review.semantics.versions import PydanticV2Project
from fastapi_review.syntax import dotted_name, is_constant_name, string_value

_V1_METHODS = frozenset({"from_orm", "parse_obj"})
_V2_NAMES = {"from_orm": "model_validate", "parse_obj": "model_validate"}
# Pydantic's v1 → v2 configuration renames (its migration guide), and the keys both spell alike
_V1_RENAMES = {
    "orm_mode": "from_attributes",
    "allow_population_by_field_name": "populate_by_name",
    "anystr_lower": "str_to_lower",
    "anystr_upper": "str_to_upper",
    "anystr_strip_whitespace": "str_strip_whitespace",
    "min_anystr_length": "str_min_length",
    "max_anystr_length": "str_max_length",
    "schema_extra": "json_schema_extra",
    "validate_all": "validate_default",
    "keep_untouched": "ignored_types",
}
_SAME_KEYS = frozenset(
    {
        "title", "extra", "frozen", "validate_assignment", "arbitrary_types_allowed", "use_enum_values",
        "allow_inf_nan", "alias_generator", "str_strip_whitespace", "str_to_lower", "str_to_upper",
        "str_min_length", "str_max_length", "from_attributes", "populate_by_name", "validate_default",
        "revalidate_instances", "protected_namespaces", "strict", "defer_build", "json_schema_extra",
    }
)
_LINE_LENGTH = 88


class PydanticV1Config(Rule):
    """Pydantic v2 ignores parts of v1 configuration and deprecates the v1 methods."""

    code = "FR601"
    fix_safety = "safe"
    name = "pydantic-v1-config"
    default_enabled = False  # below the 95% precision bar on unseen backends: rules/FR601.md
    summary = "class Config: / .from_orm() / .parse_obj() on a Pydantic v2 schema"
    message = "{detail}"

    def setup(self) -> None:
        # Pydantic 1 projects are right to use the v1 API; undeclared ones must show v2 use
        pydantic = self.ctx.profile.pydantic
        self.silent = pydantic == 1
        self.v2_evidence = PydanticV2Project() if pydantic is None else None

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        scope = self.ctx.scope
        if node.name.value != "Config" or len(scope.classes) < 2 or scope.functions:
            return
        if self.silent or scope.in_version_branch:  # `if PYDANTIC_V2: ... else: class Config:`
            return
        # Scope has already pushed `Config`; its enclosing class is the schema
        owner = scope.classes[-2].facts.qualname
        orm_mode = "orm_mode" in scope.classes[-1].facts.attributes
        detail = (
            "Pydantic v1 'class Config' with orm_mode: use model_config = ConfigDict(from_attributes=True)"
            if orm_mode
            else "Pydantic v1 'class Config': use model_config = ConfigDict(...)"
        )
        self.report(node, requires=(PydanticSchema(owner), self.v2_evidence), fix=self._config_fix(node), detail=detail)

    def _config_fix(self, node: cst.ClassDef) -> "RuleFix | None":
        """`class Config:` of plain `key = value` lines with known keys and no comments →
        `model_config = ConfigDict(...)`, on one line when it fits."""
        scope = self.ctx.scope
        body = node.body
        if node.bases or node.keywords or node.decorators or not isinstance(body, cst.IndentedBlock):
            return None
        if "model_config" in scope.classes[-2].facts.attributes or _has_comment(body.footer):
            return None
        if not importable(self.ctx.scope.imports, self.ctx.data, "ConfigDict", ("pydantic.ConfigDict", "pydantic.config.ConfigDict")):
            return None
        keys = []
        for statement in body.body:
            if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
                return None
            if _has_comment(statement.leading_lines, statement.trailing_whitespace):
                return None
            assign = statement.body[0]
            if not isinstance(assign, cst.Assign) or len(assign.targets) != 1 or not isinstance(assign.targets[0].target, cst.Name):
                return None
            converted = self._v2_setting(assign.targets[0].target.value, assign.value)
            if converted is None:
                return None
            keys.append(converted)
        names = {k for k, _ in keys}
        if not keys or len(names) != len(keys) or any(_mentions(value, names | set(_V1_RENAMES)) for _, value in keys):
            return None
        equal = cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))
        args = [cst.Arg(value, keyword=cst.Name(key), equal=equal) for key, value in keys]
        call = cst.Call(cst.Name("ConfigDict"), args)
        indent = "    " * (len(scope.units) - 1)
        if len(indent) + len("model_config = ") + len(cst.Module([]).code_for_node(call)) > _LINE_LENGTH:
            line = cst.ParenthesizedWhitespace(indent=True, last_line=cst.SimpleWhitespace("    "))
            end = cst.ParenthesizedWhitespace(indent=True)
            args = [a.with_changes(comma=cst.Comma(whitespace_after=end if i == len(args) - 1 else line)) for i, a in enumerate(args)]
            call = call.with_changes(args=args, whitespace_before_args=line)
        statement = cst.SimpleStatementLine(  # the comment of the `class Config:` line stays
            [cst.Assign([cst.AssignTarget(cst.Name("model_config"))], call)], node.leading_lines, body.header
        )
        return RuleFix("safe", "Use model_config = ConfigDict(...)", ((node, statement),), (("pydantic", "ConfigDict"),))

    def _v2_setting(self, key: str, value: cst.BaseExpression) -> "tuple[str, cst.BaseExpression] | None":
        """The ConfigDict keyword and value of a v1 setting, or None when there is no sure one."""
        if key == "allow_mutation":  # allow_mutation = False → frozen=True
            if isinstance(value, cst.Name) and value.value in ("True", "False"):
                return "frozen", cst.Name("False" if value.value == "True" else "True")
            return None
        if key == "extra":  # Extra.forbid → "forbid"
            qualified = self.ctx.scope.imports.resolve(value) or ""
            if qualified.startswith("pydantic.") and qualified.rsplit(".", 2)[-2] == "Extra":
                return key, cst.SimpleString(f'"{qualified.rsplit(".", 1)[-1]}"')
            return (key, value) if string_value(value) in ("allow", "ignore", "forbid") else None
        if key in ("schema_extra", "json_schema_extra") and not isinstance(value, cst.Dict):
            return None  # v2 calls a json_schema_extra function with other arguments
        if key in _V1_RENAMES:
            return _V1_RENAMES[key], value
        return (key, value) if key in _SAME_KEYS else None

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute) or func.attr.value not in _V1_METHODS:
            return
        if self.silent or self.ctx.scope.in_version_branch:
            return
        owner = self.ctx.scope.qualify(func.value)
        if owner is None:
            return
        method = func.attr.value
        fix = None
        if len(node.args) == 1 and node.args[0].keyword is None and not node.args[0].star:
            # v2's from_orm(x) is model_validate(x) once it checked from_attributes (else it raises)
            new = func.attr.with_changes(value=_V2_NAMES[method])
            fix = RuleFix("safe", f"Use .{_V2_NAMES[method]}()", ((func.attr, new),))
        self.report(
            node,
            requires=(PydanticSchema(owner), self.v2_evidence),
            fix=fix,
            detail=f"'{dotted_name(func) or method}()' is the Pydantic v1 API: use '.{_V2_NAMES[method]}()'",
        )


def _has_comment(*parts: object) -> bool:
    """Whether whitespace nodes (or lists of EmptyLine) hold a comment."""
    for part in parts:
        lines = part if isinstance(part, (list, tuple)) else [part]
        if any(getattr(line, "comment", None) is not None for line in lines):
            return True
    return False


def _mentions(value: cst.CSTNode, names: set[str]) -> bool:
    """Whether an expression uses one of `names` (another setting of the same Config)."""
    if isinstance(value, cst.Name):
        return value.value in names
    return any(_mentions(child, names) for child in value.children)


class FieldMissingDescription(Rule):
    """Fields without a description are undocumented in the OpenAPI schema clients read."""

    code = "FR603"
    name = "field-missing-description"
    default_enabled = False  # below the 95% precision bar on unseen backends: rules/FR603.md
    summary = "a Pydantic schema field without Field(description=...)"
    message = "field '{field}' of '{schema}' has no description: use Field(description=...) so OpenAPI documents it"
    convention = True

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        scope = self.ctx.scope
        if not scope.in_class_body or scope.in_type_checking or not isinstance(node.target, cst.Name):
            return
        name = node.target.value
        if name.startswith("_") or is_constant_name(name) or name == "model_config":
            return
        annotation = node.annotation.annotation
        if self._is_classvar(annotation):
            return
        if self._has_description(node.value) or self._annotated_description(annotation):
            self.conforms()
            return
        parts = unwrap_annotation(annotation, scope)
        if any(self._is_hidden(p) for p in [annotation, *parts]):
            return
        alias_requirements = []
        for part in parts:
            if isinstance(part, cst.Name) and part.value in scope.facts.described_aliases:
                return  # a local documented alias
            if isinstance(part, cst.Name) and part.value in scope.facts.annotated_aliases:
                alias_requirements.append(UndescribedAlias(f"{scope.facts.module}.{part.value}"))
                continue
            imported = scope.imports.resolve(part) if isinstance(part, (cst.Name, cst.Attribute)) else None
            if imported is not None and not imported.startswith(("typing", "builtins", "datetime", "uuid", "decimal", "pydantic")):
                alias_requirements.append(UndescribedAlias(imported))
        qualname = scope.class_qualname_here
        requirement = (
            SchemaWithoutAttributeDocstrings(qualname)
            if self._has_attribute_docstring(node)
            else PydanticSchema(qualname)
        )
        requires = [requirement, ApiSchema(qualname), *alias_requirements]
        self.report(node.target, requires=requires, field=name, schema=scope.classes[-1].facts.name)

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
