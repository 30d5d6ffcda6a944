"""The OpenAPI 3.1 document, built from the route table: request schemas, response
models (api/responses.py) and the statuses each route can answer.

Every schema lands in `components.schemas` and is referenced as
`#/components/schemas/<Name>`, so each `$ref` resolves against the document itself
(pydantic's default `#/$defs/...` would dangle once embedded).
"""
from __future__ import annotations

import re
from typing import Any, Callable, get_args

from chalice import Blueprint, Response
from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from chalicelib import validation
from chalicelib.api import responses as r
from chalicelib.api.http import (RAW_TYPE, ROUTES, Binary, RouteSpec, Text, endpoint,
                                 json_response)
from chalicelib.schemas import common, messages

REF = "#/components/schemas/{model}"
ID_INPUT = {"type": "string", "pattern": "^[0-9a-fA-F]{24}$",
            "description": "24-hex id (any case)"}
_ADDRESS_OBJECT = {"type": "object", "additionalProperties": False, "required": ["address"],
                   "properties": {"name": {"type": "string", "maxLength": 256},
                                  "address": {"type": "string", "format": "email"}}}
_ADDRESS_IN = {"anyOf": [{"type": "string", "format": "email"}, _ADDRESS_OBJECT]}


def _validator(annotated: Any) -> Callable[..., Any]:
    """The function of the BeforeValidator inside an Annotated field type."""
    return next(meta.func for meta in get_args(annotated)[1:] if hasattr(meta, "func"))


# What the input types with a custom validator accept, where their inner Python type
# says less (or something else) than the wire format.
INPUT_SCHEMAS: dict[Callable[..., Any], JsonSchemaValue] = {
    _validator(validation.ObjectId): ID_INPUT,
    _validator(validation.IpAddress): {"type": "string",
                                       "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]},
    _validator(common.Address): {"type": "string", "format": "email"},
    _validator(messages.Uid): {"type": "integer", "minimum": 1, "maximum": 2**32 - 1},
    _validator(messages.Target): {
        "type": "string", "maxLength": 4096,
        "pattern": r"^\d{1,10}(:(\d{1,10}|\*))?(,\d{1,10}(:(\d{1,10}|\*))?)*$",
        "description": "A uid, a comma separated list, or ranges like 1:5 and 5:*"},
    _validator(messages.Expires): {"anyOf": [{"type": "integer"}, {"const": False}],
                                   "description": "Epoch ms or a date; false clears it"},
    _validator(messages.AddressIn): _ADDRESS_IN,
    _validator(messages.AddressList): {"anyOf": [_ADDRESS_IN, {
        "type": "array", "maxItems": 500, "items": _ADDRESS_IN}]},
    _validator(messages.Raw): {"type": "string",
                               "description": "RFC 822 source, as text or base64"},
}


class _Generator(GenerateJsonSchema):
    """Pydantic's generator, with the wire formats of the custom input types."""

    def function_before_schema(
            self, schema: core_schema.BeforeValidatorFunctionSchema) -> JsonSchemaValue:
        known = INPUT_SCHEMAS.get(schema["function"]["function"])
        if known is not None:
            return dict(known)
        return super().function_before_schema(schema)


REQUEST_ID = {"X-Request-Id": {"$ref": "#/components/headers/RequestId"}}


def _error_response(description: str) -> dict[str, Any]:
    return {"description": description, "headers": REQUEST_ID,
            "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}}}


RESPONSES: dict[str, dict[str, Any]] = {
    "BadRequest": _error_response("Invalid input (`InputValidationError` with `details`) "
                                  "or a refused change"),
    "Forbidden": _error_response("Missing or wrong token, missing privileges, failed "
                                 "authentication, rate limited (`Retry-After`)"),
    "NotFound": _error_response("An id in the path (or named in the input) does not exist"),
    "Conflict": _error_response("A concurrent change won; repeating the request is safe"),
    "UnsupportedMediaType": _error_response("A request body of a type the route cannot read"),
    "InternalError": _error_response("Unexpected failure; the answer carries `requestId`"),
    "ServiceUnavailable": _error_response("The stage has no access token configured"),
    "MethodNotAllowed": {**_error_response("The path exists, the method does not; `Allow` "
                                           "lists the methods"),
                         "headers": {**REQUEST_ID, "Allow": {"schema": {"type": "string"},
                                                             "required": True}}},
    "RouteNotFound": _error_response("No route has this path (`RouteNotFound`)"),
}


def _statuses(spec: RouteSpec, path_params: list[str]) -> dict[str, str]:
    """Status -> shared response name, for what this route can answer besides success."""
    statuses = {"403": "Forbidden", "415": "UnsupportedMediaType", "500": "InternalError",
                "503": "ServiceUnavailable"}
    if spec.schema is not None:
        statuses["400"] = "BadRequest"
    if path_params or spec.method != "GET":
        statuses["404"] = "NotFound"
    if spec.method != "GET":
        statuses["409"] = "Conflict"
    return dict(sorted(statuses.items()))


_BOUNDS = {"ge": "minimum", "le": "maximum", "gt": "exclusiveMinimum", "lt": "exclusiveMaximum"}


def _json_bounds(value: Any) -> Any:
    """Pydantic leaves the bounds of a number with a before-validator (`Int`, `Limit`) as
    its own `ge`/`le` keys, which JSON Schema (and so every client and fuzzer) ignores."""
    if isinstance(value, list):
        return [_json_bounds(item) for item in value]
    if not isinstance(value, dict):
        return value
    return {_BOUNDS.get(key, key) if value.get("type") in ("integer", "number") else key:
            _json_bounds(item) for key, item in value.items()}


class _Schemas:
    """Collects every schema of the document into one `components.schemas` table."""

    def __init__(self) -> None:
        self.components: dict[str, Any] = {}

    def of(self, annotation: Any) -> JsonSchemaValue:
        schema = _json_bounds(TypeAdapter(annotation).json_schema(
            ref_template=REF, schema_generator=_Generator))
        for name, definition in schema.pop("$defs", {}).items():
            known = self.components.setdefault(name, definition)
            if known != definition:
                raise ValueError(f"two different schemas are named {name}")
        return schema

    def model(self, model: type[BaseModel]) -> JsonSchemaValue:
        """A named model: stored once, answered as a `$ref`."""
        schema = self.of(model)
        name = model.__name__
        known = self.components.setdefault(name, schema)
        if known != schema:
            raise ValueError(f"two different schemas are named {name}")
        return {"$ref": REF.format(model=name)}


def _success(spec: RouteSpec, schemas: _Schemas) -> dict[str, Any]:
    answer = spec.response
    request_id = REQUEST_ID
    if isinstance(answer, Binary):
        return {
            "200": {"description": answer.description, "headers": request_id,
                    "content": {answer.media_type: {"schema": {"type": "string",
                                                               "format": "binary"}}}},
            "302": {"description": "Too large for a direct answer: a 5-minute S3 URL",
                    "headers": {**request_id, "Location": {"schema": {"type": "string"},
                                                           "required": True}}},
        }
    if isinstance(answer, Text):
        content = {"schema": {"type": "string"}, **({"example": answer.example}
                                                     if answer.example else {})}
        return {"200": {"description": answer.description, "headers": request_id,
                        "content": {answer.media_type: content}}}
    if isinstance(answer, type) and issubclass(answer, BaseModel):
        schema = schemas.model(answer)
    else:  # a union of models
        schema = schemas.of(answer)
    own_doc = vars(answer).get("__doc__") if isinstance(answer, type) else None
    return {"200": {"description": (own_doc or "Success").strip(),
                    "headers": request_id,
                    "content": {"application/json": {"schema": schema}}}}


def _parameter_schema(schema: JsonSchemaValue) -> JsonSchemaValue:
    """A path or query value is a string on the wire and can never be null: an optional
    parameter is one that is left out."""
    schema = {key: value for key, value in schema.items() if key != "title"}
    if schema.get("default", 0) is None:
        del schema["default"]
    options = [option for option in schema.get("anyOf", []) if option != {"type": "null"}]
    if "anyOf" in schema and len(options) == 1:
        rest = {key: value for key, value in schema.items() if key != "anyOf"}
        return {**options[0], **rest}
    if "anyOf" in schema:
        schema["anyOf"] = options
    return schema


def _operation(spec: RouteSpec, schemas: _Schemas) -> dict[str, Any]:
    path_params = re.findall(r"{(\w+)}", spec.path)
    schema = schemas.of(spec.schema) if spec.schema else {"type": "object", "properties": {}}
    properties: dict[str, Any] = dict(schema.get("properties", {}))
    required = set(schema.get("required", []))
    parameters = [{"name": name, "in": "path", "required": True,
                   "schema": _parameter_schema(properties.pop(name, {"type": "string"}))}
                  for name in path_params]
    responses = _success(spec, schemas)
    for status, name in _statuses(spec, path_params).items():
        responses[status] = {"$ref": f"#/components/responses/{name}"}
    operation: dict[str, Any] = {
        "summary": spec.summary,
        "tags": [spec.tag],
        "operationId": "_".join([spec.method.lower(),
                                 re.sub(r"[^a-zA-Z0-9]+", "_", spec.path).strip("_")]),
        "responses": responses,
    }
    if spec.method in ("GET", "DELETE"):
        parameters += [{"name": name, "in": "query", "required": name in required,
                        "schema": _parameter_schema(prop)} for name, prop in properties.items()]
    elif properties or spec.schema is not None:
        body: dict[str, Any] = {"type": "object", "properties": properties,
                                "required": sorted(required - set(path_params))}
        if schema.get("additionalProperties") is False:
            body["additionalProperties"] = False
        content: dict[str, Any] = {"application/json": {"schema": body}}
        if spec.raw_body:
            content[RAW_TYPE] = {"schema": {"type": "string", "format": "binary"}}
        operation["requestBody"] = {"content": content,
                                    "required": bool(body["required"])}
    if parameters:
        operation["parameters"] = parameters
    return operation


def document() -> dict[str, Any]:
    """The whole document; built per call (cheap, and only asked for by tools)."""
    schemas = _Schemas()
    paths: dict[str, dict[str, Any]] = {}
    for spec in ROUTES:
        paths.setdefault(spec.path, {})[spec.method.lower()] = _operation(spec, schemas)
    schemas.components["Error"] = {
        "type": "object", "required": ["error", "code"],
        "properties": {"error": {"type": "string"}, "code": {"type": "string"},
                       "details": {"type": "object",
                                   "additionalProperties": {"type": "string"}},
                       "requestId": {"type": "string"}}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "WildDuck-compatible mail account API", "version": "1.0.0",
            "description": "Every error answer is `{error, code}` JSON: also a method a "
                           "path does not have (405 `MethodNotAllowed`, with `Allow`) and a "
                           "path no route has (404 `RouteNotFound`), which need no token.",
        },
        "components": {
            "securitySchemes": {
                "accessTokenQuery": {"type": "apiKey", "in": "query", "name": "accessToken"},
                "accessTokenHeader": {"type": "apiKey", "in": "header",
                                      "name": "X-Access-Token"},
                "bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": dict(sorted(schemas.components.items())),
            "responses": RESPONSES,
            "headers": {"RequestId": {"description": "Id of this request in the logs",
                                      "schema": {"type": "string"}, "required": True}},
        },
        "security": [{"accessTokenQuery": []}, {"accessTokenHeader": []}, {"bearer": []}],
        "paths": dict(sorted(paths.items())),
    }


bp = Blueprint(__name__)


@endpoint(bp, "/openapi.json", "GET", None, response=r.OpenApiDocument,
          summary="This document")
def openapi_document(params: dict[str, Any]) -> Response:
    return json_response(200, document())
