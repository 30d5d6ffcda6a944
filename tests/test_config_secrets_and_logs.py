"""A deployed stage does not start without its secrets, and no log line carries a secret."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib import logs
from chalicelib.config import ConfigurationError, reset_settings, settings

ROOT = Path(__file__).resolve().parent.parent
CURSOR_SECRET = "c" * 32
ACCESS_TOKEN = "deployment-token-0123456789"


@pytest.fixture
def deployed(monkeypatch):
    """A `prod` stage with both secrets set; tests unset what they are about."""
    monkeypatch.setenv("STAGE", "prod")
    monkeypatch.setenv("CURSOR_SECRET", CURSOR_SECRET)
    monkeypatch.setenv("ACCESS_TOKEN", ACCESS_TOKEN)
    monkeypatch.delenv("ALLOW_NO_ACCESS_TOKEN", raising=False)
    reset_settings()
    yield monkeypatch
    reset_settings()


def refusal() -> str:
    reset_settings()
    with pytest.raises(ConfigurationError) as caught:
        settings()
    return str(caught.value)


def test_deployed_stage_with_its_secrets_loads(deployed):
    config = settings()
    assert config.cursor_secret == CURSOR_SECRET and config.access_token == ACCESS_TOKEN


def test_deployed_stage_without_cursor_secret_refuses_to_load(deployed):
    deployed.delenv("CURSOR_SECRET")
    assert "CURSOR_SECRET" in refusal()


def test_deployed_stage_with_a_short_cursor_secret_refuses_to_load(deployed):
    deployed.setenv("CURSOR_SECRET", "short")
    assert "CURSOR_SECRET" in refusal()


def test_deployed_stage_without_access_token_refuses_to_load(deployed):
    deployed.delenv("ACCESS_TOKEN")
    assert "ACCESS_TOKEN" in refusal()


def test_deployed_stage_may_opt_out_of_the_access_token_and_stays_closed(deployed, api):
    deployed.delenv("ACCESS_TOKEN")
    deployed.setenv("ALLOW_NO_ACCESS_TOKEN", "true")
    reset_settings()
    assert settings().access_token == ""
    reply = api.get("/users")
    assert reply.status == 503 and reply["code"] == "ServiceUnavailable"


def test_deployed_stage_with_a_short_access_token_refuses_to_load(deployed):
    deployed.setenv("ACCESS_TOKEN", "letmein")
    assert "ACCESS_TOKEN" in refusal()


def test_the_local_stage_needs_no_secret(monkeypatch):
    monkeypatch.delenv("CURSOR_SECRET", raising=False)
    monkeypatch.delenv("ACCESS_TOKEN", raising=False)
    reset_settings()
    assert settings().cursor_secret  # the fixed local one


def test_a_totp_issuer_too_long_for_a_qr_code_refuses_to_load(monkeypatch):
    monkeypatch.setenv("TOTP_ISSUER", "\U0001F4E7" * 100)
    assert "TOTP_ISSUER" in refusal()


def test_importing_the_app_on_a_deployed_stage_without_secrets_fails_clearly():
    env = {key: value for key, value in os.environ.items()
           if key not in ("CURSOR_SECRET", "ACCESS_TOKEN", "ALLOW_NO_ACCESS_TOKEN")}
    env["STAGE"] = "prod"
    result = subprocess.run([sys.executable, "-c", "import app"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "ConfigurationError" in result.stderr and "CURSOR_SECRET" in result.stderr


# --------------------------------------------------------------------------- logs


@pytest.fixture
def token(monkeypatch):
    monkeypatch.setenv("ACCESS_TOKEN", ACCESS_TOKEN)
    reset_settings()
    yield ACCESS_TOKEN
    reset_settings()


def test_no_log_line_contains_a_query_string_token(api, token, monkeypatch, capsys):
    from chalicelib.services import users

    user_id = api.post("/users", {"username": "logtoken", "password": "pw"},
                       headers={"X-Access-Token": token})["id"]
    capsys.readouterr()
    assert api.get(f"/users?accessToken={token}").status == 200
    assert api.get("/users?accessToken=a-wrong-token-value").status == 403
    assert api.get(f"/users/{user_id}?accessToken=another-wrong-value").status == 403

    def explode(_):
        raise RuntimeError(f"failed for /users?accessToken={token} with Bearer {token}")

    monkeypatch.setattr(users, "get", explode)
    assert api.get(f"/users/{user_id}?accessToken={token}").status == 500
    logged = capsys.readouterr().out
    assert logged.count('"msg": "request"') == 4
    for secret in (token, "a-wrong-token-value", "another-wrong-value"):
        assert secret not in logged


def test_user_tokens_and_passwords_are_not_logged(api, make_user, capsys):
    make_user("logpw", password="pw-never-logged")
    reply = api.post("/authenticate", {"username": "logpw", "password": "pw-never-logged",
                                       "token": True})
    user_token = reply["token"]
    api.get("/users", headers={"Authorization": f"Bearer {user_token}"})
    api.get(f"/users?accessToken={user_token}")
    logged = capsys.readouterr().out
    assert user_token not in logged and "pw-never-logged" not in logged


def test_fields_named_like_secrets_are_redacted(capsys):
    logs.info("event", password="hunter2", accessToken="t0ken", seed="SEED", user="u1")
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["password"] == line["accessToken"] == line["seed"] == logs.REDACTED
    assert line["user"] == "u1"


@pytest.mark.parametrize("text, hidden", [
    ('"GET /users?accessToken=abc123 HTTP/1.1" 200', "abc123"),
    ("/x?a=1&access_token=zzz9&b=2", "zzz9"),
    ("Authorization: Bearer qwerty.123", "qwerty.123"),
    ("password=p%40ss&user=u", "p%40ss"),
])
def test_redact_hides_secret_parameters(text, hidden):
    assert hidden not in logs.redact(text)
    assert logs.REDACTED in logs.redact(text)


def test_chalice_local_access_line_hides_the_query_token(monkeypatch):
    from chalice import local

    logs.redact_local_server_log()
    handler = local.ChaliceRequestHandler.__new__(local.ChaliceRequestHandler)
    handler.requestline = "GET /users?limit=5&accessToken=local-secret-token HTTP/1.1"
    handler.client_address = ("127.0.0.1", 1234)
    handler.request_version = "HTTP/1.1"
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    handler.log_request(200)
    line = stderr.getvalue()
    assert "limit=5" in line and "local-secret-token" not in line and logs.REDACTED in line


def test_lines_inside_a_bound_block_carry_its_fields(capsys):
    from chalicelib import logs
    with logs.bound(requestId="req-123"):
        logs.warning("could not delete upload", uploadId="u1")
    logs.info("outside")
    first, second = [json.loads(line) for line in capsys.readouterr().out.splitlines()[-2:]]
    assert first["requestId"] == "req-123" and first["uploadId"] == "u1"
    assert "requestId" not in second
