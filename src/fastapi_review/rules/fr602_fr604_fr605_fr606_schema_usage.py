"""FR602, FR604–FR606: how schemas are used by routes across the project."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from fastapi_review.rule import Rule
from fastapi_review.semantics.schemas import (
    BoundExceedsColumn,
    NeedsFromAttributes,
    RequestSchema,
    ResponseSchema,
    SharedSchema,
)
from fastapi_review.semantics.types import unwrap_annotation
from fastapi_review.syntax import arg_is, dotted_name, is_constant_name, keyword_arg

# Credentials a server keeps about its users: returned, they leak.  Tokens, client secrets and
# API keys are usually *issued* by the endpoint that returns them (login, OAuth, checkout), so
# they are not in the default; add them (`sensitive-fields`) where a project never returns any.
DEFAULT_SENSITIVE = "password|passwd|hashed_|private_key"
_SECRET_TYPES = frozenset({"SecretStr", "SecretBytes"})
_NOT_SECRET_TYPES = frozenset({"int", "float", "bool", "datetime", "date", "timedelta", "Literal", "None", "UUID", "UUID4", "Decimal"})
_BOUNDED = ("max_length", "max_items")
_UNBOUNDED_TYPES = frozenset({"str", "bytes", "list", "List", "dict", "Dict", "set", "Set", "Sequence"})


def _is_top_level_class(rule: Rule) -> bool:
    scope = rule.ctx.scope
    return len(scope.classes) == 1 and not scope.functions


class _FieldRule(Rule):
    """Calls `field(node)` for every annotated field in a top-level class body."""

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        scope = self.ctx.scope
        if scope.in_class_body and len(scope.classes) == 1 and isinstance(node.target, cst.Name):
            name = node.target.value
            if not name.startswith("_") and not is_constant_name(name) and name != "model_config":
                self.field(node, name)

    def field(self, node: cst.AnnAssign, name: str) -> None:
        """Inspect one field."""

    def _annotation_names(self, node: cst.AnnAssign) -> list[str]:
        return [(dotted_name(t.value if isinstance(t, cst.Subscript) else t) or "").rsplit(".", 1)[-1]
                for t in unwrap_annotation(node.annotation.annotation, self.ctx.scope)]

    def _field_keyword(self, node: cst.AnnAssign, keyword: str) -> "cst.Arg | None":
        """`Field(keyword=...)` as the default or in `Annotated[..., Field(...)]`."""
        calls = [node.value] if isinstance(node.value, cst.Call) else []
        annotation = node.annotation.annotation
        if isinstance(annotation, cst.Subscript) and (dotted_name(annotation.value) or "").endswith("Annotated"):
            calls += [e.slice.value for e in annotation.slice[1:] if isinstance(e.slice, cst.Index) and isinstance(e.slice.value, cst.Call)]
        for call in calls:
            arg = keyword_arg(call, keyword)  # type: ignore[arg-type]
            if arg is not None:
                return arg
        return None


class ResponseSchemaWithoutFromAttributes(Rule):
    """Validating an ORM object needs `from_attributes=True`, else FastAPI fails with a 500."""

    code = "FR602"
    name = "response-schema-without-from-attributes"
    summary = "(project-wide) a response schema of handlers returning ORM objects without from_attributes=True"
    message = "schema '{schema}' is the response of routes returning ORM objects ({routes}) but lacks from_attributes=True: add model_config = ConfigDict(from_attributes=True)"

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        if _is_top_level_class(self):
            needed = NeedsFromAttributes(self.ctx.scope.class_qualname_here)
            self.report(node.name, requires=needed, schema=node.name.value, routes=needed)


class SharedRequestResponseSchema(Rule):
    """One schema for input and output leaks server-set fields into requests (and back)."""

    code = "FR604"
    name = "shared-request-response-schema"
    default_enabled = False  # below the 95% precision bar on unseen backends: rules/FR604.md
    summary = "(project-wide) the same schema used as a request body and as a response model"
    message = "schema '{schema}' is both a request body and a response model ({routes}): split it into request and response schemas (e.g. ...Create / ...Read)"

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        if _is_top_level_class(self):
            shared = SharedSchema(self.ctx.scope.class_qualname_here)
            self.report(node.name, requires=shared, schema=node.name.value, routes=shared)


@dataclass(frozen=True)
class SensitiveFieldOptions:
    """Options of FR605."""

    sensitive_fields: str = field(default=DEFAULT_SENSITIVE, metadata={"regex": True})


class SensitiveFieldInResponse(_FieldRule):
    """A password hash or token in a response model is sent to every client."""

    code = "FR605"
    name = "sensitive-field-in-response"
    default_enabled = False  # below the 95% precision bar on unseen backends: rules/FR605.md
    summary = "(project-wide) a password/secret/token field in a schema a route returns"
    message = "field '{field}' of '{schema}' looks sensitive and the schema is part of responses ({routes}): drop it from the response schema, or type it SecretStr / Field(exclude=True)"
    severity = "warning"  # a token endpoint returns tokens by design: not near-certain harm
    Options = SensitiveFieldOptions

    def setup(self) -> None:
        self._pattern = re.compile(self.options.sensitive_fields, re.IGNORECASE)

    def field(self, node: cst.AnnAssign, name: str) -> None:
        if not self._pattern.search(name):
            return
        names = set(self._annotation_names(node))
        if names & _SECRET_TYPES or (names and names <= _NOT_SECRET_TYPES):
            return  # SecretStr, or a number / date / flag / literal (`token_lifetime_seconds: int`)
        exclude = self._field_keyword(node, "exclude")
        if arg_is(exclude, "True"):
            return
        scope = self.ctx.scope
        response = ResponseSchema(scope.class_qualname_here)
        self.report(node.target, requires=response, field=name, schema=scope.classes[-1].facts.name, routes=response)


class UnboundedRequestField(_FieldRule):
    """Unbounded strings and lists in request bodies let one request allocate gigabytes."""

    code = "FR606"
    name = "unbounded-request-field"
    summary = "(project-wide) a str/bytes/list/dict field of a request body without a length bound"
    message = "field '{field}' of request schema '{schema}' {problem}: bound it with max_length (Field / StringConstraints / conlist) within the column's length"
    default_enabled = False

    def field(self, node: cst.AnnAssign, name: str) -> None:
        names = self._annotation_names(node)
        if not set(names) & _UNBOUNDED_TYPES:
            return  # enums, literals, numbers, nested schemas
        bound = next((arg for key in _BOUNDED if (arg := self._field_keyword(node, key)) is not None), None)
        if bound is not None:
            if isinstance(bound.value, cst.Integer):
                # bounded, but looser than the model column it is written to
                scope = self.ctx.scope
                exceeds = BoundExceedsColumn(scope.class_qualname_here, name, bound.value.value)
                self.report(
                    node.target,
                    requires=[RequestSchema(scope.class_qualname_here), exceeds],
                    field=name,
                    schema=scope.classes[-1].facts.name,
                    problem=exceeds,
                )
            return
        annotation = node.annotation.annotation
        text = cst.Module([]).code_for_node(annotation)
        if "max_length" in text or "conlist" in text or "constr" in text:
            return
        scope = self.ctx.scope
        self.report(node.target, requires=RequestSchema(scope.class_qualname_here), field=name, schema=scope.classes[-1].facts.name, problem="has no length bound")
