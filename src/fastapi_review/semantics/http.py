"""HTTP knowledge: status codes in their spellings, response classes, request objects."""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Optional

import libcst as cst

from fastapi_review.semantics.context import Context

_STATUS_CONSTANT = re.compile(r"(?:^|\.)(?:HTTP|WS)_(\d{3})(?:_|$)")
_STATUS_MODULES = ("fastapi.status", "starlette.status")
_RESPONSE_MODULES = ("fastapi.responses.", "starlette.responses.", "fastapi.")
REQUEST_CLASSES = frozenset({"fastapi.Request", "fastapi.requests.Request", "starlette.requests.Request"})
RESPONSE_BASES = frozenset({"fastapi.Response", "fastapi.responses.Response", "starlette.responses.Response"})


def status_code_value(expr: cst.BaseExpression, scope: Context) -> Optional[int]:
    """The status code an expression spells: `404`, `status.HTTP_404_NOT_FOUND`, `HTTPStatus.NOT_FOUND`."""
    if isinstance(expr, cst.Integer):
        try:
            return int(expr.value, 0)
        except ValueError:
            return None
    if isinstance(expr, cst.Attribute) and expr.attr.value == "value":
        expr = expr.value
    qualified = scope.imports.resolve(expr)
    if qualified is None:
        return None
    if qualified.startswith(_STATUS_MODULES):
        match = _STATUS_CONSTANT.search(qualified)
        return int(match.group(1)) if match else None
    if qualified.startswith("http.HTTPStatus."):
        member = HTTPStatus.__members__.get(qualified.rsplit(".", 1)[-1])
        return int(member) if member is not None else None
    return None


# The codes Starlette 0.48 renamed (the old names still work there, with a deprecation warning)
RENAMED_STATUS_CONSTANTS = {
    413: ("HTTP_413_CONTENT_TOO_LARGE", "HTTP_413_REQUEST_ENTITY_TOO_LARGE"),
    414: ("HTTP_414_URI_TOO_LONG", "HTTP_414_REQUEST_URI_TOO_LONG"),
    416: ("HTTP_416_RANGE_NOT_SATISFIABLE", "HTTP_416_REQUESTED_RANGE_NOT_SATISFIABLE"),
    422: ("HTTP_422_UNPROCESSABLE_CONTENT", "HTTP_422_UNPROCESSABLE_ENTITY"),
}


def status_constant(code: int) -> Optional[str]:
    """The `fastapi.status` constant for a standard code (`HTTP_404_NOT_FOUND`), else None; for a
    code Starlette 0.48 renamed, both spellings (`HTTP_422_UNPROCESSABLE_CONTENT (…ENTITY before
    Starlette 0.48)`)."""
    if code in RENAMED_STATUS_CONSTANTS:
        new, old = RENAMED_STATUS_CONSTANTS[code]
        return f"{new} ({old} before Starlette 0.48)"
    try:
        return f"HTTP_{code}_{HTTPStatus(code).name}"
    except ValueError:
        return None


# `fastapi.status` / `starlette.status` names that every Starlette release since 0.13 defines
# under the same spelling (Starlette 0.48 renamed 413, 414, 416 and 422; 103 and 425 came late):
# the FR302 fix writes only these.
_STABLE_STATUS_NAMES = (
    "100_CONTINUE 101_SWITCHING_PROTOCOLS 102_PROCESSING 200_OK 201_CREATED 202_ACCEPTED "
    "203_NON_AUTHORITATIVE_INFORMATION 204_NO_CONTENT 205_RESET_CONTENT 206_PARTIAL_CONTENT "
    "207_MULTI_STATUS 208_ALREADY_REPORTED 226_IM_USED 300_MULTIPLE_CHOICES 301_MOVED_PERMANENTLY "
    "302_FOUND 303_SEE_OTHER 304_NOT_MODIFIED 305_USE_PROXY 307_TEMPORARY_REDIRECT "
    "308_PERMANENT_REDIRECT 400_BAD_REQUEST 401_UNAUTHORIZED 402_PAYMENT_REQUIRED 403_FORBIDDEN "
    "404_NOT_FOUND 405_METHOD_NOT_ALLOWED 406_NOT_ACCEPTABLE 407_PROXY_AUTHENTICATION_REQUIRED "
    "408_REQUEST_TIMEOUT 409_CONFLICT 410_GONE 411_LENGTH_REQUIRED 412_PRECONDITION_FAILED "
    "415_UNSUPPORTED_MEDIA_TYPE 417_EXPECTATION_FAILED 418_IM_A_TEAPOT 421_MISDIRECTED_REQUEST "
    "423_LOCKED 424_FAILED_DEPENDENCY 426_UPGRADE_REQUIRED 428_PRECONDITION_REQUIRED "
    "429_TOO_MANY_REQUESTS 431_REQUEST_HEADER_FIELDS_TOO_LARGE 451_UNAVAILABLE_FOR_LEGAL_REASONS "
    "500_INTERNAL_SERVER_ERROR 501_NOT_IMPLEMENTED 502_BAD_GATEWAY 503_SERVICE_UNAVAILABLE "
    "504_GATEWAY_TIMEOUT 505_HTTP_VERSION_NOT_SUPPORTED 506_VARIANT_ALSO_NEGOTIATES "
    "507_INSUFFICIENT_STORAGE 508_LOOP_DETECTED 510_NOT_EXTENDED 511_NETWORK_AUTHENTICATION_REQUIRED"
)
STABLE_STATUS_CONSTANTS = {int(n[:3]): f"HTTP_{n}" for n in _STABLE_STATUS_NAMES.split()}
STATUS_MODULES = ("fastapi.status", "starlette.status")


def is_response_class(qualified: Optional[str]) -> bool:
    """`JSONResponse`, `Response`, `RedirectResponse`, … from FastAPI or Starlette."""
    return bool(qualified) and qualified.startswith(_RESPONSE_MODULES) and qualified.endswith("Response")  # type: ignore[union-attr]
