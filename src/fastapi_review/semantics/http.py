"""HTTP knowledge: status codes in their spellings, response classes, request objects."""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import TYPE_CHECKING, Optional

import libcst as cst

if TYPE_CHECKING:
    from fastapi_review.semantics.scope import Scope

_STATUS_CONSTANT = re.compile(r"(?:^|\.)(?:HTTP|WS)_(\d{3})(?:_|$)")
_STATUS_MODULES = ("fastapi.status", "starlette.status")
_RESPONSE_MODULES = ("fastapi.responses.", "starlette.responses.", "fastapi.")
REQUEST_CLASSES = frozenset({"fastapi.Request", "fastapi.requests.Request", "starlette.requests.Request"})
RESPONSE_BASES = frozenset({"fastapi.Response", "fastapi.responses.Response", "starlette.responses.Response"})


def status_code_value(expr: cst.BaseExpression, scope: "Scope") -> Optional[int]:
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


def status_constant(code: int) -> Optional[str]:
    """The `fastapi.status` constant for a standard code (`HTTP_404_NOT_FOUND`), else None."""
    try:
        return f"HTTP_{code}_{HTTPStatus(code).name}"
    except ValueError:
        return None


def is_response_class(qualified: Optional[str]) -> bool:
    """`JSONResponse`, `Response`, `RedirectResponse`, … from FastAPI or Starlette."""
    return bool(qualified) and qualified.startswith(_RESPONSE_MODULES) and qualified.endswith("Response")  # type: ignore[union-attr]
