"""Who may call the API at all: the deployment's access token.

Local stage: open unless ACCESS_TOKEN is set (it listens on loopback only).
Deployed stages: fail closed; without a configured token every request is refused.
"""
from __future__ import annotations

import hmac
from typing import Any

from chalicelib.config import settings
from chalicelib.errors import InvalidToken, ServiceUnavailable

def presented_token(request: Any) -> str | None:
    query = request.query_params or {}
    headers = request.headers or {}
    if query.get("accessToken"):
        return str(query["accessToken"])
    if headers.get("x-access-token"):
        return str(headers["x-access-token"])
    authorization = headers.get("authorization") or ""
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def check_access(request: Any) -> None:
    """Raise a domain error unless the request may proceed."""
    config = settings()
    expected = config.access_token
    if not expected:
        if config.is_local:
            return
        raise ServiceUnavailable("ACCESS_TOKEN is not configured for this stage")
    token = presented_token(request)
    if token is None or not hmac.compare_digest(token.encode(), expected.encode()):
        raise InvalidToken()
