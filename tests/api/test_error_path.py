"""One error shape for every answer: unknown routes, wrong methods and content types too.

Chalice and API Gateway have their own answers for these (403 "Missing Authentication
Token", `{Code, Message}` 405 and 415); the edge must answer `{error, code}` instead,
through the test client here and through `chalice local` in tests/e2e.
"""
from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
import yaml

from chalicelib.config import reset_settings

ROOT = Path(__file__).resolve().parents[2]


def _headers(reply) -> dict[str, str]:
    return {name.lower(): value for name, value in reply.headers.items()}


def _is_error(reply, status: int, code: str) -> None:
    assert reply.status == status, reply
    assert reply.json is not None and set(reply.json) >= {"error", "code"}, reply
    assert reply["code"] == code, reply
    assert _headers(reply)["content-type"].startswith("application/json")


@pytest.fixture
def token(monkeypatch):
    monkeypatch.setenv("ACCESS_TOKEN", "edge-token")
    reset_settings()
    yield "edge-token"
    monkeypatch.delenv("ACCESS_TOKEN")
    reset_settings()


@pytest.mark.parametrize("path", ["/", "/nothere", "/users/000000000000000000000000/nothing",
                                  "/users/a/b/c/d/e/f/g/h/i/j/k", "/openapi.json/x"])
def test_unknown_route_is_404_route_not_found(api, path):
    _is_error(api.get(path), 404, "RouteNotFound")


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE", "PATCH"])
def test_unknown_route_is_404_for_every_method(api, method):
    _is_error(api.call(method, "/no/such/route", body={}), 404, "RouteNotFound")


def test_unknown_route_needs_no_token(api, token):
    """API Gateway answers unknown routes before the function runs: so does the edge."""
    _is_error(api.get("/nothere"), 404, "RouteNotFound")


@pytest.mark.parametrize("method, path, allowed", [
    ("PATCH", "/users", "GET, POST"),
    ("POST", "/users/000000000000000000000000", "DELETE, GET, PUT"),
    ("DELETE", "/openapi.json", "GET"),
    ("PATCH", "/users/000000000000000000000000/mailboxes/000000000000000000000000/messages",
     "DELETE, GET, POST, PUT"),
])
def test_wrong_method_is_405_with_allow(api, method, path, allowed):
    reply = api.call(method, path, body={})
    _is_error(reply, 405, "MethodNotAllowed")
    assert _headers(reply)["allow"] == allowed


def test_wrong_method_answers_before_the_access_check(api, token):
    reply = api.call("PATCH", "/users", body={})
    _is_error(reply, 405, "MethodNotAllowed")


@pytest.mark.parametrize("content_type", ["text/html", "application/xml",
                                          "multipart/form-data; boundary=x"])
def test_unsupported_content_type_is_415(api, content_type):
    reply = api.call("POST", "/users", raw=b'{"username": "ct", "password": "pw"}',
                     headers={"content-type": content_type})
    _is_error(reply, 415, "UnsupportedMediaType")


def test_raw_source_is_only_for_message_uploads(api):
    reply = api.call("POST", "/users", raw=b"Subject: x\r\n\r\nhi",
                     headers={"content-type": "message/rfc822"})
    _is_error(reply, 415, "UnsupportedMediaType")


def test_content_type_of_an_empty_body_does_not_matter(api):
    reply = api.get("/users", headers={"content-type": "text/html"})
    assert reply.status == 200, reply


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8",
                                          "text/plain", "application/x-www-form-urlencoded"])
def test_accepted_content_types(api, content_type):
    body = b"username=ct1&password=pw" if "form" in content_type else \
        b'{"username": "ct1", "password": "pw"}'
    reply = api.call("POST", "/users", raw=body, headers={"content-type": content_type})
    assert reply.status == 200, reply


def test_an_attachment_of_any_type_downloads_without_accept(api, make_user):
    """Chalice refuses (400, its own shape) a response whose type is in binary_types when
    Accept does not name it; no response type may be listed there."""
    user = make_user("bin", address="bin@example.com")
    inbox = api.get(f"/users/{user}/mailboxes/resolve?path=INBOX")["id"]
    content = b"<plist/>"
    upload = api.post(f"/users/{user}/mailboxes/{inbox}/messages", {
        "from": "bin@example.com", "subject": "profile", "text": "see attached",
        "attachments": [{"filename": "p.mobileconfig",
                         "contentType": "application/x-apple-aspen-config",
                         "content": base64.b64encode(content).decode()}]})
    assert upload.status == 200, upload
    uid = upload["message"]["id"]
    reply = api.get(f"/users/{user}/mailboxes/{inbox}/messages/{uid}/attachments/ATT00001",
                    headers={"accept": "text/html"})
    assert reply.status == 200, reply
    assert reply.raw == content


def _gateway_responses() -> dict:
    template = yaml.safe_load((ROOT / "infra" / "tables.yaml").read_text())
    body = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    return body["x-amazon-apigateway-gateway-responses"]


@pytest.mark.parametrize("kind, status, code", [
    ("MISSING_AUTHENTICATION_TOKEN", "404", "RouteNotFound"),
    ("UNSUPPORTED_MEDIA_TYPE", "415", "UnsupportedMediaType"),
])
def test_deployed_gateway_answers_in_the_same_shape(kind, status, code):
    response = _gateway_responses()[kind]
    assert response["statusCode"] == status
    body = json.loads(response["responseTemplates"]["application/json"])
    assert body["code"] == code and body["error"]


@pytest.mark.parametrize("kind", ["DEFAULT_4XX", "DEFAULT_5XX"])
def test_deployed_gateway_defaults_are_json_in_our_shape(kind):
    template = _gateway_responses()[kind]["responseTemplates"]["application/json"]
    # $context.error.messageString is already a quoted JSON string; fill in examples.
    filled = template.replace("$context.error.messageString", '"Forbidden"') \
                     .replace("$context.requestId", "abc-123")
    body = json.loads(filled)
    assert set(body) >= {"error", "code"}


def test_route_tree_is_deployable(app):
    """API Gateway refuses two variable children of one resource with different names."""
    children: dict[str, set[str]] = {}
    for path in app.routes:
        parts = path.strip("/").split("/")
        for depth, part in enumerate(parts):
            if part.startswith("{"):
                children.setdefault("/".join(parts[:depth]), set()).add(part)
    clashes = {parent: names for parent, names in children.items() if len(names) > 1}
    assert not clashes


def test_every_path_answers_every_method(app):
    from chalicelib.api.routing import METHODS
    assert all(set(entries) == set(METHODS) for entries in app.routes.values())


def test_a_failing_access_check_is_answered_in_the_same_shape(api, monkeypatch):
    from chalicelib.api import http

    def broken(request):
        raise RuntimeError("token store down")

    monkeypatch.setattr(http, "check_access", broken)
    reply = api.get("/users")
    _is_error(reply, 500, "InternalError")
    assert "token store down" not in reply.raw.decode()


def test_a_header_chalice_would_refuse_is_answered_in_the_same_shape(api, monkeypatch):
    """Chalice turns a header value with a line break into its own 500 after the view."""
    from chalice import Response

    from chalicelib.api import users

    monkeypatch.setattr(users.users, "listing", lambda params: None)
    monkeypatch.setattr(users, "shaped", lambda *args: [])
    monkeypatch.setattr(users, "page_response",
                        lambda *args, **kw: Response(body="", headers={"X-Bad": "a\nb"}))
    _is_error(api.get("/users"), 500, "InternalError")
