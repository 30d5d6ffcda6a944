"""HTTP behaviour of /users/{user}/asps and ASP logins through /authenticate."""
from __future__ import annotations

import base64
import plistlib
import re
import threading

import pyotp

from chalicelib.config import reset_settings
from chalicelib.ids import new_id
from chalicelib.store.asps import AspItem
from chalicelib.store.users import UserItem
from devstack.calls import counting


def create_asp(api, user_id, **body):
    reply = api.post(f"/users/{user_id}/asps", {"description": "Mail client", **body})
    assert reply.status == 200, reply
    return reply


def seed_asps(user_id, count):
    """Write ASP items and their count directly: the API path is what the tests exercise."""
    ids = [new_id() for _ in range(count)]
    with AspItem.batch_write() as batch:
        for asp_id in ids:
            batch.save(AspItem(user=user_id, id=asp_id, description="seeded", scopes=["*"],
                               password="$argon2id$unused", selector="0000", created=1))
    UserItem(id=user_id).update(actions=[UserItem.aspCount.set(count)])
    return ids


def login(api, username, password, scope="imap", **body):
    return api.post("/authenticate", {"username": username, "password": password,
                                      "scope": scope, **body})


def test_created_password_is_16_lower_case_letters_shown_only_once(api, make_user):
    user_id = make_user("asper")
    reply = create_asp(api, user_id, description="Thunderbird", scopes=["imap"])
    assert re.fullmatch(r"[a-z]{16}", reply["password"])
    assert re.fullmatch(r"[0-9a-f]{24}", reply["id"])
    assert "mobileconfig" not in reply.json
    listing = api.get(f"/users/{user_id}/asps")
    assert listing.status == 200
    [item] = listing["results"]
    assert item["id"] == reply["id"] and item["description"] == "Thunderbird"
    assert item["scopes"] == ["imap"] and item["expires"] is False
    assert item["lastUse"] == {"time": False, "event": False}
    assert set(item) == {"id", "description", "scopes", "lastUse", "created", "expires"}
    assert reply["password"].encode() not in listing.raw
    one = api.get(f"/users/{user_id}/asps/{reply['id']}")
    assert one.status == 200 and one["id"] == reply["id"]


def test_password_is_stored_as_argon2_hash_with_a_short_selector(api, make_user):
    user_id = make_user("hashed")
    reply = create_asp(api, user_id)
    item = AspItem.get(user_id, reply["id"])
    assert item.password.startswith("$argon2id$")
    assert re.fullmatch(r"[0-9a-f]{4}", item.selector)
    assert reply["password"] not in str(item.attribute_values)


def test_asp_logs_in_for_imap_but_not_for_master(api, make_user):
    user_id = make_user("client", password="master-pw")
    password = create_asp(api, user_id)["password"]
    spaced = " ".join(password[i:i + 4] for i in range(0, 16, 4)).upper()
    for typed in (password, spaced):
        reply = login(api, "client", typed, scope="imap")
        assert reply.status == 200, reply
        assert reply["scope"] == "imap" and reply["require2fa"] is False
    master = login(api, "client", password, scope="master")
    assert master.status == 403 and master["code"] == "AuthFailed"
    entries = api.get(f"/users/{user_id}/authlog?action=authentication")["results"]
    assert entries[0]["result"] == "fail"
    assert entries[1]["result"] == "success" and entries[1]["source"] == "asp"


def test_asp_scope_must_match_the_requested_scope(api, make_user):
    user_id = make_user("smtponly", password="pw")
    password = create_asp(api, user_id, scopes="smtp")["password"]
    assert login(api, "smtponly", password, scope="smtp").status == 200
    reply = login(api, "smtponly", password, scope="imap")
    assert reply.status == 403 and reply["code"] == "InvalidAuthScope"
    logged = api.get(f"/users/{user_id}/authlog?action=authentication")["results"][0]
    assert logged["result"] == "fail" and logged["source"] == "asp"


# Stored as "*" when every scope is given; listed as the scopes it stands for.
SCOPE_CASES = [
    (None, ["imap", "pop3", "smtp"]),
    (["*"], ["imap", "pop3", "smtp"]),
    ("imap,smtp", ["imap", "smtp"]),
    (["imap", "pop3", "smtp"], ["imap", "pop3", "smtp"]),
    ("smtp, imap, smtp", ["smtp", "imap"]),
    (["imap", "*"], ["imap", "pop3", "smtp"]),
]


def test_scopes_accept_arrays_or_comma_strings_and_list_every_scope(api, make_user):
    user_id = make_user("scopes")
    for given, stored in SCOPE_CASES:
        body = {} if given is None else {"scopes": given}
        asp_id = create_asp(api, user_id, **body)["id"]
        assert api.get(f"/users/{user_id}/asps/{asp_id}")["scopes"] == stored, given


def test_asp_never_requires_2fa(api, make_user):
    user_id = make_user("twofaclient", password="pw")
    seed = api.post(f"/users/{user_id}/2fa/totp/setup", {})["seed"]
    api.post(f"/users/{user_id}/2fa/totp/enable", {"token": pyotp.TOTP(seed).now()})
    password = create_asp(api, user_id)["password"]
    reply = login(api, "twofaclient", password, scope="pop3")
    assert reply.status == 200 and reply["require2fa"] is False


def test_last_use_points_at_the_authentication_event(api, make_user):
    user_id = make_user("used", password="pw")
    created = create_asp(api, user_id)
    login(api, "used", created["password"], ip="10.1.1.1")
    [item] = api.get(f"/users/{user_id}/asps")["results"]
    event = api.get(f"/users/{user_id}/authlog?action=authentication")["results"][0]
    assert item["lastUse"] == {"time": event["created"], "event": event["id"]}
    assert event["asp"] == created["id"] and event["ip"] == "10.1.1.1"


def test_ttl_sets_expires_and_an_expired_asp_is_gone(api, make_user):
    user_id = make_user("shortlived", password="pw")
    created = create_asp(api, user_id, ttl=3600)
    assert api.get(f"/users/{user_id}/asps")["results"] == []  # WildDuck's default
    [item] = api.get(f"/users/{user_id}/asps?showAll=true")["results"]
    assert item["expires"] is not False
    stored = AspItem.get(user_id, created["id"])
    assert stored.expires - stored.created // 1000 == 3600
    stored.update(actions=[AspItem.expires.set(1)])  # moto never runs TTL
    assert api.get(f"/users/{user_id}/asps?showAll=true")["results"] == []
    assert api.get(f"/users/{user_id}/asps/{created['id']}")["code"] == "AspNotFound"
    assert login(api, "shortlived", created["password"])["code"] == "AuthFailed"
    assert api.delete(f"/users/{user_id}/asps/{created['id']}").status == 404


def test_delete_revokes_the_asp_and_is_logged(api, make_user):
    user_id = make_user("deleter", password="pw")
    created = create_asp(api, user_id)
    assert api.delete(f"/users/{user_id}/asps/{created['id']}?ip=10.0.0.9").status == 200
    assert api.get(f"/users/{user_id}/asps")["results"] == []
    assert login(api, "deleter", created["password"]).status == 403
    again = api.delete(f"/users/{user_id}/asps/{created['id']}")
    assert again.status == 404 and again["code"] == "AspNotFound"
    log = api.get(f"/users/{user_id}/authlog")["results"]
    by_action = {e["action"]: e for e in log}
    assert by_action["create asp"]["asp"] == created["id"]
    assert by_action["delete asp"]["asp"] == created["id"]
    assert by_action["delete asp"]["ip"] == "10.0.0.9"
    assert UserItem.get(user_id).aspCount == 0


def test_at_most_50_asps(api, make_user):
    user_id = make_user("hoarder")
    seed_asps(user_id, 49)
    create_asp(api, user_id)
    reply = api.post(f"/users/{user_id}/asps", {"description": "one too many"})
    assert reply.status == 403 and reply["code"] == "TooMany"
    assert len(api.get(f"/users/{user_id}/asps")["results"]) == 50


def test_concurrent_creations_never_exceed_50(api, make_user, serialized_aws):
    from chalicelib.errors import TooMany
    from chalicelib.services import asps
    from chalicelib.services.authlog import Audit

    user_id = make_user("racer")
    seed_asps(user_id, 45)
    outcomes: list[str] = []

    def create() -> None:
        try:
            asps.create(user_id, description="race", scopes=["*"], ttl=None,
                        mobileconfig=False, audit=Audit())
            outcomes.append("created")
        except TooMany:
            outcomes.append("too many")

    threads = [threading.Thread(target=create) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["created"] * 5 + ["too many"] * 7
    assert len(list(AspItem.query(user_id))) == 50
    assert UserItem.get(user_id).aspCount == 50


def test_expired_and_ttl_deleted_asps_free_their_slots(api, make_user):
    user_id = make_user("recycler")
    ids = seed_asps(user_id, 50)
    AspItem.get(user_id, ids[0]).update(actions=[AspItem.expires.set(1)])  # expired, present
    AspItem(user=user_id, id=ids[1]).delete()  # what TTL does: gone, count untouched
    assert api.post(f"/users/{user_id}/asps", {"description": "fits"}).status == 200
    assert len(list(AspItem.query(user_id))) == 49
    assert UserItem.get(user_id).aspCount == 49
    assert api.post(f"/users/{user_id}/asps", {"description": "fits"}).status == 200
    assert api.post(f"/users/{user_id}/asps", {"description": "full"})["code"] == "TooMany"


def test_mobileconfig_names_the_address_and_the_configured_servers(api, make_user, monkeypatch):
    monkeypatch.setenv("IMAP_HOST", "imap.mail.test")
    monkeypatch.setenv("IMAP_PORT", "143")
    monkeypatch.setenv("IMAP_SSL", "false")
    monkeypatch.setenv("SMTP_HOST", "smtp.mail.test")
    monkeypatch.setenv("SMTP_PORT", "587")
    reset_settings()
    user_id = make_user("mobile", address="mobile@mail.test", name="Mo Bile")
    reply = create_asp(api, user_id, scopes=["imap", "smtp"], generateMobileconfig=True)
    profile = plistlib.loads(base64.b64decode(reply["mobileconfig"]))
    assert profile["PayloadType"] == "Configuration"
    [mail] = profile["PayloadContent"]
    assert mail["EmailAddress"] == "mobile@mail.test"
    assert mail["IncomingMailServerHostName"] == "imap.mail.test"
    assert mail["IncomingMailServerPortNumber"] == 143
    assert mail["IncomingMailServerUseSSL"] is False
    assert mail["OutgoingMailServerHostName"] == "smtp.mail.test"
    assert mail["OutgoingMailServerPortNumber"] == 587
    assert mail["IncomingMailServerUsername"] == "mobile"
    assert mail["IncomingPassword"] == reply["password"] == mail["OutgoingPassword"]


def test_asp_login_budget(api, make_user):
    user_id = make_user("asplogin", password="pw")
    for _ in range(5):
        create_asp(api, user_id)
    password = create_asp(api, user_id)["password"]
    with counting() as calls:
        assert login(api, "asplogin", password).status == 200
    # lookup + user, one Query of the ASPs, then the authlog entry and lastUse.
    assert calls.by_operation() == {"GetItem": 2, "Query": 1, "PutItem": 1, "UpdateItem": 1}


def test_only_the_matching_asp_is_hashed_at_login(api, make_user, monkeypatch):
    from chalicelib.security import passwords

    user_id = make_user("selective", password="pw")
    for _ in range(10):
        create_asp(api, user_id)
    password = create_asp(api, user_id)["password"]
    checked: list[str] = []
    original = passwords.verify_password
    monkeypatch.setattr(passwords, "verify_password",
                        lambda pw, encoded: checked.append(encoded) or original(pw, encoded))
    assert login(api, "selective", password).status == 200
    assert len(checked) == 1


BAD_INPUT = [
    ({}, "description"),
    ({"description": "x", "scopes": ["master"]}, "scopes"),
    ({"description": "x", "scopes": "imap,ftp"}, "scopes"),
    ({"description": "x", "scopes": [1]}, "scopes.0"),
    ({"description": "x", "ttl": -1}, "ttl"),
    ({"description": "x", "ttl": "soon"}, "ttl"),
    ({"description": "x", "generateMobileconfig": "perhaps"}, "generateMobileconfig"),
    ({"description": "x", "password": "chosen"}, "password"),
    ({"description": "x" * 256}, "description"),
]


def test_bad_asp_input_is_a_validation_error(api, make_user):
    user_id = make_user("badasp")
    for body, field in BAD_INPUT:
        reply = api.post(f"/users/{user_id}/asps", body)
        assert reply.status == 400 and reply["code"] == "InputValidationError", (body, reply)
        assert field in reply["details"], (body, reply)
    assert api.get(f"/users/{user_id}/asps")["results"] == []


def test_asps_of_unknown_users_and_bad_ids(api, make_user):
    ghost = "b" * 24
    assert api.get(f"/users/{ghost}/asps")["code"] == "UserNotFound"
    assert api.post(f"/users/{ghost}/asps", {"description": "x"})["code"] == "UserNotFound"
    assert api.delete(f"/users/{ghost}/asps/{'c' * 24}")["code"] == "UserNotFound"
    user_id = make_user("realuser")
    assert api.delete(f"/users/{user_id}/asps/not-an-id")["code"] == "InputValidationError"
    assert api.get(f"/users/{user_id}/asps/{'c' * 24}")["code"] == "AspNotFound"
    assert api.get(f"/users/{user_id}/asps?unknown=1").status == 200
