"""Answers carry today's WildDuck fields with WildDuck's values for "none"
(docs/compatibility.md; the route-by-route comparison behind it)."""
from __future__ import annotations


def test_addresses_without_a_name_answer_false(api, make_user):
    user_id = make_user("noname", address="noname@example.com")
    alias = api.post(f"/users/{user_id}/addresses", {"address": "other@example.com"})["id"]
    named = api.post(f"/users/{user_id}/addresses",
                     {"address": "named@example.com", "name": "Named"})["id"]
    listed = {a["address"]: a["name"] for a in api.get(f"/users/{user_id}/addresses")["results"]}
    assert listed == {"noname@example.com": False, "other@example.com": False,
                      "named@example.com": "Named"}
    assert api.get(f"/users/{user_id}/addresses/{alias}")["name"] is False
    assert api.get(f"/users/{user_id}/addresses/{named}")["name"] == "Named"
    searched = {a["address"]: a["name"] for a in api.get("/addresses")["results"]}
    assert searched["other@example.com"] is False and searched["named@example.com"] == "Named"

    forwarded = api.post("/addresses/forwarded",
                         {"address": "fwd@example.com", "targets": ["x@example.org"]})["id"]
    assert api.get(f"/addresses/forwarded/{forwarded}")["name"] is False
    # Resolving the address answers "" for the same, as WildDuck does.
    assert api.get("/addresses/resolve/fwd@example.com")["name"] == ""


def test_asps_list_every_scope_and_a_profile_names_its_account(api, make_user):
    user_id = make_user("phone", address="phone@example.com", name="Phone User")
    every = api.post(f"/users/{user_id}/asps", {"description": "all", "scopes": ["*"]})
    assert set(every.json) == {"success", "id", "password"}
    listed = api.get(f"/users/{user_id}/asps")["results"]
    assert listed[0]["scopes"] == ["imap", "pop3", "smtp"]
    assert api.get(f"/users/{user_id}/asps/{every['id']}")["scopes"] == ["imap", "pop3", "smtp"]

    profile = api.post(f"/users/{user_id}/asps", {"description": "mobile", "scopes": ["imap", "smtp"],
                                                  "generateMobileconfig": True})
    assert profile.status == 200, profile
    assert (profile["name"], profile["address"]) == ("Phone User", "phone@example.com")
    assert profile["mobileconfig"] and len(profile["password"]) == 16


def test_password_reset_answers_from_when_the_password_is_valid(api, make_user):
    from datetime import datetime, timezone
    user_id = make_user("forgetful")
    before = datetime.now(timezone.utc)
    reply = api.post(f"/users/{user_id}/password/reset", {})
    assert reply.status == 200 and set(reply.json) == {"success", "password", "validAfter"}
    valid_after = datetime.fromisoformat(reply["validAfter"].replace("Z", "+00:00"))
    assert abs((valid_after - before).total_seconds()) < 5
    assert api.post("/authenticate", {"username": "forgetful",
                                      "password": reply["password"]}).status == 200


def test_deleting_a_user_answers_the_scheduled_task(api, make_user):
    from datetime import datetime, timezone
    user_id = make_user("leaving", address="leaving@example.com")
    api.post(f"/users/{user_id}/addresses", {"address": "leaving2@example.com"})
    reply = api.delete(f"/users/{user_id}")
    assert reply.status == 200, reply
    assert {k: reply[k] for k in ("success", "code", "user", "addresses")} == {
        "success": True, "code": "TaskScheduled", "user": user_id, "addresses": {"deleted": 2}}
    after = datetime.fromisoformat(reply["deleteAfter"].replace("Z", "+00:00"))
    assert after > datetime.now(timezone.utc)
    restored = api.post(f"/users/{user_id}/restore", {})
    assert (restored["code"], restored["task"]) == ("TaskCancelled", reply["task"])


def test_authlog_listing_echoes_its_action_filter(api, make_user):
    user_id = make_user("logged")
    api.post("/authenticate", {"username": "logged", "password": "secret-pass"})
    filtered = api.get(f"/users/{user_id}/authlog?action=authentication")
    assert filtered["action"] == "authentication"
    assert [e["action"] for e in filtered["results"]] == ["authentication"]
    assert "action" not in api.get(f"/users/{user_id}/authlog").json


def test_restoring_an_archived_message_answers_its_new_id(api, account):
    from tests.support import simple_message, upload_raw
    uid = upload_raw(api, account, simple_message())["message"]["id"]
    assert api.delete(account.messages() + f"/{uid}").status == 200
    [archived] = api.get(f"/users/{account.id}/archived/messages")["results"]
    reply = api.post(f"/users/{account.id}/archived/messages/{archived['id']}/restore", {})
    assert reply.status == 200, reply
    assert reply["mailbox"] == account.inbox and reply["id"] == reply["uid"]
    assert api.get(account.messages() + f"/{reply['id']}").status == 200


def test_a_message_answers_empty_metadata(api, account):
    from tests.support import simple_message, upload_raw
    uid = upload_raw(api, account, simple_message())["message"]["id"]
    assert api.get(account.messages() + f"/{uid}")["metaData"] == {}
    assert api.delete(account.messages() + f"/{uid}").status == 200
    [archived] = api.get(f"/users/{account.id}/archived/messages")["results"]
    assert api.get(f"/users/{account.id}/archived/messages/{archived['id']}")["metaData"] == {}


def test_user_listing_shows_whether_the_autoreply_is_on(api, make_user):
    away = make_user("away")
    home = make_user("home")
    off = make_user("off")
    assert api.put(f"/users/{away}/autoreply", {"status": True, "text": "gone"}).status == 200
    assert api.put(f"/users/{off}/autoreply", {"status": False, "text": "back"}).status == 200
    listed = {u["id"]: u["autoreply"] for u in api.get("/users")["results"]}
    assert listed == {away: True, home: False, off: False}
    assert api.get(f"/users/{away}")["autoreply"] is True


def test_resolving_an_account_address_answers_its_tags_created_and_metadata(api, make_user):
    user_id = make_user("tagged", address="tagged@example.com")
    created = api.post(f"/users/{user_id}/addresses", {
        "address": "alias@example.com", "tags": ["Work"], "metaData": {"a": 1},
        "internalData": {"secret": 2}})
    assert created.status == 200
    found = api.get("/addresses/resolve/alias@example.com")
    assert (found["id"], found["user"], found["tags"]) == (created["id"], user_id, ["Work"])
    assert found["metaData"] == {"a": 1} and found["internalData"] == {"secret": 2}
    assert found["created"].endswith("Z")


def test_the_autoreply_answers_its_id_and_keeps_it(api, make_user):
    user_id = make_user("away")
    first = api.put(f"/users/{user_id}/autoreply", {"status": True, "subject": "Away"})
    second = api.put(f"/users/{user_id}/autoreply", {"status": False})
    assert first.status == 200 and len(first["id"]) == 24
    assert second["id"] == first["id"]
