"""GET /users/{user}/updates: the journal as an EventSource stream (long-poll)."""
from __future__ import annotations

import time

import pytest

from chalicelib.config import reset_settings
from chalicelib.store import journal
from chalicelib.store.users import UserItem
from tests.realtime.conftest import put_entry
from tests.support import simple_message, upload_raw


def commands(events):
    return [event["command"] for event in events]


def entries(events):
    """The journal entries of an answer: each answer of a long-poll that found entries
    waiting is a replay, and ends with COUNTERS of the mailboxes they changed."""
    return [event for event in events if event["command"] != "COUNTERS"]


def test_each_change_arrives_as_its_event(api, account, stream):
    client = stream(account.id)
    assert client.poll() == [] and client.last_id == "0"  # starts at the newest entry
    assert upload_raw(api, account, simple_message()).status == 200
    (exists,) = entries(client.poll())
    assert exists["command"] == "EXISTS" and client.last_id == "1"
    assert set(exists) == {"command", "uid", "message", "idate", "thread", "mailbox"}
    assert (exists["uid"], exists["mailbox"]) == (1, account.inbox)
    assert exists["idate"].endswith("Z")
    api.put(f"{account.messages()}/1", {"flagged": True})
    (fetch,) = entries(client.poll())
    assert fetch["command"] == "FETCH" and "\\Flagged" in fetch["flags"]
    assert set(fetch) == {"command", "uid", "flags", "thread", "message", "mailbox"}
    box = api.post(f"/users/{account.id}/mailboxes", {"path": "Work"})["id"]
    api.put(f"/users/{account.id}/mailboxes/{box}", {"path": "Done"})
    assert client.poll() == [{"command": "CREATE", "mailbox": box, "path": "Work"},
                             {"command": "RENAME", "mailbox": box, "path": "Done"}]
    api.put(f"{account.messages()}/1", {"moveTo": box})
    assert commands(client.poll()) == ["EXPUNGE", "EXISTS", "COUNTERS", "COUNTERS"]
    api.delete(f"/users/{account.id}/mailboxes/{box}")
    assert client.poll() == [{"command": "DELETE", "mailbox": box}]
    api.put(f"/users/{account.id}/logout", {"reason": "bye"})
    assert client.poll() == [{"command": "LOGOUT", "reason": "bye"}]
    assert client.last_id == "8"


def test_a_resume_replays_what_was_missed_then_counters(api, account, stream):
    client = stream(account.id)
    client.poll()
    upload_raw(api, account, simple_message())
    client.poll()
    upload_raw(api, account, simple_message("two"))
    api.put(f"{account.messages()}/1", {"seen": False})
    api.post(f"/users/{account.id}/mailboxes", {"path": "Later"})
    events = client.poll()
    assert commands(events) == ["EXISTS", "FETCH", "CREATE", "COUNTERS"]
    assert events[-1] == {"command": "COUNTERS", "mailbox": account.inbox, "total": 2,
                          "unseen": 1}
    assert client.last_id == "4"


def test_the_id_can_come_as_a_query_parameter(api, account):
    upload_raw(api, account, simple_message())
    upload_raw(api, account, simple_message("two"))
    reply = api.get(f"/users/{account.id}/updates?lastEventId=1")
    assert b'"uid":2' in reply.raw and b"id: 2\n" in reply.raw and b'"uid":1' not in reply.raw
    header_wins = api.get(f"/users/{account.id}/updates?lastEventId=0",
                          headers={"Last-Event-ID": "1"})
    assert b'"uid":1' not in header_wins.raw


def test_noop_entries_are_not_sent_but_move_the_position(api, account, stream):
    client = stream(account.id)
    client.poll()
    with journal.reserved(account.id, 2):
        pass  # a write that claimed two numbers and used none
    assert client.poll() == [] and client.last_id == "2"
    upload_raw(api, account, simple_message())
    assert commands(client.poll()) == ["EXISTS", "COUNTERS"] and client.last_id == "3"


def test_a_gap_is_waited_on_then_delivered_in_order(api, account, stream):
    client = stream(account.id)
    client.poll()
    journal.reserve(account.id, 2)
    put_entry(account.id, 2, data={"mailbox": "b", "path": "second"})
    started = time.monotonic()
    assert client.poll() == [] and client.last_id == "0"  # 1 is in flight
    assert time.monotonic() - started >= 0.4  # it waited (UPDATES_WAIT_S)
    put_entry(account.id, 1, data={"mailbox": "a", "path": "first"})
    assert [event["path"] for event in client.poll()] == ["first", "second"]


def test_a_gap_older_than_the_write_budget_is_skipped(api, account, stream):
    client = stream(account.id)
    client.poll()
    journal.reserve(account.id, 3)
    put_entry(account.id, 1, age_s=30)
    put_entry(account.id, 3, age_s=13)  # 2 was claimed before it: its writer died
    assert len(client.poll()) == 2 and client.last_id == "3"


def test_a_resume_id_the_journal_no_longer_holds_gets_a_resync(api, account, stream):
    journal.reserve(account.id, 3)
    for seq in (1, 2, 3):
        put_entry(account.id, seq, age_s=4 * 3600, expires_in=-3600)  # expired
    # the numbers were handed out when those entries were written, 4 hours ago
    UserItem(id=account.id).update(
        actions=[UserItem.journalAt.set(int((time.time() - 4 * 3600) * 1000))])
    client = stream(account.id)
    client.last_id = "1"
    (resync,) = client.poll()
    assert resync["command"] == "RESYNC" and client.last_id == "3"
    assert client.poll() == []  # and it goes on from there
    for stale in ("5", "65f0c0ffee0000000000aa01"):  # beyond the journal, not ours
        client.last_id = stale
        assert commands(client.poll()) == ["RESYNC"] and client.last_id == "3"


def test_an_idle_client_whose_entry_expired_misses_nothing(api, account, stream):
    journal.reserve(account.id, 1)
    put_entry(account.id, 1, age_s=4 * 3600, expires_in=-3600)
    client = stream(account.id)
    client.last_id = "1"
    assert client.poll() == []  # nothing after 1 was handed out: no resync
    upload_raw(api, account, simple_message())
    assert commands(client.poll()) == ["EXISTS", "COUNTERS"]


def test_user_tokens_follow_their_own_account_only(api, make_user, stream, monkeypatch):
    alice = make_user("alice", password="pw")
    bob = make_user("bob", password="pw")
    token = api.post("/authenticate", {"username": "alice", "password": "pw",
                                       "token": True})["token"]
    assert stream(alice, headers={"X-Access-Token": token}).poll() == []
    reply = api.get(f"/users/{bob}/updates", headers={"X-Access-Token": token})
    assert (reply.status, reply["code"]) == (403, "MissingPrivileges")
    monkeypatch.setenv("ACCESS_TOKEN", "operator-token-123456")
    reset_settings()
    assert stream(bob, headers={"X-Access-Token": "operator-token-123456"}).poll() == []
    assert api.get(f"/users/{bob}/updates").status == 403


def test_unknown_and_deleted_accounts_are_not_found(api, make_user):
    assert api.get("/users/000000000000000000000000/updates")["code"] == "UserNotFound"
    assert api.get("/users/nope/updates").status == 400


@pytest.mark.parametrize("path", ["/users/{user}/updates"])
def test_the_stream_is_in_the_openapi_document(api, path):
    operation = api.get("/openapi.json")["paths"][path]["get"]
    content = operation["responses"]["200"]["content"]
    assert list(content) == ["text/event-stream"]
    assert "lastEventId" in [parameter["name"] for parameter in operation["parameters"]]


def test_the_reference_query_parameter_name_and_session_fields(api, account):
    """Today's clients send the id as `Last-Event-ID` in the query, with sess and ip."""
    upload_raw(api, account, simple_message())
    upload_raw(api, account, simple_message("two"))
    reply = api.get(f"/users/{account.id}/updates?Last-Event-ID=1&sess=w1&ip=127.0.0.1")
    assert reply.status == 200
    assert b'"uid":2' in reply.raw and b'"uid":1' not in reply.raw
