"""The OpenAPI 3.1 document, built from the route table and the request schemas."""
from __future__ import annotations

import re
from typing import Any

from chalicelib.api.http import ROUTES, RouteSpec

_ERROR = {
    "type": "object",
    "properties": {"error": {"type": "string"}, "code": {"type": "string"},
                   "details": {"type": "object", "additionalProperties": {"type": "string"}}},
    "required": ["error", "code"],
}


def _operation(spec: RouteSpec) -> dict[str, Any]:
    path_params = re.findall(r"{(\w+)}", spec.path)
    schema = spec.schema.model_json_schema() if spec.schema else {"type": "object"}
    properties: dict[str, Any] = dict(schema.get("properties", {}))
    required = set(schema.get("required", []))
    parameters = [{"name": name, "in": "path", "required": True,
                   "schema": properties.pop(name, {"type": "string"})} for name in path_params]
    operation: dict[str, Any] = {
        "summary": spec.summary,
        "tags": [spec.tag],
        "operationId": f"{spec.method.lower()}_{re.sub(r'[^a-zA-Z0-9]+', '_', spec.path).strip('_')}",
        "responses": {
            "200": {"description": "Success",
                    "content": {"application/json": {"schema": {
                        "type": "object", "properties": {"success": {"const": True}}}}}},
            "400": {"description": "Invalid input",
                    "content": {"application/json": {"schema": _ERROR}}},
            "403": {"description": "Not allowed",
                    "content": {"application/json": {"schema": _ERROR}}},
            "404": {"description": "Not found",
                    "content": {"application/json": {"schema": _ERROR}}},
        },
    }
    if spec.method in ("GET", "DELETE"):
        parameters += [{"name": name, "in": "query", "required": name in required,
                        "schema": prop} for name, prop in properties.items()]
    elif properties:
        body = {"type": "object", "properties": properties, "additionalProperties": False,
                "required": sorted(required - set(path_params))}
        if "$defs" in schema:
            body["$defs"] = schema["$defs"]
        content: dict[str, Any] = {"application/json": {"schema": body}}
        if spec.raw_body:
            content["message/rfc822"] = {"schema": {"type": "string", "format": "binary"}}
        operation["requestBody"] = {"content": content}
    if parameters:
        operation["parameters"] = parameters
    return operation


def document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for spec in ROUTES:
        paths.setdefault(spec.path, {})[spec.method.lower()] = _operation(spec)
    return {
        "openapi": "3.1.0",
        "info": {"title": "WildDuck-compatible mail account API", "version": "1.0.0"},
        "components": {"securitySchemes": {
            "accessTokenQuery": {"type": "apiKey", "in": "query", "name": "accessToken"},
            "accessTokenHeader": {"type": "apiKey", "in": "header", "name": "X-Access-Token"},
            "bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"accessTokenQuery": []}, {"accessTokenHeader": []}, {"bearer": []}],
        "paths": dict(sorted(paths.items())),
    }
