"""GET/POST /users/{user}/restore: undoing a deletion within the grace period."""
from __future__ import annotations

import time

from chalicelib.services import maintenance
from chalicelib.store.tasks import PURGE_USER, TaskItem
from tests.support import simple_message, upload_raw


def _delete(api, user_id):
    reply = api.delete(f"/users/{user_id}")
    assert reply.status == 200, reply


def test_restore_brings_back_mailboxes_messages_and_addresses(api, account):
    upload_raw(api, account, simple_message("kept"))
    alias = api.post(f"/users/{account.id}/addresses", {"address": "alias@example.com"})["id"]
    before = api.get(f"/users/{account.id}").json
    _delete(api, account.id)
    assert api.get(f"/users/{account.id}").status == 404

    info = api.get(f"/users/{account.id}/restore")
    assert info.status == 200, info
    assert info["username"] == "mailuser" and info["user"] == account.id
    assert sorted(info["recoverableAddresses"]) == ["alias@example.com", "mailuser@example.com"]
    assert info["storageUsed"] == before["limits"]["quota"]["used"] > 0

    restored = api.post(f"/users/{account.id}/restore", {"sess": "s1", "ip": "192.0.2.1"})
    assert restored.status == 200, restored
    task_id = restored["task"]
    assert restored.json == {"success": True, "code": "TaskCancelled", "user": account.id,
                             "task": task_id,
                             "addresses": {"recovered": 2, "main": "mailuser@example.com"}}
    after = api.get(f"/users/{account.id}").json
    assert after["address"] == "mailuser@example.com"
    assert after["limits"]["quota"] == before["limits"]["quota"]
    listing = api.get(f"{account.messages()}")
    assert [m["subject"] for m in listing["results"]] == ["kept"]
    assert api.get("/addresses/resolve/alias@example.com")["id"] == alias
    assert api.get("/users/resolve/mailuser")["id"] == account.id
    actions = [e["action"] for e in api.get(f"/users/{account.id}/authlog")["results"]]
    assert "restore user" in actions
    # nothing left for the purge, and mail keeps flowing into the restored INBOX
    assert list(TaskItem.query(PURGE_USER)) == []
    assert upload_raw(api, account, simple_message("new")).status == 200
    assert api.get(account.messages())["results"][0]["id"] == 2


def test_an_address_taken_meanwhile_is_not_recovered(api, make_user):
    first = make_user("first", address="shared@example.com")
    _delete(api, first)
    make_user("second", address="shared@example.com")
    assert api.get(f"/users/{first}/restore")["recoverableAddresses"] == []
    restored = api.post(f"/users/{first}/restore")
    assert restored["addresses"] == {"recovered": 0}
    assert api.get(f"/users/{first}")["address"] is None


def test_restore_errors(api, make_user):
    live = make_user("alive")
    missing = api.get(f"/users/{live}/restore")
    assert (missing.status, missing["code"], missing["error"]) == (
        404, "AccountNotFound", "Deleted account was not found")
    assert api.post(f"/users/{live}/restore").status == 404
    _delete(api, live)
    assert api.post(f"/users/{live}/restore").status == 200
    again = api.post(f"/users/{live}/restore")
    assert (again.status, again["code"]) == (404, "AccountNotFound")


def test_a_taken_username_refuses_the_restore(api, make_user):
    gone = make_user("reused", emptyAddress=True)
    _delete(api, gone)
    make_user("reused", emptyAddress=True)
    reply = api.post(f"/users/{gone}/restore")
    assert (reply.status, reply["code"]) == (400, "UserExistsError")


def test_after_the_grace_period_the_deletion_is_in_progress(api, make_user):
    gone = make_user("late")
    _delete(api, gone)
    for task in TaskItem.query(PURGE_USER):
        task.update(actions=[TaskItem.notBefore.set(int(time.time()) - 1)])
    reply = api.post(f"/users/{gone}/restore")
    assert (reply.status, reply["code"], reply["error"]) == (
        400, "DeleteInProgress", "Deletion already in progress")
    maintenance.purge_users()
    assert api.get(f"/users/{gone}/restore").status == 404


def test_delete_after_sets_when_the_data_goes(api, make_user):
    later = make_user("later")
    reply = api.delete(f"/users/{later}?deleteAfter=2999-01-01T00:00:00Z")
    assert reply.status == 200 and reply["deleteAfter"].startswith("2999-01-01")
    maintenance.purge_users()  # not yet due
    assert api.get(f"/users/{later}/restore").status == 200
    assert api.post(f"/users/{later}/restore").status == 200
    now = make_user("now")
    reply = api.delete(f"/users/{now}?deleteAfter=false")
    assert reply.status == 200
    assert abs(time.mktime(time.strptime(reply["deleteAfter"][:19], "%Y-%m-%dT%H:%M:%S"))
               - time.mktime(time.gmtime())) < 5
    refused = api.post(f"/users/{now}/restore")
    assert (refused.status, refused["code"]) == (400, "DeleteInProgress")
    maintenance.purge_users()
    assert api.get(f"/users/{now}/restore").status == 404
    assert api.delete(f"/users/{make_user('bad')}?deleteAfter=soon").status == 400
