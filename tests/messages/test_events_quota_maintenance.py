"""A message's timeline, quota recount, and the scheduled clean-up jobs."""
from __future__ import annotations

import time

from chalicelib.services import maintenance
from chalicelib.store import blobs
from chalicelib.store.mailboxes import MailboxItem
from chalicelib.store.messages import MessageItem
from chalicelib.store.tasks import PURGE_MAILBOX, TaskItem
from chalicelib.store.users import UserItem
from tests.support import simple_message, upload_raw


def test_events_tell_the_story_of_a_message_newest_last(api, account):
    drafts = account.boxes["Drafts"]
    upload_raw(api, account, simple_message())
    api.put(f"{account.messages()}/1", {"flagged": True})
    api.put(f"{account.messages()}/1", {"moveTo": drafts})
    api.delete(f"{account.messages(drafts)}/1")
    archived = api.get(f"/users/{account.id}/archived")["results"][0]["id"]
    restored = api.post(f"/users/{account.id}/archived/{archived}/restore")
    reply = api.get(f"{account.messages(restored['mailbox'])}/{restored['uid']}/events")
    assert reply.status == 200, reply
    assert reply["id"] == archived
    events = reply["events"]
    assert [e["action"] for e in events] == ["STORE", "FLAGS", "MOVE", "ARCHIVE", "RESTORE"]
    assert events[0]["source"] == "API" and events[0]["uid"] == 1
    assert events[1]["flags"] == ["\\Seen", "\\Flagged"]
    assert (events[2]["fromMailbox"], events[2]["mailbox"]) == (account.inbox, drafts)
    assert all(e["time"].endswith("Z") for e in events)
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)


def test_quota_reset_recounts_the_messages_of_existing_mailboxes(api, account):
    upload_raw(api, account, simple_message("one"))
    upload_raw(api, account, simple_message("two"), box=account.boxes["Sent Mail"])
    expected = 2 * len(simple_message("one"))
    # a mailbox deleted but not yet purged no longer counts
    gone = "abcdefabcdefabcdefabcdef"
    MailboxItem(user=account.id, id=gone, path="Old", uidValidity=1, created=1).save()
    upload_raw(api, account, simple_message("three"), box=gone)
    MailboxItem(user=account.id, id=gone).delete()
    UserItem(id=account.id).update(actions=[UserItem.storageUsed.set(123456)])
    reply = api.post(f"/users/{account.id}/quota/reset")
    assert reply.json == {"success": True, "storageUsed": expected,
                          "previousStorageUsed": 123456}
    assert api.get(f"/users/{account.id}")["limits"]["quota"]["used"] == expected
    assert api.post(f"/users/{'0' * 24}/quota/reset")["code"] == "UserNotFound"


def _deleted_mailbox_with_messages(api, account, count):
    box = "abcdefabcdefabcdefabcdef"
    MailboxItem(user=account.id, id=box, path="Doomed", uidValidity=1, created=1).save()
    for index in range(count):
        upload_raw(api, account, simple_message(f"doomed {index}", "x" * 5000), box=box)
    MailboxItem(user=account.id, id=box).delete()
    TaskItem(kind=PURGE_MAILBOX, id="000000000000000000000001", user=account.id,
             data={"mailbox": box, "path": "Doomed"}, created=1).save()
    return box


def test_purge_worker_removes_a_deleted_mailboxs_messages_and_their_objects(api, account):
    upload_raw(api, account, simple_message("keeper"))
    box = _deleted_mailbox_with_messages(api, account, 5)
    assert len(list(blobs.list_prefix("msg/"))) == 1 + 5 * 2  # raw + bodies each
    report = maintenance.purge_mailboxes(max_messages=3)
    assert (report.tasks_done, report.messages_removed) == (0, 3)  # bounded per run
    report = maintenance.purge_mailboxes()
    assert (report.tasks_done, report.messages_removed) == (1, 2)
    assert list(MessageItem.query(box)) == []
    assert list(TaskItem.query(PURGE_MAILBOX)) == []
    assert [o.key.rsplit("/", 1)[-1] for o in blobs.list_prefix("msg/")] == ["raw.eml"]
    assert api.get(f"{account.messages()}/1")["subject"] == "keeper"


def test_purge_worker_never_touches_a_mailbox_that_still_exists(api, account):
    upload_raw(api, account, simple_message())
    TaskItem(kind=PURGE_MAILBOX, id="000000000000000000000002", user=account.id,
             data={"mailbox": account.inbox}, created=1).save()
    assert maintenance.purge_mailboxes().messages_removed == 0
    assert len(list(MessageItem.query(account.inbox))) == 1


def test_purge_runs_on_a_schedule_declared_on_the_app(app):
    assert {"purge_deleted_mailboxes", "purge_deleted_users", "sweep_mail_bucket",
            "expire_messages", "reset_quotas"} \
        <= set(app.handler_map)


def test_sweeper_removes_unreferenced_folders_after_a_second_look(api, account):
    upload_raw(api, account, simple_message("live"))
    upload_raw(api, account, simple_message("archived"))
    api.delete(f"{account.messages()}/2")
    orphan = blobs.raw_key(account.id, 1_700_000_000_000, "0123456789abcdef01234567")
    blobs.put(orphan, b"left behind by a failed upload")
    blobs.put(blobs.upload_key(account.id, "fedcba9876543210fedcba98"), b"stale upload")
    before = {o.key for o in blobs.list_prefix("msg/")}

    assert maintenance.sweep().candidates == 0  # everything is younger than the grace
    later = time.time() + maintenance.GRACE_SECONDS + 60
    first = maintenance.sweep(now=later)
    assert (first.candidates, first.deleted, first.uploads_deleted) == (1, 0, 1)
    assert maintenance.sweep(now=later + 60).deleted == 0  # not confirmed yet
    second = maintenance.sweep(now=later + maintenance.CONFIRM_SECONDS + 120)
    assert second.deleted == 1
    assert {o.key for o in blobs.list_prefix("msg/")} == before - {orphan}
    assert list(blobs.list_prefix("upload/")) == []
    assert list(TaskItem.query(maintenance.SWEEP_CANDIDATE)) == []


def test_a_mailbox_deleted_through_the_api_is_emptied_by_the_purge_worker(api, account):
    created = api.post(f"/users/{account.id}/mailboxes", {"path": "Projects"})
    assert created.status == 200, created
    box = created["id"]
    upload_raw(api, account, simple_message("p1"), box=box)
    upload_raw(api, account, simple_message("p2"), box=box)
    assert api.delete(f"/users/{account.id}/mailboxes/{box}").status == 200
    assert int(UserItem.get(account.id).storageUsed) == 0
    report = maintenance.purge_mailboxes()
    assert (report.tasks_done, report.messages_removed) == (1, 2)
    assert list(MessageItem.query(box)) == [] and list(blobs.list_prefix("msg/")) == []


def test_purge_of_a_deleted_account_removes_its_data_after_the_grace_period(api, account):
    from chalicelib.store.addresses import AddressItem
    from chalicelib.store.archived import ArchivedItem
    from chalicelib.store.asps import AspItem
    from chalicelib.store.lookups import LookupItem
    from chalicelib.store.tasks import PURGE_USER

    for index in range(3):
        upload_raw(api, account, simple_message(f"m{index}"), box=account.boxes["Sent Mail"])
    upload_raw(api, account, simple_message("archived"))
    assert api.delete(f"{account.messages()}/1").status == 200
    assert api.post(f"/users/{account.id}/asps", {"description": "x"}).status == 200
    assert api.delete(f"/users/{account.id}").status == 200

    early = maintenance.purge_users()
    # grace period: the mailboxes went with the account, the messages stay
    assert early.tasks_done == 0 and not list(MailboxItem.query(account.id))
    assert len(list(MessageItem.query(account.boxes["Sent Mail"]))) == 3
    later = time.time() + 3 * 24 * 3600
    assert maintenance.purge_users(max_messages=2, now=later).tasks_done == 0  # bounded
    report = maintenance.purge_users(now=later)
    assert report.tasks_done == 1
    for model in (MailboxItem, AddressItem, AspItem, ArchivedItem):
        assert list(model.query(account.id)) == [], model
    assert list(MessageItem.query(account.boxes["Sent Mail"])) == []
    assert not any(k.key.startswith(f"mailbox#{account.id}#") for k in LookupItem.scan())
    assert list(TaskItem.query(PURGE_USER)) == []
    assert UserItem.count(account.id) == 0


def test_messages_past_their_expiry_are_deleted_by_the_expiry_job(api, account):
    for subject in ("soon", "later", "never"):
        upload_raw(api, account, simple_message(subject))
    now = time.time()
    assert api.put(f"{account.messages()}/1", {"expires": "2020-01-01T00:00:00Z"}).status == 200
    assert api.put(f"{account.messages()}/2",
                   {"expires": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                             time.gmtime(now + 3600))}).status == 200
    # a date cleared again leaves the index
    assert api.put(f"{account.messages()}/3", {"expires": "2020-01-01T00:00:00Z"}).status == 200
    assert api.put(f"{account.messages()}/3", {"expires": False}).status == 200

    assert maintenance.expire_messages(now=now) == 1
    remaining = [m["subject"] for m in api.get(account.messages())["results"]]
    assert sorted(remaining) == ["later", "never"]
    box = api.get(f"/users/{account.id}/mailboxes/{account.inbox}").json
    assert box["total"] == 2
    archived = api.get(f"/users/{account.id}/archived")["results"]
    assert [a["subject"] for a in archived] == ["soon"]
    assert maintenance.expire_messages(now=now) == 0
    assert maintenance.expire_messages(now=now + 7200) == 1


def test_a_move_replaces_the_expiry_with_the_target_retention(api, account):
    """As the reference server: a moved message expires by the retention of the mailbox
    it lands in (none for Drafts here), not by a date set before the move."""
    upload_raw(api, account, simple_message("moving"))
    api.put(f"{account.messages()}/1", {"expires": "2020-01-01T00:00:00Z"})
    drafts = account.boxes["Drafts"]
    assert api.put(f"{account.messages()}/1", {"moveTo": drafts}).status == 200
    assert maintenance.expire_messages() == 0
    assert [m["expires"] for m in api.get(account.messages(drafts))["results"]] == [False]
    assert api.put(f"{account.messages(drafts)}/1",
                   {"moveTo": account.inbox, "expires": "2020-01-01T00:00:00Z"}).status == 200
    assert maintenance.expire_messages() == 1
