"""The rule registry: every rule class, in code order."""

from __future__ import annotations

from fastapi_review.rule import Rule
from fastapi_review.rules.fr001_syntax_error import SyntaxErrorRule
from fastapi_review.rules.fr10x_type_hints import MissingParamAnnotation, MissingReturnAnnotation
from fastapi_review.rules.fr401_sql_string_formatting import SqlStringFormatting
from fastapi_review.rules.fr501_relationship_lazy_strategy import RelationshipLazyStrategy

ALL_RULES: tuple[type[Rule], ...] = tuple(
    sorted(
        (
            SyntaxErrorRule,
            MissingParamAnnotation,
            MissingReturnAnnotation,
            SqlStringFormatting,
            RelationshipLazyStrategy,
        ),
        key=lambda rule: rule.code,
    )
)
