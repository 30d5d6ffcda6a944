"""User-scoped API tokens: issued by /authenticate, limited to the user's own routes."""
from __future__ import annotations

import hashlib
from types import SimpleNamespace

import pytest

from chalicelib.api.access import check_access
from chalicelib.config import reset_settings
from chalicelib.errors import MissingPrivileges
from chalicelib.security.secrets import token_digest
from chalicelib.store.keys import KeyItem, token_key
from devstack.calls import counting


def issue(api, username, password="pw", **body):
    reply = api.post("/authenticate", {"username": username, "password": password,
                                       "token": True, **body})
    assert reply.status == 200, reply
    return reply["token"]


def as_user(token):
    return {"headers": {"X-Access-Token": token}}


def test_token_reads_its_own_user_but_not_another(api, make_user):
    alice, bob = make_user("alice", password="pw"), make_user("bob", password="pw")
    token = issue(api, "alice")
    assert api.get(f"/users/{alice}", **as_user(token))["username"] == "alice"
    assert api.get(f"/users/{alice}/authlog", **as_user(token)).status == 200
    assert api.get(f"/users/{alice.upper()}", **as_user(token)).status == 200
    for path in (f"/users/{bob}", f"/users/{bob}/asps", f"/users/{bob}/authlog"):
        reply = api.get(path, **as_user(token))
        assert reply.status == 403 and reply["code"] == "MissingPrivileges", path


def test_token_works_as_query_header_or_bearer(api, make_user):
    user_id = make_user("carrier", password="pw")
    token = issue(api, "carrier")
    assert api.get(f"/users/{user_id}?accessToken={token}").status == 200
    assert api.get(f"/users/{user_id}", headers={"Authorization": f"Bearer {token}"}).status == 200


def test_token_cannot_reach_admin_wide_routes(api, make_user):
    make_user("admin-wannabe", password="pw")
    token = issue(api, "admin-wannabe")
    for method, path, body in (("GET", "/users", None),
                               ("POST", "/users", {"username": "x", "password": "y"}),
                               ("POST", "/authenticate", {"username": "x", "password": "y"})):
        reply = api.call(method, path, body, **as_user(token))
        assert reply.status == 403 and reply["code"] == "MissingPrivileges", path


def test_token_is_refused_on_routes_outside_the_users_subtree(make_user, api):
    make_user("outsider", password="pw")
    token = issue(api, "outsider")
    for route in ("/addresses", "/addresses/{address}", "/openapi.json"):
        request = SimpleNamespace(query_params={}, headers={"x-access-token": token},
                                  method="GET", uri_params={}, context={"resourcePath": route})
        with pytest.raises(MissingPrivileges):
            check_access(request)


def test_revoked_token_gets_403(api, make_user):
    user_id = make_user("revoker", password="pw")
    token = issue(api, "revoker")
    other = issue(api, "revoker")
    assert api.delete("/authenticate", **as_user(token)).status == 200
    reply = api.get(f"/users/{user_id}", **as_user(token))
    assert reply.status == 403 and reply["code"] == "InvalidToken"
    assert api.delete("/authenticate", **as_user(token))["code"] == "InvalidToken"
    assert api.get(f"/users/{user_id}", **as_user(other)).status == 200


def test_expired_token_gets_403(api, make_user):
    user_id = make_user("expiring", password="pw")
    token = issue(api, "expiring")
    item = KeyItem.get(token_key(token_digest(token)))
    assert 0 < item.expires - item.data["created"] // 1000 <= 24 * 3600
    item.update(actions=[KeyItem.expires.set(1)])  # moto never runs TTL
    reply = api.get(f"/users/{user_id}", **as_user(token))
    assert reply.status == 403 and reply["code"] == "InvalidToken"


def test_password_change_revokes_earlier_tokens(api, make_user):
    user_id = make_user("changer", password="pw")
    token = issue(api, "changer")
    assert api.put(f"/users/{user_id}", {"password": "new-pw"}).status == 200
    assert api.get(f"/users/{user_id}", **as_user(token))["code"] == "InvalidToken"
    fresh = issue(api, "changer", password="new-pw")
    assert api.get(f"/users/{user_id}", **as_user(fresh)).status == 200


def test_token_of_a_disabled_or_deleted_user_is_refused(api, make_user):
    user_id = make_user("leaver", password="pw")
    token = issue(api, "leaver")
    api.put(f"/users/{user_id}", {"disabled": True})
    assert api.get(f"/users/{user_id}", **as_user(token))["code"] == "InvalidToken"
    api.put(f"/users/{user_id}", {"disabled": False})
    assert api.get(f"/users/{user_id}", **as_user(token)).status == 200
    api.delete(f"/users/{user_id}")
    assert api.get(f"/users/{user_id}", **as_user(token))["code"] == "InvalidToken"


def test_token_is_stored_only_as_a_digest(api, make_user):
    user_id = make_user("digest", password="pw")
    token = issue(api, "digest")
    item = KeyItem.get("token#" + hashlib.sha256(token.encode()).hexdigest())
    assert item.user == user_id
    assert token not in str(item.attribute_values)


def test_unknown_or_malformed_tokens_are_invalid(api, make_user):
    user_id = make_user("guessed", password="pw")
    for token in ("0" * 40, "not-a-token"):
        reply = api.get(f"/users/{user_id}", **as_user(token))
        assert reply.status == 403 and reply["code"] == "InvalidToken"


def test_token_is_only_issued_for_the_master_scope(api, make_user):
    make_user("imaponly", password="pw")
    reply = api.post("/authenticate", {"username": "imaponly", "password": "pw",
                                       "scope": "imap", "token": True})
    assert reply.status == 400 and "token" in reply["details"]


def test_no_token_without_asking(api, make_user):
    make_user("quiet", password="pw")
    assert "token" not in api.post("/authenticate", {"username": "quiet", "password": "pw"}).json


def test_delete_authenticate_needs_a_user_token(api):
    reply = api.delete("/authenticate")
    assert reply.status == 403 and reply["code"] == "InvalidToken"


def test_deployment_token_keeps_full_access_beside_user_tokens(api, make_user, monkeypatch):
    alice, bob = make_user("alice", password="pw"), make_user("bob", password="pw")
    token = issue(api, "alice")
    monkeypatch.setenv("ACCESS_TOKEN", "deployment-secret")
    reset_settings()
    try:
        admin = {"headers": {"X-Access-Token": "deployment-secret"}}
        assert api.get("/users", **admin).status == 200
        assert api.get(f"/users/{bob}", **admin).status == 200
        assert api.get(f"/users/{alice}", **as_user(token)).status == 200
        assert api.get(f"/users/{bob}", **as_user(token))["code"] == "MissingPrivileges"
        assert api.get(f"/users/{alice}")["code"] == "InvalidToken"
    finally:
        monkeypatch.delenv("ACCESS_TOKEN")
        reset_settings()


def test_user_token_check_is_one_batch_read(api, make_user):
    user_id = make_user("cheap", password="pw")
    token = issue(api, "cheap")
    with counting() as calls:
        assert api.get(f"/users/{user_id}", **as_user(token)).status == 200
    # token + its user in one BatchGetItem, then the route's own reads (the user, and
    # its filters partition for limits.filters): the token check adds one call.
    assert calls.by_operation() == {"BatchGetItem": 1, "GetItem": 1, "Query": 1}


def test_token_issued_with_2fa_on_is_limited_until_the_check(api, make_user):
    import pyotp
    from tests.api.test_twofa import enabled_seed

    user_id = make_user("twofactor", password="pw")
    totp = pyotp.TOTP(enabled_seed(api, user_id))
    token = issue(api, "twofactor")
    # (the reads a web mail makes before the code prompt are allowed: test_pending_2fa.py)
    for method, path in (("GET", f"/users/{user_id}/addresses"),
                         ("DELETE", f"/users/{user_id}/2fa"),
                         ("POST", f"/users/{user_id}/asps")):
        reply = api.call(method, path, {"description": "x"} if method == "POST" else None,
                         **as_user(token))
        assert (reply.status, reply["code"]) == (403, "MissingPrivileges"), (method, path)
    wrong = f"{(int(totp.now()) + 500_000) % 1_000_000:06d}"
    assert api.post(f"/users/{user_id}/2fa/totp/check", {"token": wrong},
                    **as_user(token)).status == 403
    assert api.get(f"/users/{user_id}/addresses", **as_user(token)).status == 403
    checked = api.post(f"/users/{user_id}/2fa/totp/check", {"token": totp.now()},
                       **as_user(token))
    assert checked.status == 200, checked
    assert api.get(f"/users/{user_id}/addresses", **as_user(token)).status == 200


def test_token_cannot_do_what_only_the_operator_may(api, make_user):
    user_id = make_user("limited", password="pw")
    token = issue(api, "limited")
    for method, path in (("DELETE", f"/users/{user_id}"),
                         ("POST", f"/users/{user_id}/password/reset")):
        reply = api.call(method, path, {} if method == "POST" else None, **as_user(token))
        assert (reply.status, reply["code"]) == (403, "MissingPrivileges"), path
    for body in ({"quota": 10 ** 12}, {"disabled": False}, {"tags": ["vip"]}):
        reply = api.put(f"/users/{user_id}", body, **as_user(token))
        assert (reply.status, reply["code"]) == (403, "MissingPrivileges"), body
    assert api.put(f"/users/{user_id}", {"name": "Own Name"}, **as_user(token)).status == 200
    no_proof = api.put(f"/users/{user_id}", {"password": "new-pw"}, **as_user(token))
    assert no_proof["code"] == "MissingPrivileges"
    changed = api.put(f"/users/{user_id}", {"password": "new-pw", "existingPassword": "pw"},
                      **as_user(token))
    assert changed.status == 200
    assert api.get(f"/users/{user_id}", **as_user(token))["code"] == "InvalidToken"


def test_password_reset_revokes_tokens(api, make_user):
    user_id = make_user("resetme", password="pw")
    token = issue(api, "resetme")
    assert api.post(f"/users/{user_id}/password/reset").status == 200
    assert api.get(f"/users/{user_id}", **as_user(token))["code"] == "InvalidToken"
