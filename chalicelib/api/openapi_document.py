"""The OpenAPI 3.1 document, built from the route table: request schemas, response
models (api/responses.py) and the statuses each route can answer. Loaded with its route
(api/openapi.py), never at a cold start: it pulls in every model.

Every schema lands in `components.schemas` and is referenced as
`#/components/schemas/<Name>`, so each `$ref` resolves against the document itself
(pydantic's default `#/$defs/...` would dangle once embedded).
"""
from __future__ import annotations

import re
from typing import Any, Callable, get_args

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from chalicelib import validation
from chalicelib.api.http import (RAW_TYPE, ROUTES, Binary, RouteSpec, Text, answer_model,
                                 schema_model)
from chalicelib.schemas import asps, common, mailboxes, messages

REF = "#/components/schemas/{model}"
# An event stream's schema describes one event (OpenAPI 3.1): its `data` (JSON of the
# journal entry, as text), the event type, the journal id it carries and the retry hint.
_SSE_EVENT: dict[str, Any] = {
    "type": "object", "required": ["data"],
    "properties": {"data": {"type": "string"}, "event": {"type": "string"},
                   "id": {"type": "string", "pattern": "^[0-9]+$"},
                   "retry": {"type": "integer", "minimum": 0}},
}
ID_INPUT = {"type": "string", "pattern": "^[0-9a-fA-F]{24}$",
            "description": "24-hex id (any case)"}
_EMAIL = {"type": "string", "format": "email"}
_ADDRESS_OBJECT = {"type": "object", "additionalProperties": False, "required": ["address"],
                   "properties": {"name": {"type": ["string", "null"], "maxLength": 256},
                                  "address": _EMAIL}}
_ADDRESS_IN = {"anyOf": [_EMAIL, _ADDRESS_OBJECT]}
_DATE = {"anyOf": [{"type": "integer", "description": "epoch milliseconds"},
                   {"type": "string", "format": "date-time"}]}
BOOLEAN_WORDS = ["true", "1", "yes", "on", "y", "false", "0", "no", "off", "n"]
_SEGMENT = r"[^/\x00-\x1f\x7f]{1,512}"
_USERNAME_PART = "[A-Za-z0-9-]+"


def _any_case(words: list[str]) -> str:
    """A regex alternation matching each word in any letter case (JSON Schema patterns
    have no case-insensitive flag)."""
    return "|".join("".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c)
                            for c in word) for word in words)


def _list_of(items: JsonSchemaValue) -> JsonSchemaValue:
    """A list, or the same values comma separated (forms and query strings)."""
    if "enum" not in items:
        return {"anyOf": [{"type": "array", "items": items}, {"type": "string"}]}
    words = "|".join(re.escape(value) for value in items["enum"])
    return {"anyOf": [{"type": "array", "items": items},
                      {"type": "string",
                       "pattern": rf"^\s*(({words})(\s*,\s*({words}))*)?\s*$"}]}


def _or_empty(inner: JsonSchemaValue) -> JsonSchemaValue:
    """An empty string means "not given"."""
    return {"anyOf": [inner, {"const": ""}]}


def validator_of(annotated: Any) -> Callable[..., Any]:
    """The function of the outermost validator of an Annotated field type (nested
    Annotated types are flattened, the outermost last)."""
    return [meta.func for meta in get_args(annotated)[1:] if hasattr(meta, "func")][-1]


# What the input types with custom validators accept on the wire, where their Python
# type says less (or something else). A value is a schema, or a function of the schema
# of the inner type (which carries the field's own constraints).
Described = JsonSchemaValue | Callable[[JsonSchemaValue], JsonSchemaValue]
INPUT_SCHEMAS: dict[Callable[..., Any], Described] = {
    validator_of(validation.ObjectId): ID_INPUT,
    validator_of(validation.Bool): {"anyOf": [
        {"type": "boolean"}, {"enum": [0, 1]},
        {"type": "string", "description": "WildDuck's boolean words; empty means not given",
         "pattern": rf"^\s*({_any_case(BOOLEAN_WORDS)})?\s*$"}]},
    validator_of(validation.Int): _or_empty,
    validator_of(validation.IpAddress): {"anyOf": [{"type": "string", "format": "ipv4"},
                                                 {"type": "string", "format": "ipv6"},
                                                 {"const": ""}]},
    validator_of(validation.CsvList): lambda inner: _list_of(inner.get("items", {})),
    validator_of(common.Username): {
        "type": "string", "maxLength": 128,
        "pattern": rf"^\s*{_USERNAME_PART}([._=:]{_USERNAME_PART})*"
                   rf"(@{_USERNAME_PART}(\.{_USERNAME_PART})*)?\s*$"},
    validator_of(common.Address): _EMAIL,
    validator_of(common.Password): {"anyOf": [{"type": "string", "maxLength": 256},
                                              {"const": False}],
                                    "description": "false or empty: no password"},
    validator_of(common.Language): _or_empty,
    validator_of(common.Scopes): _list_of({"enum": list(common.SCOPES)}),
    validator_of(asps.AspScopes): _list_of({"enum": [*asps.ASP_SCOPES, asps.ALL]}),
    validator_of(mailboxes.MailboxPath): {
        "type": "string", "pattern": rf"^/*{_SEGMENT}(/{_SEGMENT})*/*$",
        "description": "Folders separated by /; INBOX in any case is the inbox"},
    validator_of(messages.Uid): {"type": "integer", "minimum": 1, "maximum": 2**32 - 1},
    validator_of(messages.Target): {
        "type": "string", "maxLength": 4096,
        "pattern": r"^\d{1,10}(:(\d{1,10}|\*))?(,\d{1,10}(:(\d{1,10}|\*))?)*$",
        "description": "A uid, a comma separated list, or ranges like 1:5 and 5:*"},
    validator_of(messages.EpochMs): _DATE,
    validator_of(messages.Expires): {
        "anyOf": [{"type": "integer", "minimum": 0, "maximum": messages.MAX_DATE_MS,
                   "description": "epoch milliseconds"},
                  {"type": "string", "format": "date-time"}, {"const": False}],
        "description": "A date from 1970 to 9999; false clears it"},
    validator_of(messages.AddressIn): _ADDRESS_IN,
    validator_of(messages.AddressList): {"anyOf": [_ADDRESS_IN, {
        "type": "array", "maxItems": 500, "items": _ADDRESS_IN}]},
    validator_of(messages.Raw): {"type": "string",
                               "description": "RFC 822 source, as text or base64"},
}


class _Generator(GenerateJsonSchema):
    """Pydantic's generator, with the wire formats of the custom input types."""

    def _described(self, schema: Any, inner: Callable[[], JsonSchemaValue]) -> JsonSchemaValue:
        known = INPUT_SCHEMAS.get(schema["function"]["function"])
        if known is None:
            return inner()
        return known(inner()) if callable(known) else dict(known)

    def function_before_schema(
            self, schema: core_schema.BeforeValidatorFunctionSchema) -> JsonSchemaValue:
        return self._described(schema, lambda: super(_Generator, self)
                               .function_before_schema(schema))

    def function_after_schema(
            self, schema: core_schema.AfterValidatorFunctionSchema) -> JsonSchemaValue:
        return self._described(schema, lambda: super(_Generator, self)
                               .function_after_schema(schema))

    def chain_schema(self, schema: core_schema.ChainSchema) -> JsonSchemaValue:
        """A before-validator followed by constraints it could not carry (a pattern):
        pydantic describes only the first step and loses them; the last step has the
        type with its constraints."""
        first, last = schema["steps"][0], schema["steps"][-1]
        if first["type"] != "function-before":
            return super().chain_schema(schema)
        return self._described(first, lambda: self.generate_inner(last))


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
    its own `ge`/`le` keys, which JSON Schema (and so every client and fuzzer) ignores;
    on a wire format with several forms they belong to the numeric one."""
    if isinstance(value, list):
        return [_json_bounds(item) for item in value]
    if not isinstance(value, dict):
        return value
    bounds = {key: value[key] for key in _BOUNDS if key in value}
    if bounds and "anyOf" in value and "type" not in value:
        value = {key: item for key, item in value.items() if key not in bounds}
        value["anyOf"] = [{**option, **bounds} if option.get("type") in ("integer", "number")
                          else option for option in value["anyOf"]]
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
    answer = answer_model(spec.response) if isinstance(spec.response, str) else spec.response
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
        schema: JsonSchemaValue = _SSE_EVENT if answer.media_type == "text/event-stream" \
            else {"type": "string"}
        content = {"schema": schema, **({"example": answer.example} if answer.example else {})}
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
    schema = (schemas.of(schema_model(spec.schema)) if spec.schema
              else {"type": "object", "properties": {}})
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

