"""`Idempotency-Key`: a retried create answers as the first time and stores nothing twice."""
from __future__ import annotations

from chalicelib.services import idempotency, messages
from chalicelib.services.messages import NewMessage
from chalicelib.store.journal import JournalItem
from chalicelib.store.keys import KeyItem
from chalicelib.store.mailboxes import MailboxItem
from chalicelib.store.messages import MessageItem
from chalicelib.store.users import UserItem
from tests.support import race, simple_message

KEY = {"Idempotency-Key": "3f1c6a9e-retry-me"}


def _create(api, key=KEY, username="once"):
    return api.post("/users", {"username": username, "password": "pass-word"}, headers=key)


def test_a_retried_user_creation_returns_the_first_id(api):
    first = _create(api)
    again = _create(api)
    assert first.status == again.status == 200
    assert again["id"] == first["id"]
    assert len(list(UserItem.scan())) == 1


def test_without_a_key_a_repeat_is_a_new_request(api):
    assert _create(api, key={}).status == 200
    assert _create(api, key={})["code"] == "UserExistsError"


def test_a_key_reused_with_other_parameters_is_refused(api):
    assert _create(api).status == 200
    other = _create(api, username="someone-else")
    assert (other.status, other["code"]) == (422, "IdempotencyKeyReused")
    assert len(list(UserItem.scan())) == 1


def test_keys_are_checked(api):
    reply = _create(api, key={"Idempotency-Key": "x" * 256})
    assert (reply.status, reply["code"]) == (400, "InputValidationError")


def test_a_retried_upload_stores_one_message_and_answers_the_same_uid(api, account):
    path = account.messages()
    body = {"raw": simple_message().decode()}
    first = api.post(path, body, headers=KEY)
    again = api.post(path, body, headers=KEY)
    assert first.status == again.status == 200
    assert again.json == first.json
    assert len(list(MessageItem.query(account.inbox))) == 1
    inbox = MailboxItem.get(account.id, account.inbox)
    assert (inbox.total, inbox.uidNext) == (1, 2)
    assert UserItem.get(account.id).storageUsed == first["message"]["size"]


def test_concurrent_uploads_with_one_key_store_one_message(api, account, serialized_aws):
    """Six Lambdas get the same retried upload at once (services called directly: Chalice
    keeps the current request on the app, so in-process HTTP cannot race)."""
    raw = simple_message()
    claim = idempotency.claim("upload", "operator", "same-key", {"raw": raw})

    def upload(_: int) -> int:
        try:
            return messages.upload(account.id, account.inbox, NewMessage(raw=raw), once=claim).uid
        except idempotency.Replayed:
            return idempotency.previous(claim)["uid"]

    uids, errors = race(6, upload)
    assert errors == [] and len(set(uids)) == 1
    assert len(list(MessageItem.query(account.inbox))) == 1
    assert MailboxItem.get(account.id, account.inbox).total == 1
    exists = [e for e in JournalItem.query(account.id) if e.command == "EXISTS"]
    assert len(exists) == 1


def test_the_same_key_for_two_users_is_two_requests(api, make_user, account):
    other = make_user("second", address="second@example.com")
    from tests.support import mailbox_ids
    body = {"raw": simple_message().decode()}
    assert api.post(account.messages(), body, headers=KEY).status == 200
    reply = api.post(f"/users/{other}/mailboxes/{mailbox_ids(other)['INBOX']}/messages", body,
                     headers=KEY)
    assert reply.status == 200
    assert len([k for k in KeyItem.scan() if k.key.startswith("idem#")]) == 2
