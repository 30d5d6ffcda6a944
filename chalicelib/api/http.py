"""The HTTP edge shared by every blueprint.

`endpoint` turns a plain function `(params) -> dict` into a Chalice route: it merges
path, query and body parameters the way WildDuck does, validates them against the
endpoint's schema, and records the route (with its response model) for the OpenAPI
document. `respond` is the one place where a request's failures become answers: every
view, including the edge's own 404 and 405 answers (api/routing.py), runs through it,
so every answer has the `{error, code}` shape. Routes therefore contain no HTTP plumbing.
"""
from __future__ import annotations

import base64
import functools
import importlib
import inspect
import operator
import time
import uuid
from dataclasses import dataclass, field
from types import UnionType
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import parse_qsl

from chalice import Blueprint, Response

from chalicelib import logs
from chalicelib.api.access import check_access
from chalicelib.errors import DomainError, InputValidationError, UnsupportedMediaType
from chalicelib.request_limits import MAX_FORM_FIELDS, check_body_size, check_values, load_json

if TYPE_CHECKING:
    from pydantic import BaseModel

# Request bodies the edge reads (`_body_params`); anything else is answered 415.
JSON_TYPES = ["application/json", "application/x-www-form-urlencoded", "text/plain"]
RAW_TYPE = "message/rfc822"


@dataclass(frozen=True)
class Binary:
    """A download answer: bytes of `media_type` (`*/*`: whatever the stored part says),
    or a 302 to a short-lived S3 URL when the bytes exceed a Lambda response."""

    media_type: str
    description: str


@dataclass(frozen=True)
class Text:
    """A text answer that is not JSON (the updates stream): its media type, what it
    holds, and an example for the document."""

    media_type: str
    description: str
    example: str = ""


# What a route declares it answers on success (see `endpoint`): the name of a model of
# api/responses.py ("UserDetails", or a union "Done | Pending"), a download or text.
Answer = str | Binary | Text | None


@functools.cache
def schema_model(ref: str) -> type[BaseModel]:
    """The request model a route names as "<module>.<Class>" of chalicelib/schemas.

    Routes name their models instead of importing them, so a cold start loads pydantic
    and a family's schemas only when a request needs them, not every route's at import.
    """
    module, name = ref.rsplit(".", 1)
    model: type[BaseModel] = getattr(importlib.import_module(f"chalicelib.schemas.{module}"),
                                     name)
    return model


def answer_model(ref: str) -> type[BaseModel] | UnionType:
    """The response model(s) a route names (api/responses.py), for the OpenAPI document."""
    from chalicelib.api import responses
    models = [getattr(responses, name.strip()) for name in ref.split("|")]
    return functools.reduce(operator.or_, models) if len(models) > 1 else models[0]


@dataclass(frozen=True)
class RouteSpec:
    path: str
    method: str
    schema: str | None
    summary: str
    tag: str
    raw_body: str | None
    response: Answer = None


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


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    """JSON with its type said: Chalice leaves Content-Type out, and only API Gateway
    fills it in (chalice local sends none)."""
    return Response(status_code=status, body=body,
                    headers={"Content-Type": "application/json", **(headers or {})})


def error_response(error: DomainError) -> Response:
    return json_response(error.status, error.body(), dict(error.headers))


def internal_error_response(request_id: str) -> Response:
    return json_response(500, {"error": "Internal server error", "code": "InternalError",
                               "requestId": request_id})


def _checked(response: Response) -> Response:
    """Chalice turns a header value with a line break into its own 500 after the view has
    returned; refusing it here keeps that failure in the one error path."""
    for name, value in response.headers.items():
        if "\n" in str(value) or "\r" in str(value):
            raise ValueError(f"line break in response header {name}")
    return response


def respond(request: Any, work: Callable[[RequestContext], Any], *,
            access: bool = True) -> Response:
    """Run a request's work and turn any failure into an `{error, code}` answer.

    The one place errors are caught. It must be inside the view: Chalice answers an
    exception escaping a view itself, in its own `{Code, Message}` shape, before any
    middleware sees it. `access=False` is for the edge's route-level answers (unknown
    route, wrong method), which API Gateway gives before any token check too.
    """
    if getattr(request, "context", None) is None:
        request.context = {}
    ctx = RequestContext(
        request_id=request_id_of(request),
        source_ip=(request.context.get("identity") or {}).get("sourceIp"),
        headers=dict(request.headers or {}),
    )
    try:
        if access:
            check_access(request)
            ctx.principal = request.context.get("principal")
        result = work(ctx)
        if not isinstance(result, Response):
            result = json_response(200, {"success": True, **(result or {})})
        return _checked(result)
    except DomainError as error:
        return error_response(error)
    except Exception:
        logs.exception("unhandled error", requestId=ctx.request_id, method=request.method,
                       route=request.context.get("resourcePath"))
        return internal_error_response(ctx.request_id)


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


def request_media_type(request: Any) -> str:
    """The body's media type, without parameters; a body without one is read as JSON."""
    header = (request.headers or {}).get("content-type") or "application/json"
    return header.split(";")[0].strip().lower()


def check_media_type(request: Any, accepted: list[str]) -> None:
    """415 for a body the route cannot read (an empty body has no type that matters)."""
    if request.raw_body and request_media_type(request) not in accepted:
        raise UnsupportedMediaType(
            f"Unsupported content type {request_media_type(request)}; "
            f"send {', '.join(accepted)}")


def endpoint(
    bp: Blueprint,
    path: str,
    method: str,
    schema: str | None,
    *,
    response: Answer,
    summary: str = "",
    raw_body: str | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a route whose handler takes the validated params (and optionally ctx).

    `schema` names the request model ("users.CreateUser": chalicelib/schemas/users.py),
    loaded on the route's first request. `response` describes the success answer for
    the OpenAPI document: a model name of api/responses.py (or "A | B"), a `Binary`
    download or a `Text` answer.
    """

    accepted = JSON_TYPES + ([RAW_TYPE] if raw_body else [])

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        wants_ctx = len(inspect.signature(fn).parameters) > 1
        ROUTES.append(RouteSpec(path, method, schema, summary or (fn.__doc__ or "").strip(),
                                bp._import_name.rsplit(".", 1)[-1], raw_body, response))

        def work(ctx: RequestContext) -> Any:
            request = bp.current_request
            check_media_type(request, accepted)
            params = merged_params(request, raw_body)
            if schema is None:
                value = params
            else:
                from chalicelib.validation import parse  # with pydantic, on first use
                value = parse(schema_model(schema), params)
            return fn(value, ctx) if wants_ctx else fn(value)

        def view(**_path: str) -> Response:
            return respond(bp.current_request, work)

        view.__name__ = f"{fn.__name__}_{method.lower()}"
        # Every content type reaches the view, which answers 415 in the edge's shape.
        bp.route(path, methods=[method], content_types=["*/*"])(view)
        return fn

    return decorate
