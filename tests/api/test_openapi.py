"""The OpenAPI document: complete (every route, every answer), self-contained (every
`$ref` resolves) and true (real answers validate against it)."""
from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from chalicelib.api.routing import catch_all_paths

ID_PARAMS = {"user", "mailbox", "address", "asp", "moveTo"}
PLACEHOLDER = {"type": "object", "properties": {"success": {"const": True}}}


@pytest.fixture
def doc(api) -> dict[str, Any]:
    reply = api.get("/openapi.json")
    assert reply.status == 200
    return reply.json


def _refs(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [value["$ref"]] if isinstance(value.get("$ref"), str) else []
        return found + [ref for item in value.values() for ref in _refs(item)]
    if isinstance(value, list):
        return [ref for item in value for ref in _refs(item)]
    return []


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"dangling $ref {ref}"
        node = node[part]
    return node


def _deref(doc: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        node = _resolve(doc, node["$ref"])
    return node


def test_every_ref_resolves(doc):
    refs = _refs(doc)
    assert len(refs) > 100
    for ref in set(refs):
        _resolve(doc, ref)


def _operations(doc):
    for path, methods in doc["paths"].items():
        for method, operation in methods.items():
            yield path, method.upper(), operation


def test_every_registered_route_is_documented(app, doc):
    fallbacks = set(catch_all_paths())
    # Routes the API refuses on purpose (api/out_of_scope.py) describe nothing it does.
    registered = {(path, method) for path, entries in app.routes.items()
                  if path not in fallbacks
                  for method, entry in entries.items() if entry.view_name != "method_not_allowed"
                  and not entry.view_name.startswith("not_supported_")}
    documented = {(path, method) for path, method, _ in _operations(doc)}
    assert registered == documented


def test_every_operation_has_a_specific_success_schema(doc):
    for path, method, operation in _operations(doc):
        success = _deref(doc, operation["responses"]["200"])
        (media_type, content), = success["content"].items()
        schema = content["schema"]
        assert schema != PLACEHOLDER, (method, path)
        if schema.get("format") == "binary":
            assert "302" in operation["responses"], (method, path)
            continue
        if media_type == "text/event-stream":  # the updates stream: one event, an example
            assert schema["required"] == ["data"] and content["example"], (method, path)
            assert set(schema["properties"]) == {"data", "event", "id", "retry"}
            continue
        assert media_type == "application/json"
        options = [_deref(doc, option) for option in schema.get("anyOf", [schema])]
        for option in options:
            if path == "/openapi.json":
                assert {"openapi", "paths"} <= set(option["required"])
                continue
            assert "success" in option["required"], (method, path)
            assert option["additionalProperties"] is False, (method, path)


def test_downloads_are_binary_with_a_redirect(doc):
    base = "/users/{user}/mailboxes/{mailbox}/messages/{message}"
    source = doc["paths"][base + "/message.eml"]["get"]["responses"]
    assert source["200"]["content"]["message/rfc822"]["schema"]["format"] == "binary"
    assert source["302"]["headers"]["Location"]["required"] is True
    attachment = doc["paths"][base + "/attachments/{attachment}"]["get"]["responses"]
    assert attachment["200"]["content"]["*/*"]["schema"] == {"type": "string",
                                                             "format": "binary"}


def test_ids_carry_their_pattern(doc):
    for path, method, operation in _operations(doc):
        if path.startswith("/addresses/resolve/"):
            continue  # {address} is an email address there
        for parameter in operation.get("parameters", []):
            if parameter["name"] in ID_PARAMS or (parameter["name"] == "message"
                                                  and "/archived/" in path):
                assert parameter["schema"]["pattern"] == "^[0-9a-fA-F]{24}$", (path, parameter)
    summary = doc["components"]["schemas"]["UserSummary"]["properties"]["id"]
    assert summary["pattern"] == "^[0-9a-f]{24}$"


def test_statuses_a_route_can_answer(doc):
    responses = doc["paths"]["/users/{user}/mailboxes/{mailbox}"]["put"]["responses"]
    assert {"200", "400", "403", "404", "409", "415", "500"} <= set(responses)
    listing = doc["paths"]["/users"]["get"]["responses"]
    assert "404" not in listing and "409" not in listing
    errors = doc["components"]["responses"]
    assert "Allow" in errors["MethodNotAllowed"]["headers"]
    assert "RouteNotFound" in errors


def test_numbers_bounds_are_json_schema(doc):
    limit = next(p for p in doc["paths"]["/users"]["get"]["parameters"] if p["name"] == "limit")
    number, empty = limit["schema"]["anyOf"]  # an empty value means the default
    assert number == {"type": "integer", "minimum": 1, "maximum": 250} and empty == {"const": ""}
    assert not re.search(r'"(ge|le|gt|lt)":', json.dumps(doc))


def test_query_parameters_are_never_null(doc):
    for _path, _method, operation in _operations(doc):
        for parameter in operation.get("parameters", []):
            assert {"type": "null"} not in parameter["schema"].get("anyOf", []), parameter


# Real answers against the document.

class Checker:
    """Calls through the test client and validates each answer against its operation."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.checked: set[tuple[str, str]] = set()

    def template(self, method: str, path: str) -> str:
        path = path.split("?")[0]
        for candidate in self.doc["paths"]:
            pattern = re.sub(r"\{\w+\}", "[^/]+", candidate)
            if re.fullmatch(pattern, path) and method.lower() in self.doc["paths"][candidate]:
                literal = [c for c in self.doc["paths"] if c == path]
                return literal[0] if literal else candidate
        raise AssertionError(f"{method} {path} is not documented")

    def check(self, method: str, path: str, reply: Any) -> Any:
        template = self.template(method, path)
        operation = self.doc["paths"][template][method.lower()]
        assert str(reply.status) in operation["responses"], (method, path, reply)
        response = _deref(self.doc, operation["responses"][str(reply.status)])
        if "content" in response and "application/json" in response["content"]:
            schema = response["content"]["application/json"]["schema"]
            # `#/components/...` refs resolve against this root, as against the document.
            validator = Draft202012Validator({**schema, "components": self.doc["components"]},
                                             format_checker=Draft202012Validator.FORMAT_CHECKER)
            errors = sorted(validator.iter_errors(reply.json), key=str)
            assert not errors, (method, template, errors[0].message, list(errors[0].path))
        self.checked.add((method, template))
        return reply


@pytest.fixture
def checked(api, doc):
    checker = Checker(doc)

    def call(method: str, path: str, body: Any = None, **kw: Any) -> Any:
        if method in ("POST", "PUT") and body is None and "raw" not in kw:
            body = {}
        return checker.check(method, path, api.call(method, path, body, **kw))
    call.checker = checker  # type: ignore[attr-defined]
    return call


def test_real_answers_match_the_document(checked, make_user):
    user = make_user("docs", address="docs@example.com")
    u = f"/users/{user}"
    checked("GET", "/users")
    checked("GET", u)
    checked("PUT", u, {"name": "Doc User", "tags": "a,b"})
    checked("GET", "/users?query=docs&tags=a")
    checked("POST", "/authenticate", {"username": "docs", "password": "secret-pass",
                                      "token": True})
    checked("GET", f"{u}/authlog")
    checked("GET", f"{u}/addresses")
    alias = checked("POST", f"{u}/addresses", {"address": "alias@example.com"})["id"]
    checked("GET", f"{u}/addresses/{alias}")
    checked("GET", "/addresses")
    checked("GET", "/addresses/resolve/alias@example.com")
    checked("DELETE", f"{u}/addresses/{alias}")
    asp = checked("POST", f"{u}/asps", {"description": "phone", "scopes": ["imap", "smtp"],
                                        "generateMobileconfig": True})["id"]
    checked("GET", f"{u}/asps")
    checked("GET", f"{u}/asps/{asp}")
    checked("POST", f"{u}/2fa/totp/setup", {})
    checked("GET", f"{u}/mailboxes?counters=true")
    checked("GET", f"{u}/mailboxes")
    inbox = checked("GET", f"{u}/mailboxes/resolve?path=INBOX")["id"]
    box = checked("POST", f"{u}/mailboxes", {"path": "Work/Projects"})["id"]
    checked("GET", f"{u}/mailboxes/{box}")
    checked("PUT", f"{u}/mailboxes/{box}", {"path": "Work/Done"})
    messages = f"{u}/mailboxes/{inbox}/messages"
    raw = (b"From: A <a@example.com>\r\nTo: docs@example.com\r\nSubject: Hi\r\n"
           b"Message-ID: <m1@example.com>\r\nList-ID: <list.example.com>\r\n"
           b"Content-Type: text/plain\r\n\r\nHello\r\n")
    checked("POST", messages, raw=raw, headers={"content-type": "message/rfc822"})
    uid = checked("POST", messages, {
        "from": {"name": "B", "address": "b@example.com"}, "to": ["docs@example.com"],
        "subject": "With file", "text": "see", "flagged": True,
        "attachments": [{"filename": "a.txt", "contentType": "text/plain",
                         "content": base64.b64encode(b"hello").decode()}]})["message"]["id"]
    checked("GET", messages)
    checked("GET", f"{messages}?unseen=true")
    checked("GET", f"{u}/flagged")
    checked("GET", f"{messages}/{uid}")
    checked("GET", f"{messages}/{uid}/message.eml")
    checked("GET", f"{messages}/{uid}/attachments/ATT00001")
    checked("GET", f"{messages}/{uid}/events")
    checked("PUT", f"{messages}/{uid}", {"seen": True})
    checked("PUT", f"{messages}/1", {"moveTo": box})
    checked("POST", f"{u}/uploads")
    checked("DELETE", f"{messages}/{uid}")
    archived = checked("GET", f"{u}/archived")["results"][0]["id"]
    checked("GET", f"{u}/archived/messages")
    checked("GET", f"{u}/archived/{archived}")
    checked("GET", f"{u}/archived/messages/{archived}")
    checked("POST", f"{u}/archived/{archived}/restore", {})
    checked("POST", f"{u}/quota/reset", {})
    checked("PUT", f"{u}/logout", {"reason": "test"})
    checked("POST", f"{u}/password/reset", {})
    checked("DELETE", f"{u}/asps/{asp}")
    checked("DELETE", f"{u}/2fa")
    checked("DELETE", f"{u}/mailboxes/{box}")
    checked("GET", f"{u}/mailboxes/{box}")  # 404 in the error shape
    checked("GET", "/openapi.json")
    checked("DELETE", u)
    assert len(checked.checker.checked) >= 43


def test_error_answers_match_the_document(checked):
    checked("GET", "/users/not-an-id")
    checked("GET", "/users/000000000000000000000000")
    checked("POST", "/users", {"username": "x"})
    checked("POST", "/authenticate", {"username": "nobody", "password": "x"})


def test_wire_formats_agree_with_the_validators():
    """The document's description of WildDuck inputs accepts what the schemas accept."""
    from pydantic import TypeAdapter

    from chalicelib import validation
    from chalicelib.api.openapi_document import BOOLEAN_WORDS, INPUT_SCHEMAS, validator_of

    words = INPUT_SCHEMAS[validator_of(validation.Bool)]["anyOf"][2]["pattern"]
    for word in BOOLEAN_WORDS + [" Yes ", "TRUE", ""]:
        assert re.match(words, word), word
        if word.strip():
            TypeAdapter(validation.Bool).validate_python(word)
    assert not re.match(words, "maybe")

