"""Deletion to the archive, archive listing and reading, restore, retention."""
from __future__ import annotations

import time

import pytest

from chalicelib.config import reset_settings
from chalicelib.store.archived import ArchivedItem
from chalicelib.store.journal import JournalItem
from chalicelib.store.mailboxes import MailboxItem
from chalicelib.store.users import UserItem
from tests.support import fixture, simple_message, upload_raw


def used(account) -> int:
    return int(UserItem.get(account.id, consistent_read=True).storageUsed)


def box(account, mailbox):
    return MailboxItem.get(account.id, mailbox, consistent_read=True)


@pytest.fixture
def archived_one(api, account):
    """Two messages in INBOX; the first (a real-world reply) deleted to the archive."""
    raw = fixture("gmail_reply_alternative.eml")
    upload_raw(api, account, raw, query="unseen=true")
    upload_raw(api, account, simple_message())
    reply = api.delete(f"{account.messages()}/1")
    assert reply.status == 200 and reply.json == {"success": True}
    return api.get(f"/users/{account.id}/archived")["results"][0]["id"], len(raw)


def test_delete_moves_the_message_to_the_archive_and_releases_its_quota(api, account,
                                                                         archived_one):
    archived_id, size = archived_one
    assert api.get(f"{account.messages()}/1")["code"] == "MessageNotFound"
    inbox = box(account, account.inbox)
    assert (inbox.total, inbox.unseen, inbox.size) == (1, 0, len(simple_message()))
    assert used(account) == len(simple_message())
    last = list(JournalItem.query(account.id))[-1]
    assert last.command == "EXPUNGE" and last.data.as_dict()["uid"] == 1
    assert len(archived_id) == 24 and int(archived_id, 16) >= 0


def test_archive_lists_and_reads_at_both_paths(api, account, archived_one):
    archived_id, size = archived_one
    for path in ("archived", "archived/messages"):
        listing = api.get(f"/users/{account.id}/{path}")
        assert listing.status == 200, listing
        assert listing["total"] == 1
        entry = listing["results"][0]
        assert entry["id"] == archived_id and entry["mailbox"] == account.inbox
        assert entry["subject"] == "Re: Café meeting ☕" and entry["seen"] is False
    for path in (f"archived/{archived_id}", f"archived/messages/{archived_id}"):
        body = api.get(f"/users/{account.id}/{path}")
        assert body.status == 200, body
        assert body["id"] == archived_id and body["size"] == size
        assert body["from"]["address"] == "alice@gmail.com"
        assert isinstance(body["html"], list) and body["text"].startswith("Sounds good")


def test_restore_returns_to_the_original_mailbox_with_a_new_uid_and_charges_quota(
        api, account, archived_one):
    archived_id, size = archived_one
    reply = api.post(f"/users/{account.id}/archived/{archived_id}/restore")
    assert reply.json == {"success": True, "mailbox": account.inbox, "id": 3, "uid": 3}
    restored = api.get(f"{account.messages()}/3")
    assert restored["subject"] == "Re: Café meeting ☕" and restored["seen"] is False
    assert used(account) == size + len(simple_message())
    inbox = box(account, account.inbox)
    assert (inbox.total, inbox.unseen, inbox.uidNext) == (2, 1, 4)
    assert api.get(f"/users/{account.id}/archived")["results"] == []
    assert api.get(f"{account.messages()}/3/message.eml",
                   headers={"accept": "*/*"}).raw == fixture("gmail_reply_alternative.eml")
    again = api.post(f"/users/{account.id}/archived/{archived_id}/restore")
    assert (again.status, again["code"]) == (404, "MessageNotFound")


def test_restore_goes_to_the_requested_mailbox_at_the_current_servers_path(api, account,
                                                                          archived_one):
    archived_id, _ = archived_one
    drafts = account.boxes["Drafts"]
    reply = api.post(f"/users/{account.id}/archived/messages/{archived_id}/restore",
                     {"mailbox": drafts})
    assert reply.json == {"success": True, "mailbox": drafts, "id": 1, "uid": 1}
    missing = api.post(f"/users/{account.id}/archived/{archived_id}/restore",
                       {"mailbox": "a" * 24})
    assert missing["code"] == "MessageNotFound"


def test_restore_falls_back_to_inbox_when_the_original_mailbox_is_gone(api, account):
    work = "abcdefabcdefabcdefabcdef"
    MailboxItem(user=account.id, id=work, path="Work", uidValidity=1, uidNext=1,
                created=1).save()
    upload_raw(api, account, simple_message(), box=work)
    api.delete(f"{account.messages(work)}/1")
    MailboxItem(user=account.id, id=work).delete()
    archived_id = api.get(f"/users/{account.id}/archived")["results"][0]["id"]
    reply = api.post(f"/users/{account.id}/archived/{archived_id}/restore")
    assert reply.json == {"success": True, "mailbox": account.inbox, "id": 1, "uid": 1}


def test_restore_into_an_unknown_mailbox_is_no_such_mailbox(api, account, archived_one):
    archived_id, _ = archived_one
    reply = api.post(f"/users/{account.id}/archived/{archived_id}/restore",
                     {"mailbox": "f" * 24})
    assert (reply.status, reply["code"]) == (404, "NoSuchMailbox")


def test_restore_that_does_not_fit_the_quota_is_refused(api, account, archived_one):
    archived_id, size = archived_one
    api.put(f"/users/{account.id}", {"quota": used(account) + size - 1})
    reply = api.post(f"/users/{account.id}/archived/{archived_id}/restore")
    assert (reply.status, reply["code"]) == (400, "OverQuotaError")
    assert len(api.get(f"/users/{account.id}/archived")["results"]) == 1


def test_archived_messages_expire_after_the_configured_retention(api, account, monkeypatch):
    monkeypatch.setenv("ARCHIVE_RETENTION_DAYS", "3")
    reset_settings()
    upload_raw(api, account, simple_message())
    api.delete(f"{account.messages()}/1")
    item = next(iter(ArchivedItem.query(account.id)))
    assert abs(int(item.expires) - (time.time() + 3 * 86400)) < 60
    item.update(actions=[ArchivedItem.expires.set(int(time.time()) - 1)])  # TTL is lazy
    assert api.get(f"/users/{account.id}/archived")["results"] == []
    assert api.get(f"/users/{account.id}/archived/{item.id}")["code"] == "MessageNotFound"
    assert api.post(f"/users/{account.id}/archived/{item.id}/restore")["code"] == \
        "MessageNotFound"


def test_archive_pages_newest_first(api, account):
    for index in range(5):
        upload_raw(api, account, simple_message(f"m{index}"))
    for uid in range(1, 6):
        api.delete(f"{account.messages()}/{uid}")
    first = api.get(f"/users/{account.id}/archived?limit=2")
    assert [m["subject"] for m in first["results"]] == ["m4", "m3"] and first["total"] == 5
    second = api.get(f"/users/{account.id}/archived?limit=2&next={first['nextCursor']}")
    assert [m["subject"] for m in second["results"]] == ["m2", "m1"]
    asc = api.get(f"/users/{account.id}/archived?order=asc&limit=1")
    assert [m["subject"] for m in asc["results"]] == ["m0"]


def test_archive_bad_input_is_4xx(api, account):
    assert api.get(f"/users/{account.id}/archived/123")["code"] == "InputValidationError"
    assert api.get(f"/users/{account.id}/archived/{'0' * 24}")["code"] == "MessageNotFound"
    assert api.delete(f"{account.messages()}/7")["code"] == "MessageNotFound"
    assert api.delete(f"{account.messages()}/1:2")["code"] == "InputValidationError"
    assert api.post(f"/users/{account.id}/archived/{'0' * 24}/restore",
                    {"bogus": 1})["code"] == "InputValidationError"
