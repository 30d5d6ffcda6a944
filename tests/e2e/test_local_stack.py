"""The README's path, for real: `devstack.run` (moto server + chalice local) and HTTP.

One stack per module; it costs a few seconds, and proves that the local runner, table
creation from infra/, stage configuration and the HTTP edge work together.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def aws() -> Iterator[None]:
    """This module talks to its own moto server, not the in-process mock."""
    yield


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def stack() -> Iterator[str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"PORT": str(port), "ACCESS_TOKEN": "e2e-token"})
    for key in ("TABLE_PREFIX", "MAIL_BUCKET", "STAGE", "KMS_KEY_ID", "PASSWORD_HASH_PROFILE"):
        env.pop(key, None)
    process = subprocess.Popen([sys.executable, "-m", "devstack.run"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    deadline = time.monotonic() + 90
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        lines.append(line)
        if "[api    ] ready" in line or process.poll() is not None:
            break
    assert any("[api    ] ready" in line for line in lines), "".join(lines)
    assert any("[tables ] ready" in line for line in lines)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=30)
        assert "[moto   ] stopped" in rest


def _call(base: str, method: str, path: str, body: Any = None, token: str | None = "e2e-token"):
    headers = {"X-Access-Token": token} if token else {}
    return requests.request(method, base + path, json=body, headers=headers, timeout=30)


def test_readme_flow_against_the_local_stack(stack):
    created = _call(stack, "POST", "/users", {"username": "testuser", "password": "secretpass",
                                              "address": "testuser@example.com",
                                              "ip": "192.168.10.10"})
    assert created.status_code == 200, created.text
    user = created.json()["id"]
    assert _call(stack, "GET", f"/users/{user}").json()["address"] == "testuser@example.com"
    auth = _call(stack, "POST", "/authenticate", {"username": "testuser@example.com",
                                                  "password": "secretpass", "scope": "imap"})
    assert auth.json()["id"] == user
    log = _call(stack, "GET", f"/users/{user}/authlog").json()
    assert [e["action"] for e in log["results"]] == ["authentication", "account created"]

    duplicate = _call(stack, "POST", "/users", {"username": "testuser", "password": "x"})
    assert (duplicate.status_code, duplicate.json()["code"]) == (400, "UserExistsError")
    bad_id = _call(stack, "GET", "/users/not-an-id")
    assert bad_id.status_code == 400 and "user" in bad_id.json()["details"]
    unknown = _call(stack, "GET", "/users/000000000000000000000000")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "UserNotFound")
    wrong = _call(stack, "POST", "/authenticate", {"username": "testuser", "password": "nope"})
    assert (wrong.status_code, wrong.json()["code"]) == (403, "AuthFailed")
    missing = _call(stack, "GET", "/users", token=None)
    assert (missing.status_code, missing.json()["code"]) == (403, "InvalidToken")
    query = requests.get(f"{stack}/users?query=testuser&accessToken=e2e-token", timeout=30)
    assert query.json()["results"][0]["id"] == user
