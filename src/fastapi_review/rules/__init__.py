"""The rule registry: one import line per rule module (a family module lists its classes);
ALL_RULES is every rule class imported here, in code order."""

from __future__ import annotations

from fastapi_review.rule import Rule
from fastapi_review.rules.fr001_syntax_error import SyntaxErrorRule
from fastapi_review.rules.fr002_internal_error import InternalErrorRule
from fastapi_review.rules.fr003_file_too_complex import FileTooComplexRule
from fastapi_review.rules.fr004_unused_noqa import UnusedNoqaRule
from fastapi_review.rules.fr101_fr102_type_hints import MissingParamAnnotation, MissingReturnAnnotation
from fastapi_review.rules.fr201_db_access_in_route import DbAccessInRoute
from fastapi_review.rules.fr202_complex_route_handler import ComplexRouteHandler
from fastapi_review.rules.fr203_route_missing_docstring import RouteMissingDocstring
from fastapi_review.rules.fr204_route_missing_response_model import RouteMissingResponseModel
from fastapi_review.rules.fr205_untyped_request_body import UntypedRequestBody
from fastapi_review.rules.fr206_post_without_status_code import PostWithoutStatusCode
from fastapi_review.rules.fr207_route_on_app import RouteOnApp
from fastapi_review.rules.fr208_session_not_injected import SessionNotInjected
from fastapi_review.rules.fr209_error_returned_not_raised import ErrorReturnedNotRaised
from fastapi_review.rules.fr210_shadowed_route import ShadowedRoute
from fastapi_review.rules.fr301_fr302_fr303_fr304_http_exceptions import GenericExceptionInRoute, HttpExceptionInService, HttpExceptionMissingDetail, HttpStatusLiteral
from fastapi_review.rules.fr305_undocumented_error_status import UndocumentedErrorStatus
from fastapi_review.rules.fr401_sql_string_formatting import SqlStringFormatting
from fastapi_review.rules.fr402_fr404_fr405_fr406_fr407_database_access import CommitInLoop, LegacyQueryApi, MissingAwait, QueryInLoop, SyncSessionInAsync
from fastapi_review.rules.fr403_lazy_load_in_loop import LazyLoadInLoop
from fastapi_review.rules.fr501_relationship_lazy_strategy import RelationshipLazyStrategy
from fastapi_review.rules.fr502_missing_timestamps import MissingTimestamps
from fastapi_review.rules.fr503_unindexed_foreign_key import UnindexedForeignKey
from fastapi_review.rules.fr504_unindexed_filter_column import UnindexedFilterColumn
from fastapi_review.rules.fr505_model_outside_models_package import ModelOutsideModelsPackage
from fastapi_review.rules.fr506_fr507_fr508_fr509_column_types import JsonNotJsonb, LegacyColumnStyle, NaiveDatetimeColumn, TimestampDefault
from fastapi_review.rules.fr601_fr603_pydantic_schemas import FieldMissingDescription, PydanticV1Config
from fastapi_review.rules.fr602_fr604_fr605_fr606_schema_usage import ResponseSchemaWithoutFromAttributes, SensitiveFieldInResponse, SharedRequestResponseSchema, UnboundedRequestField
from fastapi_review.rules.fr701_fr702_fr703_services import HttpLayerInService, StatefulService, SyncServiceIo
from fastapi_review.rules.fr801_untested_route import UntestedRoute
from fastapi_review.rules.fr901_fr902_fr903_fr904_lock_safe_ddl import ColumnTypeRewrite, ConstraintWithoutNotValid, IndexWithoutConcurrently, NotNullColumnWithoutDefault
from fastapi_review.rules.fr905_irreversible_downgrade import IrreversibleDowngrade
from fastapi_review.rules.fr906_app_import_in_migration import AppImportInMigration
from fastapi_review.rules.fr907_multiple_heads import MultipleHeads
from fastapi_review.rules.fr908_model_migration_drift import ModelMigrationDrift

ALL_RULES: tuple[type[Rule], ...] = tuple(
    sorted(
        (
            value
            for value in list(globals().values())
            if isinstance(value, type) and issubclass(value, Rule) and "code" in vars(value)
        ),
        key=lambda rule: rule.code,
    )
)

__all__ = ["ALL_RULES", *(rule.__name__ for rule in ALL_RULES)]
