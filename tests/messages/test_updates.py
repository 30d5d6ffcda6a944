"""Flag changes, expiry and moves of one or many messages."""
from __future__ import annotations

from unittest import mock

from chalicelib.store.transact import Transaction, TransactionFailed
from chalicelib.store.journal import JournalItem
from chalicelib.store.mailboxes import MailboxItem
from chalicelib.store.messages import MessageItem
from devstack import mailfill
from devstack.calls import counting
from tests.support import simple_message, upload_raw


def counters(account, box):
    item = MailboxItem.get(account.id, box, consistent_read=True)
    return {"total": int(item.total), "unseen": int(item.unseen), "size": int(item.size),
            "uidNext": int(item.uidNext), "modifyIndex": int(item.modifyIndex)}


def recount(box):
    items = list(MessageItem.query(box, consistent_read=True))
    return {"total": len(items), "unseen": sum("\\Seen" not in (i.flags or []) for i in items),
            "size": sum(int(i.size) for i in items)}


def journal(account):
    return [(e.command, e.data.as_dict()) for e in JournalItem.query(account.id)]


def upload_n(api, account, n, box=None, **query):
    for index in range(n):
        reply = upload_raw(api, account, simple_message(f"message {index}"), box=box,
                           query="&".join(f"{k}={v}" for k, v in query.items()))
        assert reply.status == 200, reply


def test_targets_name_one_a_list_a_range_either_way_and_an_open_range(api, account):
    upload_n(api, account, 6)
    base = account.messages()
    assert api.put(f"{base}/2", {"seen": False}).json == {"success": True, "updated": 1}
    assert api.put(f"{base}/1,3,5", {"flagged": True})["updated"] == 3
    assert api.put(f"{base}/5:3", {"draft": True})["updated"] == 3
    assert api.put(f"{base}/4:*", {"deleted": True})["updated"] == 3
    flags = {m["id"]: (m["seen"], m["flagged"], m["draft"], m["deleted"])
             for m in api.get(base)["results"]}
    assert flags == {1: (True, True, False, False), 2: (False, False, False, False),
                     3: (True, True, True, False), 4: (True, False, True, True),
                     5: (True, True, True, True), 6: (True, False, False, True)}
    assert counters(account, account.inbox)["unseen"] == 1


def test_flag_change_updates_unseen_modify_index_and_journal_fetch(api, account):
    upload_n(api, account, 3)
    before = counters(account, account.inbox)
    with counting() as calls:
        reply = api.put(f"{account.messages()}/1:3", {"seen": False})
    assert reply["updated"] == 3
    assert calls.by_operation("dynamodb").get("TransactWriteItems") == 1
    after = counters(account, account.inbox)
    assert after["unseen"] == 3 and after["modifyIndex"] == before["modifyIndex"] + 1
    fetches = [data for command, data in journal(account) if command == "FETCH"]
    assert [(f["uid"], f["flags"]) for f in fetches] == [(1, []), (2, []), (3, [])]
    # setting what is already set changes nothing and writes nothing
    with counting() as calls:
        assert api.put(f"{account.messages()}/1:3", {"seen": False})["updated"] == 3
    assert "TransactWriteItems" not in calls.by_operation("dynamodb")


def test_nothing_matched_is_message_not_found_and_bad_targets_are_rejected(api, account):
    upload_n(api, account, 1)
    base = account.messages()
    assert api.put(f"{base}/5:9", {"seen": True})["code"] == "MessageNotFound"
    for bad in ("a", "1,,2", "0", "1:2:3", "-1"):
        reply = api.put(f"{base}/{bad}", {"seen": True})
        assert (reply.status, reply["code"]) == (400, "InputValidationError"), bad
    assert api.put(f"{base}/1", {"seen": "maybe"})["code"] == "InputValidationError"
    assert api.put(f"{base}/1", {"colour": "red"})["code"] == "InputValidationError"
    assert api.put(f"/users/{account.id}/mailboxes/{'1' * 24}/messages/1",
                   {"seen": True})["code"] == "NoSuchMailbox"


def test_expires_takes_a_date_and_false_clears_it(api, account):
    upload_n(api, account, 1)
    url = f"{account.messages()}/1"
    assert api.put(url, {"expires": "2030-01-02T03:04:05Z"})["updated"] == 1
    assert api.get(url)["expires"] == "2030-01-02T03:04:05.000Z"
    assert api.put(url, {"expires": False})["updated"] == 1
    assert api.get(url)["expires"] is False


def test_flagging_and_unflagging_maintain_the_flagged_view(api, account):
    upload_n(api, account, 2)
    upload_n(api, account, 1, box=account.boxes["Junk"])
    flagged = f"/users/{account.id}/flagged"
    api.put(f"{account.messages()}/1:2", {"flagged": True})
    api.put(f"{account.messages(account.boxes['Junk'])}/1", {"flagged": True})
    assert [m["id"] for m in api.get(flagged)["results"]] == [2, 1]
    api.put(f"{account.messages()}/2", {"flagged": False})
    assert [m["id"] for m in api.get(flagged)["results"]] == [1]


def test_move_assigns_new_uids_and_keeps_both_mailboxes_exact(api, account):
    drafts = account.boxes["Drafts"]
    upload_n(api, account, 2, box=drafts)
    upload_n(api, account, 4, unseen="true")
    reply = api.put(f"{account.messages()}/2:3", {"moveTo": drafts, "flagged": True})
    assert reply.status == 200, reply
    assert reply.json == {"success": True, "mailbox": drafts, "id": [[2, 3], [3, 4]]}
    for box in (account.inbox, drafts):
        current = counters(account, box)
        assert {k: current[k] for k in ("total", "unseen", "size")} == recount(box)
    assert counters(account, drafts)["uidNext"] == 5
    moved = api.get(f"{account.messages(drafts)}/3")
    assert moved["subject"] == "message 1" and moved["flagged"] is True
    assert api.get(f"{account.messages()}/2")["code"] == "MessageNotFound"
    commands = [(c, d["mailbox"], d["uid"]) for c, d in journal(account)
                if c in ("EXPUNGE", "EXISTS")][-4:]
    assert commands == [("EXPUNGE", account.inbox, 2), ("EXISTS", drafts, 3),
                        ("EXPUNGE", account.inbox, 3), ("EXISTS", drafts, 4)]
    # the raw source and the bodies follow the message
    assert api.get(f"{account.messages(drafts)}/3/message.eml",
                   headers={"accept": "*/*"}).raw == simple_message("message 1")


def test_moving_into_junk_marks_junk_and_leaves_the_flagged_view(api, account):
    upload_n(api, account, 1, flagged="true")
    junk = account.boxes["Junk"]
    assert len(api.get(f"/users/{account.id}/flagged")["results"]) == 1
    api.put(f"{account.messages()}/1", {"moveTo": junk})
    assert api.get(f"{account.messages(junk)}/1")["junk"] is True
    assert api.get(f"/users/{account.id}/flagged")["results"] == []
    api.put(f"{account.messages(junk)}/1", {"moveTo": account.inbox})
    back = api.get(f"{account.messages()}/2")
    assert back["junk"] is False and back["flagged"] is True
    assert len(api.get(f"/users/{account.id}/flagged")["results"]) == 1


def test_move_rejects_the_same_mailbox_and_unknown_targets(api, account):
    upload_n(api, account, 1)
    url = f"{account.messages()}/1"
    assert api.put(url, {"moveTo": account.inbox})["code"] == "InputValidationError"
    assert api.put(url, {"moveTo": "f" * 24})["code"] == "NoSuchMailbox"
    assert api.put(url, {"moveTo": "nope"})["code"] == "InputValidationError"
    assert counters(account, account.inbox)["total"] == 1


def test_hundreds_of_messages_move_and_change_in_transaction_sized_batches(api, account):
    drafts = account.boxes["Drafts"]
    mailfill.fill_mailbox(account.id, account.inbox, 200, unseen_every=2)
    with counting() as calls:
        reply = api.put(f"{account.messages()}/1:*", {"seen": True})
    assert reply["updated"] == 200
    assert calls.by_operation("dynamodb")["TransactWriteItems"] == 4  # 100 changed / 32
    assert counters(account, account.inbox)["unseen"] == 0
    with counting() as calls:
        reply = api.put(f"{account.messages()}/200:1", {"moveTo": drafts})
    assert len(reply["id"]) == 200
    assert reply["id"][0] == [1, 1] and reply["id"][-1] == [200, 200]
    assert calls.by_operation("dynamodb")["TransactWriteItems"] == 11  # 200 / 19
    assert recount(account.inbox)["total"] == 0 == counters(account, account.inbox)["total"]
    after = counters(account, drafts)
    assert {k: after[k] for k in ("total", "unseen", "size")} == recount(drafts)
    assert after["uidNext"] == 201


def test_a_failing_later_batch_leaves_earlier_batches_moved_and_a_retry_finishes(api, account):
    drafts = account.boxes["Drafts"]
    mailfill.fill_mailbox(account.id, account.inbox, 30)
    real_commit = Transaction.commit
    commits = {"n": 0}

    def flaky(self):
        commits["n"] += 1
        if commits["n"] >= 2:
            raise TransactionFailed(set(), conflict=True)
        real_commit(self)

    with mock.patch.object(Transaction, "commit", flaky), \
            mock.patch("chalicelib.store.transact.pause", return_value=False):
        reply = api.put(f"{account.messages()}/1:30", {"moveTo": drafts})
    assert (reply.status, reply["code"]) == (409, "ConcurrentUpdate")
    assert counters(account, drafts)["total"] == 19 == recount(drafts)["total"]
    assert counters(account, account.inbox)["total"] == 11 == recount(account.inbox)["total"]
    again = api.put(f"{account.messages()}/1:30", {"moveTo": drafts})
    assert [pair[0] for pair in again["id"]] == list(range(20, 31))
    assert recount(drafts)["total"] == 30 and counters(account, drafts)["total"] == 30
