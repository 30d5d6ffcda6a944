"""`POST /users/{user}/archived/restore`: restore everything deleted in a time range,
as a task the scheduled runner performs in bounded, resumable steps."""
from __future__ import annotations

import time
from datetime import datetime, timezone

from chalicelib.services import maintenance
from chalicelib.store.archived import ArchivedItem
from chalicelib.store.tasks import RESTORE_ARCHIVED, TaskItem
from chalicelib.store.users import UserItem
from tests.support import simple_message, upload_raw


def _iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, tz=timezone.utc).isoformat().replace("+00:00", "Z")


def _delete(api, account, subject, box=None):
    uid = upload_raw(api, account, simple_message(subject), box=box)["message"]["id"]
    assert api.delete(f"{account.messages(box)}/{uid}").status == 200


def test_the_route_is_no_longer_taken_for_an_archived_message(api, account):
    reply = api.post(f"/users/{account.id}/archived/restore",
                     {"start": _iso(time.time() - 60), "end": _iso(time.time()),
                      "sess": "s1", "ip": "127.0.0.1"})
    assert reply.status == 200, reply
    assert set(reply.json) == {"success", "task"} and len(reply["task"]) == 24
    assert [t.user for t in TaskItem.query(RESTORE_ARCHIVED)] == [account.id]


def test_start_and_end_are_required_dates_and_the_user_must_exist(api, account):
    reply = api.post(f"/users/{account.id}/archived/restore", {"start": "yesterday"})
    assert reply.status == 400 and set(reply["details"]) == {"start", "end"}
    reply = api.post(f"/users/{'e' * 24}/archived/restore",
                     {"start": "2024-01-01", "end": "2024-02-01"})
    assert (reply.status, reply["code"]) == (404, "UserNotFound")


def test_messages_deleted_in_the_range_come_back_the_rest_stay(api, account):
    drafts = account.boxes["Drafts"]
    _delete(api, account, "before")
    old = next(iter(ArchivedItem.query(account.id)))
    old.update(actions=[ArchivedItem.archived.set(int((time.time() - 3 * 86400) * 1000))])
    start = time.time() - 1
    for n in range(3):
        _delete(api, account, f"inbox {n}")
    _delete(api, account, "draft", box=drafts)
    api.post(f"/users/{account.id}/archived/restore",
             {"start": _iso(start), "end": _iso(time.time() + 1)})

    first = maintenance.restore_archived(max_messages=3)
    assert (first.restored, first.tasks_done) == (3, 0)  # bounded: the task waits
    second = maintenance.restore_archived(max_messages=3)
    assert (second.restored, second.tasks_done) == (1, 1)  # resumed where it stopped
    assert list(TaskItem.query(RESTORE_ARCHIVED)) == []

    inbox = api.get(account.messages())["results"]
    assert sorted(m["subject"] for m in inbox) == ["inbox 0", "inbox 1", "inbox 2"]
    assert [m["subject"] for m in api.get(account.messages(drafts))["results"]] == ["draft"]
    left = api.get(f"/users/{account.id}/archived")["results"]
    assert [m["subject"] for m in left] == ["before"]
    box = api.get(f"/users/{account.id}/mailboxes/{account.inbox}")
    assert box["total"] == 3
    assert UserItem.get(account.id).storageUsed == sum(m["size"] for m in inbox) + \
        api.get(account.messages(drafts))["results"][0]["size"]


def test_a_message_that_does_not_fit_the_quota_stays_archived(api, account):
    _delete(api, account, "big")
    UserItem.get(account.id).update(actions=[UserItem.quota.set(1)])
    api.post(f"/users/{account.id}/archived/restore",
             {"start": _iso(time.time() - 60), "end": _iso(time.time() + 60)})
    report = maintenance.restore_archived()
    assert (report.restored, report.failed, report.tasks_done) == (0, 1, 1)
    assert len(api.get(f"/users/{account.id}/archived")["results"]) == 1
