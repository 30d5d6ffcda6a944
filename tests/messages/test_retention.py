"""Mailbox retention: a message stored in, moved into or restored into a mailbox with a
retention expires that long after it arrived there; the expiry job removes it."""
from __future__ import annotations

import time
from datetime import datetime

from chalicelib.services import maintenance
from chalicelib.store.messages import MessageItem
from chalicelib.store.users import UserItem
from tests.support import simple_message, upload_raw

DAY_MS = 86400 * 1000


def _expires_ms(reply) -> int:
    return int(datetime.fromisoformat(reply["expires"].replace("Z", "+00:00")).timestamp()
               * 1000)


def _near(value: int, expected: int) -> bool:
    return abs(value - expected) < 60_000


def test_upload_into_trash_expires_thirty_days_after_arrival(api, account):
    trash = account.boxes["Trash"]
    before = int(time.time() * 1000)
    # An old internal date does not matter: retention counts from the arrival.
    uid = upload_raw(api, account, simple_message(), box=trash,
                     query="date=2001-01-01T00:00:00Z")["message"]["id"]
    shown = api.get(f"{account.messages(trash)}/{uid}")
    assert _near(_expires_ms(shown), before + 30 * DAY_MS)
    listed = api.get(account.messages(trash))["results"][0]
    assert listed["expires"] == shown["expires"]
    inbox_uid = upload_raw(api, account, simple_message())["message"]["id"]
    assert api.get(f"{account.messages()}/{inbox_uid}")["expires"] is False


def test_a_mailbox_retention_and_the_user_default_apply_to_uploads(api, make_user):
    user_id = make_user("keeper", retention=2 * DAY_MS)
    custom = api.post(f"/users/{user_id}/mailboxes", {"path": "Short", "retention": 3600000})
    inherited = api.post(f"/users/{user_id}/mailboxes", {"path": "Default"})
    raw = simple_message()
    now = int(time.time() * 1000)
    for box, keep in ((custom["id"], 3600000), (inherited["id"], 2 * DAY_MS)):
        path = f"/users/{user_id}/mailboxes/{box}/messages"
        uid = api.call("POST", path, raw=raw,
                       headers={"content-type": "message/rfc822"})["message"]["id"]
        assert _near(_expires_ms(api.get(f"{path}/{uid}")), now + keep)


def test_move_takes_the_target_retention_and_drops_its_own(api, account):
    trash, drafts = account.boxes["Trash"], account.boxes["Drafts"]
    uid = upload_raw(api, account, simple_message())["message"]["id"]
    assert api.put(f"{account.messages()}/{uid}", {"expires": "2099-01-01"}).status == 200
    now = int(time.time() * 1000)
    moved = api.put(f"{account.messages()}/{uid}", {"moveTo": trash})
    new_uid = moved["id"][0][1]
    assert _near(_expires_ms(api.get(f"{account.messages(trash)}/{new_uid}")), now + 30 * DAY_MS)
    back = api.put(f"{account.messages(trash)}/{new_uid}", {"moveTo": drafts})["id"][0][1]
    assert api.get(f"{account.messages(drafts)}/{back}")["expires"] is False
    # An explicit expiry in the move request wins over the retention.
    again = api.put(f"{account.messages(drafts)}/{back}",
                    {"moveTo": trash, "expires": "2098-05-05T00:00:00Z"})["id"][0][1]
    assert api.get(f"{account.messages(trash)}/{again}")["expires"].startswith("2098-05-05")


def test_restore_into_a_mailbox_with_retention_expires_from_the_restore(api, account):
    junk = account.boxes["Junk"]
    uid = upload_raw(api, account, simple_message(), box=junk)["message"]["id"]
    assert api.delete(f"{account.messages(junk)}/{uid}").status == 200
    archived = api.get(f"/users/{account.id}/archived/messages")["results"][0]["id"]
    now = int(time.time() * 1000)
    restored = api.post(f"/users/{account.id}/archived/messages/{archived}/restore")
    shown = api.get(f"{account.messages(restored['mailbox'])}/{restored['uid']}")
    assert restored["mailbox"] == junk and _near(_expires_ms(shown), now + 30 * DAY_MS)


def test_the_expiry_job_removes_expired_messages_with_exact_counters(api, account):
    trash = account.boxes["Trash"]
    for n in range(3):
        upload_raw(api, account, simple_message(f"old {n}"), box=trash, query="unseen=true")
    upload_raw(api, account, simple_message("kept"))
    used = UserItem.get(account.id).storageUsed
    later = time.time() + 31 * 86400
    assert maintenance.expire_messages(limit=2, now=later) == 2  # bounded
    assert maintenance.expire_messages(limit=2, now=later) == 1  # and resumed
    assert maintenance.expire_messages(limit=2, now=later) == 0
    box = api.get(f"/users/{account.id}/mailboxes/{trash}")
    assert (box["total"], box["unseen"], box["size"]) == (0, 0, 0)
    assert api.get(f"/users/{account.id}/mailboxes/{account.inbox}")["total"] == 1
    assert UserItem.get(account.id).storageUsed < used
    assert len(api.get(f"/users/{account.id}/archived")["results"]) == 3


def test_entries_of_a_deleted_account_do_not_stall_the_job(api, make_user, account):
    gone = make_user("goneuser")
    boxes = {b["path"]: b["id"] for b in api.get(f"/users/{gone}/mailboxes")["results"]}
    path = f"/users/{gone}/mailboxes/{boxes['Trash']}/messages"
    for n in range(2):
        api.call("POST", path, raw=simple_message(f"g{n}"),
                 headers={"content-type": "message/rfc822"})
    assert api.delete(f"/users/{gone}").status == 200
    upload_raw(api, account, simple_message("mine"), box=account.boxes["Trash"])
    later = time.time() + 31 * 86400
    assert maintenance.expire_messages(limit=2, now=later) == 0  # two orphans seen
    assert not [m for m in MessageItem.query(boxes["Trash"]) if m.expires]
    assert maintenance.expire_messages(limit=2, now=later) == 1  # the live one is reached
