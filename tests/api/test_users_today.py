"""/users with the fields and routes today's WildDuck clients use (docs/compatibility.md).

Request bodies follow WildDuck's own API tests (test/api/users-test.js) and what admin
panels and the web mail send.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from chalicelib.store.mailboxes import MailboxItem
from chalicelib.store.tasks import QUOTA_RESET, TaskItem
from tests.api.test_user_tokens import as_user, issue

PUB_KEY = (Path(__file__).parent / "fixtures" / "keybase-pubkey.asc").read_text()

# The creation request of WildDuck's users test, field for field.
FULL_CREATE = {
    "username": "myuser2", "name": "John Smith", "address": "john@example.com",
    "password": "secretvalue", "hashedPassword": False, "emptyAddress": False,
    "language": "et", "retention": 0,
    "targets": ["user@example.com", "https://example.com/upload/email"],
    "spamLevel": 50, "quota": 1073741824, "recipients": 2000, "forwards": 2000,
    "requirePasswordChange": False, "imapMaxUpload": 5368709120,
    "imapMaxDownload": 21474836480, "pop3MaxDownload": 21474836480, "pop3MaxMessages": 300,
    "imapMaxConnections": 15, "receivedMax": 60,
    "fromWhitelist": ["user@alternative.domain", "*@example.com"],
    "tags": ["status:user", "account:example.com"], "addTagsToAddress": False,
    "uploadSentMessages": False,
    "mailboxes": {"sent": "Saadetud kirjad", "trash": "Prügikast", "junk": "Praht",
                  "drafts": "Mustandid"},
    "disabledScopes": ["imap", "pop3", "smtp"],
    "metaData": {"accountIcon": "avatar.png"}, "internalData": {"inTrial": True},
    "pubKey": PUB_KEY, "encryptMessages": False, "encryptForwarded": False,
}


def test_wildduck_creation_request_is_accepted_and_read_back(api):
    created = api.post("/users", FULL_CREATE)
    assert created.status == 200, created
    user = api.get(f"/users/{created['id']}").json
    assert user["targets"] == ["user@example.com", "https://example.com/upload/email"]
    assert user["spamLevel"] == 50
    assert user["fromWhitelist"] == ["user@alternative.domain", "*@example.com"]
    assert user["metaData"] == {"accountIcon": "avatar.png"}
    assert user["internalData"] == {"inTrial": True}
    assert user["uploadSentMessages"] is False
    assert user["keyInfo"]["address"] == "test@wildduck.email"
    limits = user["limits"]
    assert limits["imapUpload"] == {"allowed": 5368709120, "used": 0, "ttl": False}
    assert limits["imapDownload"]["allowed"] == 21474836480
    assert limits["pop3Download"]["allowed"] == 21474836480
    assert limits["pop3MaxMessages"] == {"allowed": 300}
    assert limits["imapMaxConnections"] == {"allowed": 15, "used": 0}
    assert limits["received"]["allowed"] == 60
    paths = {box.specialUse: box.path for box in MailboxItem.query(created["id"])}
    assert paths == {None: "INBOX", "\\Sent": "Saadetud kirjad", "\\Trash": "Prügikast",
                     "\\Junk": "Praht", "\\Drafts": "Mustandid"}


def test_defaults_of_the_new_fields(api, make_user):
    user = api.get(f"/users/{make_user('plain')}").json
    assert (user["targets"], user["spamLevel"], user["fromWhitelist"]) == ([], 50, [])
    assert (user["metaData"], user["internalData"], user["featureFlags"]) == ({}, {}, {})
    limits = user["limits"]
    assert limits["imapUpload"]["allowed"] == 10 * 1024 ** 3
    assert limits["pop3MaxMessages"]["allowed"] == 250
    assert limits["imapMaxConnections"]["allowed"] == 15
    assert limits["received"]["allowed"] == 60


def test_one_special_name_keeps_the_others_in_the_account_language(api, make_user):
    user_id = make_user("named", language="de", mailboxes={"junk": "Werbung", "sent": ""})
    paths = {box.specialUse: box.path for box in MailboxItem.query(user_id)}
    assert paths["\\Junk"] == "Werbung" and paths["\\Sent"] == "Gesendet"


@pytest.mark.parametrize("mailboxes, field", [
    ({"sent": "Trash"}, "mailboxes"),  # the default Trash is still created
    ({"sent": "Box", "drafts": "Box"}, "mailboxes"),
    ({"sent": "inbox"}, "mailboxes"),
    ({"trash": "Bin/"}, "mailboxes.trash"),
    ({"trash": "A//B"}, "mailboxes.trash"),
    ({"outbox": "Out"}, "mailboxes.outbox"),
])
def test_special_names_that_can_not_be_created_are_refused(api, mailboxes, field):
    reply = api.post("/users", {"username": "boxes", "password": "pw", "mailboxes": mailboxes})
    assert reply.status == 400 and reply["code"] == "InputValidationError", reply
    assert field in reply["details"]
    if field == "mailboxes":
        assert reply["error"].startswith("Duplicate mailbox name: ")


def test_tags_go_to_the_address_with_add_tags_to_address(api, make_user):
    tagged = make_user("tagged", tags=["vip"], addTagsToAddress=True)
    untagged = make_user("untagged", tags=["vip"])
    assert api.get(f"/users/{tagged}/addresses")["results"][0]["tags"] == ["vip"]
    assert api.get(f"/users/{untagged}/addresses")["results"][0]["tags"] == []


@pytest.mark.parametrize("field, value", [
    ("targets", ["not an address"]),
    ("targets", ["ftp://mx.example.com"]),
    ("targets", 5),
    ("spamLevel", 101),
    ("spamLevel", -1),
    ("imapMaxUpload", -1),
    ("pop3MaxMessages", "many"),
    ("metaData", "not json"),
    ("metaData", "[1, 2]"),
    ("internalData", ["list"]),
    ("metaData", {"big": "x" * 70_000}),
    ("fromWhitelist", ["x" * 129]),
    ("uploadSentMessages", "maybe"),
    ("featureFlags", {"unknown": True}),
])
def test_bad_values_of_the_new_fields_are_input_errors(api, field, value):
    reply = api.post("/users", {"username": "bad", "password": "pw", field: value})
    assert reply.status == 400 and reply["code"] == "InputValidationError", reply
    assert any(key.startswith(field) for key in reply["details"]), reply.json


def test_metadata_as_a_json_string_and_allow_unsafe_are_accepted(api, make_user):
    user_id = make_user("stringy", metaData='{"a": [1, {"b": null}]}', allowUnsafe=False)
    assert api.get(f"/users/{user_id}")["metaData"] == {"a": [1, {"b": None}]}


def test_update_changes_and_clears_the_new_fields(api, make_user):
    user_id = make_user("changing")
    reply = api.put(f"/users/{user_id}", {
        "targets": ["smtp://mx2.zone.eu:25", "Other@Example.com"], "spamLevel": 0,
        "uploadSentMessages": True, "fromWhitelist": ["A@Example.com"],
        "metaData": {"k": "v"}, "internalData": '{"plan": "gold"}', "imapMaxConnections": 5,
        "featureFlags": {"indexing": True}, "allowUnsafe": True})
    assert reply.status == 200, reply
    user = api.get(f"/users/{user_id}").json
    assert user["targets"] == ["smtp://mx2.zone.eu:25", "Other@example.com"]
    assert (user["spamLevel"], user["uploadSentMessages"]) == (0, True)
    assert user["fromWhitelist"] == ["a@example.com"]
    assert (user["metaData"], user["internalData"]) == ({"k": "v"}, {"plan": "gold"})
    assert user["limits"]["imapMaxConnections"]["allowed"] == 5
    assert user["featureFlags"] == {"indexing": True}
    api.put(f"/users/{user_id}", {"targets": [], "metaData": {}, "imapMaxConnections": 0})
    user = api.get(f"/users/{user_id}").json
    assert (user["targets"], user["metaData"]) == ([], {})
    assert user["limits"]["imapMaxConnections"]["allowed"] == 15


def test_internal_data_is_the_operators_only(api, make_user):
    user_id = make_user("private", password="pw", internalData={"secret": 1},
                        metaData={"shown": 1})
    token = issue(api, "private")
    own = api.get(f"/users/{user_id}", **as_user(token))
    assert own.status == 200 and own["metaData"] == {"shown": 1}
    assert "internalData" not in own.json
    refused = api.put(f"/users/{user_id}", {"internalData": {}}, **as_user(token))
    assert (refused.status, refused["code"]) == (403, "MissingPrivileges")
    allowed = api.put(f"/users/{user_id}", {"spamLevel": 80, "targets": ["me@example.org"],
                                            "metaData": {"theme": "dark"}}, **as_user(token))
    assert allowed.status == 200, allowed
    assert api.get(f"/users/{user_id}")["internalData"] == {"secret": 1}


def test_disable2fa_turns_totp_off(api, make_user):
    from tests.api.test_twofa import enabled_seed
    user_id = make_user("second", password="pw")
    enabled_seed(api, user_id)
    assert api.put(f"/users/{user_id}", {"disable2fa": True}).status == 200
    assert api.get(f"/users/{user_id}")["enabled2fa"] == []


def test_listing_shows_targets_and_metadata_only_when_asked(api, make_user):
    user_id = make_user("listed", targets=["fwd@example.org"], metaData={"m": 1},
                        internalData={"i": 2})
    plain = api.get("/users")["results"][0]
    assert plain["targets"] == ["fwd@example.org"]
    assert "metaData" not in plain and "internalData" not in plain
    asked = api.get("/users?metaData=true&internalData=true")["results"][0]
    assert (asked["id"], asked["metaData"], asked["internalData"]) == (user_id, {"m": 1},
                                                                       {"i": 2})
    assert [u["id"] for u in api.get("/users?forward=fwd@example.org")["results"]] == [user_id]
    assert api.get("/users?forward=other@example.org")["results"] == []


def test_resolve_username(api, make_user):
    user_id = make_user("my.user2")
    assert api.get("/users/resolve/myuser2").json == {"success": True, "id": user_id}
    assert api.get("/users/resolve/MY.USER2")["id"] == user_id
    missing = api.get("/users/resolve/nobody")
    assert (missing.status, missing["code"], missing["error"]) == (
        404, "UserNotFound", "This user does not exist")


def test_users_me_with_a_user_token(api, make_user):
    user_id = make_user("itsme", password="pw")
    token = issue(api, "itsme")
    me = api.get("/users/me", **as_user(token))
    assert (me.status, me["id"], me["username"]) == (200, user_id, "itsme")
    assert api.get("/users/me/addresses", **as_user(token)).status == 200
    # the operator has no account of its own
    assert api.get("/users/me").status == 400
    assert api.delete("/authenticate", **as_user(token)).status == 200
    assert api.get("/users/me", **as_user(token)).status == 403


def test_quota_reset_for_every_user_runs_as_a_background_task(api, make_user):
    from chalicelib.services import quota
    from chalicelib.store.users import UserItem
    ids = [make_user(f"q{n}") for n in range(3)]
    for user_id in ids:
        UserItem.get(user_id).update(actions=[UserItem.storageUsed.set(999)])
    reply = api.post("/quota/reset", {})
    assert reply.status == 200 and len(reply["task"]) == 24
    assert quota.reset_all(max_users=2) == (0, 2)  # bounded: resumes at the third
    assert [t.data.as_dict() for t in TaskItem.query(QUOTA_RESET)] == [{"after": ids[1]}]
    assert quota.reset_all(max_users=2) == (1, 1)
    assert list(TaskItem.query(QUOTA_RESET)) == []
    assert [api.get(f"/users/{u}")["limits"]["quota"]["used"] for u in ids] == [0, 0, 0]


def test_quota_reset_job_is_scheduled(app):
    assert "reset_quotas" in app.handler_map


def test_new_forwarding_targets_are_on_the_security_log(api, make_user):
    user_id = make_user("forwarder", targets=["one@example.org"], ip="192.0.2.7")

    def forwards():
        return sorted(e["target"] for e in api.get(f"/users/{user_id}/authlog")["results"]
                      if e["action"] == "user forward added")

    assert forwards() == ["one@example.org"]
    api.put(f"/users/{user_id}", {"targets": ["one@example.org", "smtp://mx.example.net:25"]})
    assert forwards() == ["one@example.org", "smtp://mx.example.net:25"]
    api.put(f"/users/{user_id}", {"targets": []})
    assert len(forwards()) == 2
    entry = next(e for e in api.get(f"/users/{user_id}/authlog")["results"]
                 if e.get("target") == "one@example.org")
    assert (entry["protocol"], entry["ip"], entry["result"]) == ("API", "192.0.2.7", "success")


def test_at_most_50_targets(api):
    targets = [f"t{n}@example.org" for n in range(51)]
    reply = api.post("/users", {"username": "many", "password": "pw", "targets": targets})
    assert reply.status == 400 and "targets" in reply["details"]
    assert api.post("/users", {"username": "many", "password": "pw",
                               "targets": targets[:50]}).status == 200
