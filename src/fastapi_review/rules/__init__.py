"""The rule registry: every rule class, in code order."""

from __future__ import annotations

from fastapi_review.rule import Rule
from fastapi_review.rules.fr001_syntax_error import SyntaxErrorRule
from fastapi_review.rules.fr002_internal_error import InternalErrorRule
from fastapi_review.rules.fr10x_type_hints import (
    MissingParamAnnotation,
    MissingReturnAnnotation,
)
from fastapi_review.rules.fr30x_http_exceptions import (
    GenericExceptionInRoute,
    HttpExceptionInService,
    HttpExceptionMissingDetail,
    HttpStatusLiteral,
)
from fastapi_review.rules.fr40x_database_access import (
    CommitInLoop,
    LegacyQueryApi,
    MissingAwait,
    QueryInLoop,
    SyncSessionInAsync,
)
from fastapi_review.rules.fr40x_project_queries import (
    LazyLoadInLoop,
    UnindexedFilterColumn,
)
from fastapi_review.rules.fr50x_column_types import (
    JsonNotJsonb,
    LegacyColumnStyle,
    NaiveDatetimeColumn,
    TimestampDefault,
)
from fastapi_review.rules.fr60x_pydantic_schemas import (
    FieldMissingDescription,
    PydanticV1Config,
)
from fastapi_review.rules.fr60x_schema_usage import (
    ResponseSchemaWithoutFromAttributes,
    SensitiveFieldInResponse,
    SharedRequestResponseSchema,
    UnboundedRequestField,
)
from fastapi_review.rules.fr70x_services import (
    HttpLayerInService,
    StatefulService,
    SyncServiceIo,
)
from fastapi_review.rules.fr201_db_access_in_route import DbAccessInRoute
from fastapi_review.rules.fr202_complex_route_handler import ComplexRouteHandler
from fastapi_review.rules.fr203_route_missing_docstring import RouteMissingDocstring
from fastapi_review.rules.fr204_route_missing_response_model import (
    RouteMissingResponseModel,
)
from fastapi_review.rules.fr205_untyped_request_body import UntypedRequestBody
from fastapi_review.rules.fr206_post_without_status_code import PostWithoutStatusCode
from fastapi_review.rules.fr207_route_on_app import RouteOnApp
from fastapi_review.rules.fr208_session_not_injected import SessionNotInjected
from fastapi_review.rules.fr209_error_returned_not_raised import ErrorReturnedNotRaised
from fastapi_review.rules.fr210_shadowed_route import ShadowedRoute
from fastapi_review.rules.fr305_undocumented_error_status import UndocumentedErrorStatus
from fastapi_review.rules.fr401_sql_string_formatting import SqlStringFormatting
from fastapi_review.rules.fr501_relationship_lazy_strategy import (
    RelationshipLazyStrategy,
)
from fastapi_review.rules.fr502_missing_timestamps import MissingTimestamps
from fastapi_review.rules.fr503_unindexed_foreign_key import UnindexedForeignKey
from fastapi_review.rules.fr505_model_outside_models_package import (
    ModelOutsideModelsPackage,
)
from fastapi_review.rules.fr801_untested_route import UntestedRoute

ALL_RULES: tuple[type[Rule], ...] = tuple(
    sorted(
        (
            SyntaxErrorRule,
            InternalErrorRule,
            MissingParamAnnotation,
            MissingReturnAnnotation,
            DbAccessInRoute,
            ComplexRouteHandler,
            RouteMissingDocstring,
            RouteMissingResponseModel,
            UntypedRequestBody,
            PostWithoutStatusCode,
            RouteOnApp,
            SessionNotInjected,
            ErrorReturnedNotRaised,
            ShadowedRoute,
            GenericExceptionInRoute,
            HttpStatusLiteral,
            HttpExceptionMissingDetail,
            HttpExceptionInService,
            SqlStringFormatting,
            QueryInLoop,
            SyncSessionInAsync,
            MissingAwait,
            CommitInLoop,
            LegacyQueryApi,
            MissingTimestamps,
            UnindexedForeignKey,
            ModelOutsideModelsPackage,
            NaiveDatetimeColumn,
            JsonNotJsonb,
            TimestampDefault,
            LegacyColumnStyle,
            RelationshipLazyStrategy,
            PydanticV1Config,
            FieldMissingDescription,
            SyncServiceIo,
            HttpLayerInService,
            StatefulService,
            UndocumentedErrorStatus,
            ResponseSchemaWithoutFromAttributes,
            SharedRequestResponseSchema,
            SensitiveFieldInResponse,
            UnboundedRequestField,
            UntestedRoute,
            LazyLoadInLoop,
            UnindexedFilterColumn,
        ),
        key=lambda rule: rule.code,
    )
)
