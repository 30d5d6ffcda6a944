"""The HTTP edge shared by every blueprint.

`endpoint` turns a plain function `(params) -> dict` into a Chalice route: it merges
path, query and body parameters the way WildDuck does, validates them against the
endpoint's schema, maps domain errors to `{error, code}` responses, and records the
route for the OpenAPI document. Routes therefore contain no HTTP plumbing.
"""
from __future__ import annotations

import base64
import inspect
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import parse_qsl

from chalice import Blueprint, Response
from pydantic import BaseModel

from chalicelib import logs
from chalicelib.errors import DomainError, InputValidationError
from chalicelib.validation import (MAX_FORM_FIELDS, check_body_size, check_values, load_json,
                                   parse)

JSON_TYPES = ["application/json", "application/x-www-form-urlencoded", "text/plain"]


@dataclass(frozen=True)
class RouteSpec:
    path: str
    method: str
    schema: type[BaseModel] | None
    summary: str
    tag: str
    raw_body: str | None


@dataclass
class RequestContext:
    """What a handler may need to know about the call beyond its parameters."""

    request_id: str
    source_ip: str | None
    headers: dict[str, str]
    principal: Any = None
    started: float = field(default_factory=time.monotonic)


ROUTES: list[RouteSpec] = []


class BinaryResponse(Response):
    """Bytes answered as bytes, whatever their content type.

    Chalice base64-encodes a body (and marks it `isBase64Encoded`, which Lambda needs to
    return bytes) only when the content type is in `app.api.binary_types`; an attachment
    can have any type, so this response always does it. `chalice local`, the test client
    and API Gateway (configured with `*/*` binary media, infra/tables.yaml) all decode a
    body marked that way, so the client gets the original bytes.
    """

    def to_dict(self, binary_types: list[str] | None = None) -> dict[str, Any]:
        data = self.body if isinstance(self.body, bytes) else str(self.body).encode("utf-8")
        self.body = ""
        response = super().to_dict(None)
        self.body = data
        response["body"] = base64.b64encode(data).decode("ascii")
        response["isBase64Encoded"] = True
        return response


def redirect(url: str) -> Response:
    """302 to a short-lived S3 URL: for downloads larger than a Lambda response allows."""
    return Response(status_code=302, body="", headers={"Location": url,
                                                       "Cache-Control": "no-store"})


def request_id_of(request: Any) -> str:
    context = getattr(request, "context", None) or {}
    return str(context.get("requestId") or uuid.uuid4())


def error_response(error: DomainError) -> Response:
    return Response(status_code=error.status, body=error.body(), headers=dict(error.headers))


def internal_error_response(request_id: str) -> Response:
    return Response(
        status_code=500,
        body={"error": "Internal server error", "code": "InternalError", "requestId": request_id},
    )


def _body_params(request: Any, raw_body: str | None) -> dict[str, Any]:
    raw = request.raw_body or b""
    if not raw:
        return {}
    check_body_size(raw)
    content_type = (request.headers.get("content-type") or "application/json").split(";")[0]
    content_type = content_type.strip().lower()
    if raw_body and content_type == "message/rfc822":
        return {raw_body: raw}
    if content_type == "application/x-www-form-urlencoded":
        try:
            return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True,
                                  max_num_fields=MAX_FORM_FIELDS))
        except ValueError:
            raise InputValidationError(
                {"body": f"request body has more than {MAX_FORM_FIELDS} fields"}) from None
    body = load_json(raw)
    if not isinstance(body, dict):
        raise InputValidationError({"body": "request body must be a JSON object"})
    return body


def merged_params(request: Any, raw_body: str | None = None) -> dict[str, Any]:
    """Body, then query string, then path: a body can never override a path value.

    Every value is checked once here (depth, count, lone surrogates), whichever of the
    three it came from, so no schema or service sees text that cannot be encoded.
    """
    params = _body_params(request, raw_body)
    for key, value in (request.query_params or {}).items():
        if key != "accessToken":  # transport for the access check, not a parameter
            params[key] = value
    params.update(request.uri_params or {})
    check_values(params)
    return params


def endpoint(
    bp: Blueprint,
    path: str,
    method: str,
    schema: type[BaseModel] | None,
    *,
    summary: str = "",
    raw_body: str | None = None,
    binary: list[str] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a route whose handler takes the validated params (and optionally ctx)."""

    content_types = JSON_TYPES + (["message/rfc822"] if raw_body else []) + (binary or [])

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        wants_ctx = len(inspect.signature(fn).parameters) > 1
        ROUTES.append(RouteSpec(path, method, schema, summary or (fn.__doc__ or "").strip(),
                                bp._import_name.rsplit(".", 1)[-1], raw_body))

        def view(**_path: str) -> Response:
            request = bp.current_request
            ctx = RequestContext(
                request_id=request_id_of(request),
                source_ip=((request.context or {}).get("identity") or {}).get("sourceIp"),
                headers=dict(request.headers or {}),
                principal=(request.context or {}).get("principal"),
            )
            try:
                params = merged_params(request, raw_body)
                value = parse(schema, params) if schema is not None else params
                result = fn(value, ctx) if wants_ctx else fn(value)
            except DomainError as exc:
                return error_response(exc)
            except Exception:
                logs.exception("unhandled error", requestId=ctx.request_id, route=path,
                               method=method)
                return internal_error_response(ctx.request_id)
            if isinstance(result, Response):
                return result
            return Response(status_code=200, body={"success": True, **(result or {})})

        view.__name__ = f"{fn.__name__}_{method.lower()}"
        bp.route(path, methods=[method], content_types=content_types)(view)
        return fn

    return decorate
