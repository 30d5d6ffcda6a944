"""GET /openapi.json: this API described by itself (built by api/openapi_document)."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.api.http import endpoint, json_response

bp = Blueprint(__name__)


@endpoint(bp, "/openapi.json", "GET", None, response="OpenApiDocument", summary="This document")
def openapi_document(params: dict[str, Any]) -> Response:
    from chalicelib.api.openapi_document import document  # every model: only when asked
    return json_response(200, document())
