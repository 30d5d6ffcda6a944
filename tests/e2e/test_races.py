"""Parallel requests against the local stack keep DynamoDB's guarantees.

Real DynamoDB applies every request, and every transaction, atomically; the API's
correctness under concurrency (unique usernames, unique uids, exact counters) rests on
that. These tests fire bursts of parallel HTTP requests at `devstack.run` and check the
outcome as a client would see it: no 5xx, no reset connection, no duplicate, nothing
lost, counters equal to a recount.

`RACE_ROUNDS` sets the rounds per race (default 20).
"""
from __future__ import annotations

import os
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterator

import pytest
import requests

from tests.e2e.stack import call, local_stack, new_user

ROUNDS = int(os.environ.get("RACE_ROUNDS", "20"))
WORKERS = 64
USER_RACERS = 20
UPLOADS = 50


@pytest.fixture(scope="module")
def stack() -> Iterator[str]:
    # Password hashing is not under test here; the fast profile packs the racers closer.
    with local_stack({"PASSWORD_HASH_PROFILE": "fast"}) as base:
        yield base


@pytest.fixture(scope="module")
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(WORKERS) as executor:
        yield executor


Outcome = requests.Response | requests.ConnectionError


def _burst(pool: ThreadPoolExecutor, base: str,
           calls: list[tuple[str, str, Any]]) -> list[Outcome]:
    """Send all calls at once (a barrier releases them together), each on its own connection."""
    barrier = threading.Barrier(len(calls))

    def one(method: str, path: str, body: Any) -> Outcome:
        barrier.wait(timeout=60)
        try:
            return call(base, method, path, body)
        except requests.ConnectionError as error:  # reset, refused or aborted
            return error

    futures = [pool.submit(one, *c) for c in calls]
    return [f.result() for f in futures]


def _server_failures(outcomes: list[Outcome]) -> list[str]:
    return [repr(o) if isinstance(o, Exception) else f"{o.status_code} {o.text[:200]}"
            for o in outcomes if isinstance(o, Exception) or o.status_code >= 500]


def test_128_parallel_connections_are_served(stack: str) -> None:
    """The API server's listen backlog and threads take a burst without resets."""
    with ThreadPoolExecutor(128) as wide:
        outcomes = _burst(wide, stack, [("GET", "/users/000000000000000000000000", None)] * 128)
    assert _server_failures(outcomes) == []
    assert {o.status_code for o in outcomes if not isinstance(o, Exception)} == {404}


def test_one_username_raced_by_many_creates_one_account(stack: str,
                                                        pool: ThreadPoolExecutor) -> None:
    for _ in range(ROUNDS):
        name = f"race{uuid.uuid4().hex[:12]}"
        body = {"username": name, "password": "secretpass"}
        outcomes = _burst(pool, stack, [("POST", "/users", body)] * USER_RACERS)
        assert _server_failures(outcomes) == []
        answers = sorted((o.status_code, o.json().get("code")) for o in outcomes
                         if not isinstance(o, Exception))
        assert answers == [(200, None)] + [(400, "UserExistsError")] * (USER_RACERS - 1)
        found = call(stack, "GET", f"/users?query={name}").json()
        assert [r["username"] for r in found["results"]] == [name]


def test_parallel_uploads_to_one_mailbox_all_succeed_exactly(stack: str,
                                                             pool: ThreadPoolExecutor) -> None:
    for round_no in range(ROUNDS):
        user, inbox = new_user(stack, "up")
        path = f"/users/{user}/mailboxes/{inbox}/messages"
        uploads = [("POST", path, {"raw": f"From: a@example.com\r\nSubject: {n}\r\n\r\n"
                                          f"body {n}{'.' * (n * 7 + round_no)}\r\n"})
                   for n in range(UPLOADS)]
        outcomes = _burst(pool, stack, uploads)
        assert _server_failures(outcomes) == []
        refused = [(o.status_code, o.json().get("code")) for o in outcomes if o.status_code != 200]
        assert refused == []
        uids = [o.json()["message"]["id"] for o in outcomes]
        assert sorted(uids) == list(range(1, UPLOADS + 1))

        listing = call(stack, "GET", f"{path}?limit=250").json()
        assert sorted(m["id"] for m in listing["results"]) == sorted(uids)
        assert listing["total"] == len(uids)
        boxes = call(stack, "GET", f"/users/{user}/mailboxes?counters=true").json()["results"]
        box = next(b for b in boxes if b["id"] == inbox)
        recount = {"total": len(listing["results"]),
                   "unseen": sum(not m["seen"] for m in listing["results"]),
                   "size": sum(m["size"] for m in listing["results"])}
        assert {k: box[k] for k in recount} == recount
        used = call(stack, "GET", f"/users/{user}").json()["limits"]["quota"]["used"]
        assert used == recount["size"]
