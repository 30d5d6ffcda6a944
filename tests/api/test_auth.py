"""HTTP behaviour of /authenticate and /users/{user}/authlog."""
from __future__ import annotations

import hashlib
import base64
import os

from chalicelib.store.authlog import AuthlogItem
from chalicelib.store.users import UserItem
from devstack.calls import counting


def test_authenticate_by_username_or_address(api, make_user):
    user_id = make_user("testuser", password="secretpass", address="testuser@example.com")
    for login in ("testuser", "testuser@example.com", "TestUser@Example.COM"):
        reply = api.post("/authenticate", {"username": login, "password": "secretpass",
                                           "scope": "pop3", "ip": "192.168.10.10"})
        assert reply.status == 200, reply
        assert reply.json == {"success": True, "id": user_id, "username": "testuser",
                              "address": "testuser@example.com", "scope": "pop3",
                              "require2fa": False, "requirePasswordChange": False}


def test_wrong_password_is_auth_failed_and_logged(api, make_user):
    user_id = make_user("victim", password="right")
    reply = api.post("/authenticate", {"username": "victim", "password": "wrong",
                                       "ip": "10.0.0.1", "sess": "s1", "protocol": "IMAP"})
    assert reply.status == 403
    assert reply["code"] == "AuthFailed"
    entry = api.get(f"/users/{user_id}/authlog?action=authentication")["results"][0]
    assert entry["result"] == "fail" and entry["ip"] == "10.0.0.1" and entry["sess"] == "s1"
    assert entry["protocol"] == "IMAP"


def test_unknown_user_is_auth_failed(api):
    reply = api.post("/authenticate", {"username": "ghost", "password": "x"})
    assert reply.status == 403 and reply["code"] == "AuthFailed"


def test_disabled_account_is_refused(api, make_user):
    user_id = make_user("sleepy", password="pw")
    api.put(f"/users/{user_id}", {"disabled": True})
    assert api.post("/authenticate", {"username": "sleepy", "password": "pw"})["code"] == "AuthFailed"


def test_disabled_scope_is_invalid_auth_scope(api, make_user):
    make_user("noimap", password="pw", disabledScopes=["imap"])
    reply = api.post("/authenticate", {"username": "noimap", "password": "pw", "scope": "imap"})
    assert reply.status == 403 and reply["code"] == "InvalidAuthScope"
    assert api.post("/authenticate", {"username": "noimap", "password": "pw",
                                      "scope": "smtp"}).status == 200


def test_unknown_scope_is_a_validation_error(api, make_user):
    make_user("scoped", password="pw")
    reply = api.post("/authenticate", {"username": "scoped", "password": "pw", "scope": "ftp"})
    assert reply.status == 400 and "scope" in reply["details"]


def test_authenticate_budget_by_username(api, make_user):
    make_user("cheap", password="pw")
    with counting() as calls:
        assert api.post("/authenticate", {"username": "cheap", "password": "pw"}).status == 200
    assert calls.by_operation() == {"GetItem": 2, "PutItem": 1}


def test_authenticate_budget_by_address(api, make_user):
    make_user("cheap2", password="pw", address="cheap2@example.com")
    with counting() as calls:
        assert api.post("/authenticate", {"username": "cheap2@example.com",
                                          "password": "pw"}).status == 200
    assert calls.by_operation() == {"GetItem": 2, "PutItem": 1}


def test_imported_bcrypt_hash_logs_in_and_is_rehashed(api, make_user):
    import bcrypt
    legacy = bcrypt.hashpw(b"imported-pw", bcrypt.gensalt(4)).decode().replace("$2b$", "$2a$")
    user_id = make_user("imported", password=legacy, hashedPassword=True)
    assert api.post("/authenticate", {"username": "imported", "password": "imported-pw"}).status == 200
    assert UserItem.get(user_id).password.startswith("$argon2id$")
    assert api.post("/authenticate", {"username": "imported", "password": "imported-pw"}).status == 200


def test_imported_pbkdf2_hash_logs_in(api, make_user):
    salt = os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha512", b"pbkdf2-pw", salt, 1000, 64)
    b64 = lambda raw: base64.b64encode(raw).decode().rstrip("=")
    encoded = f"$pbkdf2-sha512$i=1000${b64(salt)}${b64(digest)}"
    make_user("pbkdf", password=encoded, hashedPassword=True)
    assert api.post("/authenticate", {"username": "pbkdf", "password": "pbkdf2-pw"}).status == 200
    assert api.post("/authenticate", {"username": "pbkdf", "password": "nope"}).status == 403


def test_unsupported_hash_is_rejected(api):
    reply = api.post("/users", {"username": "badhash", "password": "plain", "hashedPassword": True})
    assert reply.status == 400 and "password" in reply["details"]


def test_authlog_is_newest_first_and_pages(api, make_user):
    user_id = make_user("logged", password="pw")
    for n in range(4):
        api.post("/authenticate", {"username": "logged", "password": "pw", "sess": f"s{n}"})
    first = api.get(f"/users/{user_id}/authlog?limit=2&action=authentication")
    assert [e["sess"] for e in first["results"]] == ["s3", "s2"]
    second = api.get(f"/users/{user_id}/authlog?limit=2&action=authentication"
                     f"&next={first['nextCursor']}")
    assert [e["sess"] for e in second["results"]] == ["s1", "s0"]
    back = api.get(f"/users/{user_id}/authlog?limit=2&action=authentication"
                   f"&previous={second['previousCursor']}")
    assert [e["sess"] for e in back["results"]] == ["s3", "s2"]


def test_authlog_filters_by_sess_and_ip(api, make_user):
    user_id = make_user("filtered", password="pw")
    api.post("/authenticate", {"username": "filtered", "password": "pw", "ip": "10.0.0.1"})
    api.post("/authenticate", {"username": "filtered", "password": "pw", "ip": "10.0.0.2",
                               "sess": "abc"})
    assert [e["ip"] for e in api.get(f"/users/{user_id}/authlog?ip=10.0.0.1")["results"]] == ["10.0.0.1"]
    assert [e["sess"] for e in api.get(f"/users/{user_id}/authlog?sess=abc")["results"]] == ["abc"]


def test_authlog_page_is_the_account_check_a_query_and_a_count(api, make_user):
    user_id = make_user("q1", password="pw")
    api.post("/authenticate", {"username": "q1", "password": "pw"})
    with counting() as calls:
        assert api.get(f"/users/{user_id}/authlog").status == 200
    # the log outlives a deleted account until the purge, so the account is read first;
    # the exact total is a COUNT Query of the partition (services/authlog.count)
    assert calls.by_operation() == {"GetItem": 1, "Query": 2}


def test_authlog_entries_expire_after_30_days(api, make_user):
    user_id = make_user("aging", password="pw")
    entries = list(AuthlogItem.query(user_id))
    assert entries and all(29 * 86400 < e.expires - e.created / 1000 <= 30 * 86400 for e in entries)
    for entry in entries:  # moto never runs TTL: expired items must still read as absent
        entry.update(actions=[AuthlogItem.expires.set(1)])
    assert api.get(f"/users/{user_id}/authlog")["results"] == []


def test_authlog_of_unknown_user_is_404(api):
    assert api.get("/users/" + "c" * 24 + "/authlog").status == 404


def test_username_in_address_form_still_logs_in(api, make_user):
    make_user("john@legacy.example", password="pw", emptyAddress=True)
    reply = api.post("/authenticate", {"username": "john@legacy.example", "password": "pw"})
    assert reply.status == 200 and reply["username"] == "john@legacy.example"
