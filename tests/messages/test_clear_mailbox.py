"""DELETE /users/{user}/mailboxes/{mailbox}/messages: empty a mailbox now or as a task,
to the archive unless skipArchive (drafts never), counters exact."""
from __future__ import annotations

from chalicelib.services import maintenance
from devstack.calls import counting
from tests.support import simple_message, upload_raw


def _fill(api, account, box, count, draft=False):
    for n in range(count):
        reply = upload_raw(api, account, simple_message(subject=f"m{n}"), account.boxes[box],
                           query="draft=true" if draft else "")
        assert reply.status == 200, reply


def _box(api, account, box):
    return api.get(f"/users/{account.id}/mailboxes/{account.boxes[box]}")


def test_emptying_a_mailbox_archives_its_messages_and_keeps_counters_exact(api, account):
    _fill(api, account, "Trash", 3)
    _fill(api, account, "Trash", 1, draft=True)
    _fill(api, account, "INBOX", 2)
    used = api.get(f"/users/{account.id}")["limits"]["quota"]["used"]
    reply = api.delete(f"/users/{account.id}/mailboxes/{account.boxes['Trash']}/messages")
    assert reply.status == 200, reply
    assert (reply["deleted"], reply["errors"]) == (4, 0) and "scheduled" not in reply.json
    trash = _box(api, account, "Trash")
    assert (trash["total"], trash["unseen"], trash["size"]) == (0, 0, 0)
    assert _box(api, account, "INBOX")["total"] == 2
    assert api.get(f"/users/{account.id}")["limits"]["quota"]["used"] < used
    archived = api.get(f"/users/{account.id}/archived/messages")["results"]
    assert len(archived) == 3  # the draft is not archived


def test_skip_archive_and_the_queued_form(api, account):
    _fill(api, account, "Junk", 2)
    base = f"/users/{account.id}/mailboxes/{account.boxes['Junk']}/messages"
    queued = api.delete(f"{base}?async=true&skipArchive=true")
    assert queued.status == 200 and queued["existing"] is False
    again = api.delete(f"{base}?async=true")
    assert again["existing"] is True and again["scheduled"] == queued["scheduled"]
    assert _box(api, account, "Junk")["total"] == 2  # nothing yet
    assert maintenance.clear_mailboxes() == 2
    assert _box(api, account, "Junk")["total"] == 0
    assert api.get(f"/users/{account.id}/archived/messages")["results"] == []
    assert maintenance.clear_mailboxes() == 0  # the task is gone


def test_a_large_mailbox_is_finished_by_the_task_runner(api, account, monkeypatch):
    from chalicelib.api import messages as routes
    _fill(api, account, "INBOX", 3)
    monkeypatch.setattr(routes, "CLEAR_WITHIN_S", -1.0)  # the request's time is up at once
    reply = api.delete(f"/users/{account.id}/mailboxes/{account.inbox}/messages")
    assert reply["deleted"] == 0 and reply["scheduled"] == account.inbox
    with counting() as log:
        assert maintenance.clear_mailboxes(max_messages=2) == 2
    assert log.count("dynamodb", "TransactWriteItems") == 2  # one per message
    assert maintenance.clear_mailboxes() == 1
    assert _box(api, account, "INBOX")["total"] == 0


def test_another_users_mailbox_or_a_bad_flag_is_refused(api, account, make_user):
    other = make_user("other")
    reply = api.delete(f"/users/{other}/mailboxes/{account.inbox}/messages")
    assert reply.status == 404
    bad = api.delete(f"/users/{account.id}/mailboxes/{account.inbox}/messages?async=maybe")
    assert bad.status == 400 and bad["code"] == "InputValidationError"
