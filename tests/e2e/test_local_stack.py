"""The README's path, for real: `devstack.run` (moto server + chalice local) and HTTP.

One stack per module; it costs a few seconds, and proves that the local runner, table
creation from infra/, stage configuration and the HTTP edge work together.
"""
from __future__ import annotations

import time
from typing import Iterator

import pytest
import requests

from tests.e2e.stack import TOKEN, call, local_stack


@pytest.fixture(scope="module")
def stack() -> Iterator[str]:
    with local_stack() as base:
        yield base


def test_readme_flow_against_the_local_stack(stack):
    created = call(stack, "POST", "/users", {"username": "testuser", "password": "secretpass",
                                             "address": "testuser@example.com",
                                             "ip": "192.168.10.10"})
    assert created.status_code == 200, created.text
    user = created.json()["id"]
    assert call(stack, "GET", f"/users/{user}").json()["address"] == "testuser@example.com"
    auth = call(stack, "POST", "/authenticate", {"username": "testuser@example.com",
                                                 "password": "secretpass", "scope": "imap"})
    assert auth.json()["id"] == user
    log = call(stack, "GET", f"/users/{user}/authlog").json()
    assert [e["action"] for e in log["results"]] == ["authentication", "account created"]

    duplicate = call(stack, "POST", "/users", {"username": "testuser", "password": "x"})
    assert (duplicate.status_code, duplicate.json()["code"]) == (400, "UserExistsError")
    bad_id = call(stack, "GET", "/users/not-an-id")
    assert bad_id.status_code == 400 and "user" in bad_id.json()["details"]
    unknown = call(stack, "GET", "/users/000000000000000000000000")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "UserNotFound")
    wrong = call(stack, "POST", "/authenticate", {"username": "testuser", "password": "nope"})
    assert (wrong.status_code, wrong.json()["code"]) == (403, "AuthFailed")
    missing = call(stack, "GET", "/users", token=None)
    assert (missing.status_code, missing.json()["code"]) == (403, "InvalidToken")
    query = requests.get(f"{stack}/users?query=testuser&accessToken={TOKEN}", timeout=30)
    assert query.json()["results"][0]["id"] == user


def test_an_uploaded_message_is_found_within_seconds_and_gone_after_deletion(stack):
    """The search index as `make run` keeps it: the messages stream pumped from the
    moto server into the app's indexer, nothing else started."""
    user = call(stack, "POST", "/users", {"username": "searcher", "password": "secretpass"}
                ).json()["id"]
    boxes = call(stack, "GET", f"/users/{user}/mailboxes").json()["results"]
    inbox = next(box["id"] for box in boxes if box["path"] == "INBOX")
    raw = b"From: A <a@example.com>\r\nTo: searcher@example.com\r\nSubject: Kayak\r\n\r\nPaddle\r\n"
    uploaded = requests.post(f"{stack}/users/{user}/mailboxes/{inbox}/messages", data=raw,
                             headers={"X-Access-Token": TOKEN,
                                      "Content-Type": "message/rfc822"}, timeout=30)
    uid = uploaded.json()["message"]["id"]

    def total() -> int:
        return int(call(stack, "GET", f"/users/{user}/search?query=paddle").json()["total"])

    def settles(expected: int) -> float:
        started = time.monotonic()
        while total() != expected:
            assert time.monotonic() - started < 10, f"search total never reached {expected}"
            time.sleep(0.2)
        return time.monotonic() - started

    print(f"found after {settles(1):.1f} s")
    call(stack, "DELETE", f"/users/{user}/mailboxes/{inbox}/messages/{uid}")
    print(f"gone after {settles(0):.1f} s")
