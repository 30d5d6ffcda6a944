"""A write whose first attempt committed but timed out answers success, once.

DynamoDB (and moto, with devstack/motopatch) answers a TransactWriteItems repeated
with the ClientRequestToken of a committed one with success and no change. Here the
first TransactWriteItems of a request commits and then the client sees a read timeout:
botocore retries it (same request, same token), or, once botocore has given up, the
transaction helper sends it again with the same token. Either way the request answers
success and stores exactly one item.
"""
from __future__ import annotations

from typing import Any, Callable
from unittest import mock

import pytest
from botocore.exceptions import ReadTimeoutError
from moto.dynamodb.responses import DynamoHandler

from chalicelib.store.mailboxes import MailboxItem
from chalicelib.store.messages import MessageItem
from chalicelib.store.users import UserItem
from tests.support import simple_message, upload_raw

BOTOCORE_ATTEMPTS = 4  # PynamoDB's default: 1 + 3 retries


class TimeoutAfterCommit:
    """Wraps moto's TransactWriteItems: the first call commits, then the first
    `timeouts` calls answer a read timeout instead of their response."""

    def __init__(self, timeouts: int) -> None:
        self.timeouts = timeouts
        self.calls = 0
        self.tokens: list[str] = []
        self.real: Callable[[Any], Any] = DynamoHandler.transact_write_items

    def __call__(self, handler: Any) -> Any:
        self.calls += 1
        self.tokens.append(handler.body.get("ClientRequestToken"))
        answer = self.real(handler)
        if self.calls <= self.timeouts:
            raise ReadTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com/")
        return answer


@pytest.mark.parametrize("mode", ["botocore retries", "helper resends"])
def test_a_retried_mailbox_creation_stores_one_mailbox(api, account, mode):
    with _timeouts(mode) as wrapper:
        reply = api.post(f"/users/{account.id}/mailboxes", {"path": "Projects/Retried"})
    assert reply.status == 200, reply
    boxes = [b for b in MailboxItem.query(account.id) if b.path == "Projects/Retried"]
    assert [b.id for b in boxes] == [reply["id"]]
    assert int(UserItem.get(account.id).mailboxCount) == len(account.boxes) + 1
    assert len(set(wrapper.tokens)) == 1


@pytest.mark.parametrize("mode", ["botocore retries", "helper resends"])
def test_a_retried_user_creation_stores_one_user(api, mode):
    with _timeouts(mode) as wrapper:
        reply = api.post("/users", {"username": "retried", "password": "secret-pass"})
    assert reply.status == 200, reply
    found = api.get("/users?query=retried")
    assert [r["id"] for r in found["results"]] == [reply["id"]]
    assert [u.id for u in UserItem.scan()] == [reply["id"]]
    assert len(set(wrapper.tokens)) == 1


@pytest.mark.parametrize("mode", ["botocore retries", "helper resends"])
def test_a_retried_upload_stores_one_message(api, account, mode):
    raw = simple_message("Retried")
    with _timeouts(mode) as wrapper:
        reply = upload_raw(api, account, raw)
    assert reply.status == 200, reply
    stored = list(MessageItem.query(account.inbox))
    assert [int(m.uid) for m in stored] == [reply["message"]["id"]]
    listing = api.get(account.messages())
    assert listing["total"] == 1
    assert int(UserItem.get(account.id).storageUsed) == reply["message"]["size"]
    assert len(set(wrapper.tokens)) == 1


class _timeouts:
    """`TimeoutAfterCommit` around moto's TransactWriteItems for one block."""

    def __init__(self, mode: str) -> None:
        self.wrapper = TimeoutAfterCommit(1 if mode == "botocore retries" else BOTOCORE_ATTEMPTS)
        self._patch = mock.patch.object(DynamoHandler, "transact_write_items",
                                        lambda handler: self.wrapper(handler))

    def __enter__(self) -> TimeoutAfterCommit:
        self._patch.start()
        return self.wrapper

    def __exit__(self, *_: object) -> None:
        self._patch.stop()
        assert self.wrapper.calls == self.wrapper.timeouts + 1, self.wrapper.calls
