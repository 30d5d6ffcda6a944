"""Cross-cutting HTTP behaviour: access token, errors, logs, OpenAPI."""
from __future__ import annotations

import json

import pytest

from chalicelib.config import reset_settings


@pytest.fixture
def token(monkeypatch):
    monkeypatch.setenv("ACCESS_TOKEN", "s3cret-token")
    reset_settings()
    yield "s3cret-token"
    monkeypatch.delenv("ACCESS_TOKEN")
    reset_settings()


def test_missing_token_is_invalid_token(api, token):
    reply = api.get("/users")
    assert reply.status == 403 and reply["code"] == "InvalidToken"


def test_wrong_token_is_invalid_token(api, token):
    assert api.get("/users?accessToken=nope")["code"] == "InvalidToken"


@pytest.mark.parametrize("how", ["query", "header", "bearer"])
def test_token_is_accepted_three_ways(api, token, how):
    if how == "query":
        reply = api.get(f"/users?accessToken={token}")
    elif how == "header":
        reply = api.get("/users", headers={"X-Access-Token": token})
    else:
        reply = api.get("/users", headers={"Authorization": f"Bearer {token}"})
    assert reply.status == 200, reply


def test_access_token_is_not_a_parameter_of_strict_endpoints(api, token, make_user):
    reply = api.post(f"/users?accessToken={token}", {"username": "tok", "password": "pw"})
    assert reply.status == 200, reply


def test_deployed_stage_without_token_refuses_everything(api, monkeypatch):
    # Such a stage only loads when it says so (config.ConfigurationError otherwise).
    monkeypatch.setenv("STAGE", "prod")
    monkeypatch.setenv("CURSOR_SECRET", "c" * 32)
    monkeypatch.setenv("ALLOW_NO_ACCESS_TOKEN", "true")
    reset_settings()
    try:
        reply = api.get("/users")
        assert reply.status == 503 and reply["code"] == "ServiceUnavailable"
    finally:
        monkeypatch.setenv("STAGE", "local")
        reset_settings()


def test_unexpected_error_is_500_without_internals(api, monkeypatch, capsys):
    from chalicelib.services import users

    def explode(_):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(users, "get", explode)
    user_id = api.post("/users", {"username": "boom", "password": "pw"})["id"]
    reply = api.get(f"/users/{user_id}")
    assert reply.status == 500
    assert reply["code"] == "InternalError"
    assert "secret internal detail" not in reply.raw.decode()
    logged = capsys.readouterr().out
    assert reply["requestId"] in logged and "secret internal detail" in logged


def test_one_json_log_line_per_request(api, capsys):
    capsys.readouterr()
    api.get("/users")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    requests = [line for line in lines if line["msg"] == "request"]
    assert len(requests) == 1
    assert requests[0]["status"] == 200 and requests[0]["method"] == "GET"
    assert {"requestId", "route", "latencyMs"} <= set(requests[0])


def test_no_response_or_log_line_contains_a_password_hash(api, make_user, capsys):
    from chalicelib.store.users import UserItem
    user_id = make_user("hashcheck", password="pw-to-hide")
    api.post("/authenticate", {"username": "hashcheck", "password": "pw-to-hide"})
    api.post("/authenticate", {"username": "hashcheck", "password": "wrong"})
    temp = api.post(f"/users/{user_id}/password/reset")["password"]
    item = UserItem.get(user_id)
    secrets = [item.password, item.tempPassword["hash"], "pw-to-hide"]
    bodies = [api.get(f"/users/{user_id}").raw, api.get("/users").raw,
              api.get(f"/users/{user_id}/authlog").raw]
    logged = capsys.readouterr().out
    for secret in secrets:
        assert all(secret.encode() not in body for body in bodies)
        assert secret not in logged
    assert "$argon2" not in logged and temp not in logged


def test_openapi_describes_every_route_with_its_schema(api):
    doc = api.get("/openapi.json").json
    assert doc["openapi"].startswith("3.")
    create = doc["paths"]["/users"]["post"]
    props = create["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert {"username", "password", "address", "emptyAddress", "pubKey"} <= set(props)
    assert doc["paths"]["/users/{user}"]["get"]["parameters"][0]["name"] == "user"
    assert "/authenticate" in doc["paths"] and "/users/{user}/authlog" in doc["paths"]
