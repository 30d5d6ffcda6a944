"""Exact `total`s in the users, addresses and authlog listings; /preauth; one authlog
event; the routes this API does not offer."""
from __future__ import annotations

import time

import pytest

from chalicelib.store.authlog import AuthlogItem
from devstack.calls import counting


def test_users_total_counts_every_match_not_the_page(api, make_user):
    ids = [make_user(f"user{n}", tags=["even" if n % 2 == 0 else "odd"]) for n in range(5)]
    page = api.get("/users?limit=2")
    assert (page["total"], len(page["results"])) == (5, 2)
    assert api.get("/users?limit=1&tags=even")["total"] == 3
    assert api.get("/users?limit=1&requiredTags=odd")["total"] == 2
    assert api.get("/users?query=user4")["total"] == 1
    api.delete(f"/users/{ids[0]}")
    assert api.get("/users?limit=2")["total"] == 4
    api.post(f"/users/{ids[0]}/restore")
    assert api.get("/users?limit=2")["total"] == 5


def test_unfiltered_users_total_is_one_read(api, make_user):
    for n in range(3):
        make_user(f"cheap{n}")
    with counting() as calls:
        assert api.get("/users?limit=1")["total"] == 3
    # The page's accounts' autoreply state: one BatchGetItem beside the page and the total.
    assert calls.by_operation() == {"Query": 1, "GetItem": 1, "BatchGetItem": 1}


def test_a_failed_creation_does_not_count(api, make_user):
    make_user("once")
    assert api.post("/users", {"username": "once", "password": "x"}).status == 400
    assert api.get("/users")["total"] == 1


def test_addresses_total_follows_creation_deletion_and_account_deletion(api, make_user):
    first = make_user("first")  # first@example.com
    second = make_user("second", emptyAddress=True)
    alias = api.post(f"/users/{first}/addresses", {"address": "alias@example.com",
                                                    "tags": ["work"]})["id"]
    api.post(f"/users/{second}/addresses", {"address": "two@example.com", "tags": ["home"]})
    assert api.get("/addresses?limit=1")["total"] == 3
    assert api.get("/addresses?tags=work,home")["total"] == 2
    assert api.get("/addresses?requiredTags=work")["total"] == 1
    api.delete(f"/users/{first}/addresses/{alias}")
    assert api.get("/addresses")["total"] == 2
    api.delete(f"/users/{second}")
    assert api.get("/addresses")["total"] == 1
    assert [a["address"] for a in api.get("/addresses")["results"]] == ["first@example.com"]


def test_authlog_total_counts_live_matching_entries(api, make_user):
    user_id = make_user("logged", password="pw")
    for password in ("pw", "wrong", "pw"):
        api.post("/authenticate", {"username": "logged", "password": password})
    everything = api.get(f"/users/{user_id}/authlog?limit=1")
    assert (everything["total"], len(everything["results"])) == (4, 1)  # with "account created"
    assert api.get(f"/users/{user_id}/authlog?action=authentication")["total"] == 3
    expired = next(iter(AuthlogItem.query(user_id)))
    expired.update(actions=[AuthlogItem.expires.set(int(time.time()) - 1)])
    assert api.get(f"/users/{user_id}/authlog")["total"] == 3


def test_one_authlog_event(api, make_user):
    user_id = make_user("events", password="pw")
    api.post("/authenticate", {"username": "events", "password": "pw", "protocol": "IMAP",
                               "scope": "imap", "sess": "abc", "ip": "192.0.2.5"})
    newest = api.get(f"/users/{user_id}/authlog")["results"][0]
    event = api.get(f"/users/{user_id}/authlog/{newest['id']}")
    assert event.status == 200
    assert event.json == {"success": True, **newest}
    assert (event["protocol"], event["ip"], event["sess"]) == ("IMAP", "192.0.2.5", "abc")
    assert (event["requiredScope"], event["events"], event["last"]) == (
        "imap", 1, event["created"])
    missing = api.get(f"/users/{user_id}/authlog/{'0' * 24}")
    assert (missing.status, missing["code"], missing["error"]) == (
        404, "EventNotFound", "Event was not found")


def test_preauth(api, make_user):
    from tests.api.test_twofa import enabled_seed
    user_id = make_user("pre", password="pw", address="pre@example.com")
    reply = api.post("/preauth", {"username": "pre@example.com", "scope": "master"})
    assert reply.json == {"success": True, "id": user_id, "username": "pre",
                          "address": "pre@example.com", "scope": "master",
                          "require2fa": False}
    enabled_seed(api, user_id)
    assert api.post("/preauth", {"username": "pre"})["require2fa"] == ["totp"]
    assert api.post("/preauth", {"username": "pre", "scope": "imap"})["require2fa"] is False
    unknown = api.post("/preauth", {"username": "nobody"})
    assert (unknown.status, unknown["code"]) == (403, "AuthFailed")
    api.put(f"/users/{user_id}", {"disabledScopes": ["pop3"]})
    scope = api.post("/preauth", {"username": "pre", "scope": "pop3"})
    assert scope.json == {"error": "Access to requested service disabled",
                          "code": "InvalidAuthScope", "id": user_id}
    api.put(f"/users/{user_id}", {"disabled": True})
    assert api.post("/preauth", {"username": "pre"})["code"] == "AuthFailed"
    # nothing was tried, so nothing is logged
    assert all(e["action"] != "authentication"
               for e in api.get(f"/users/{user_id}/authlog")["results"])


@pytest.mark.parametrize("method, path", [
    ("GET", "/certs"), ("POST", "/certs"), ("GET", "/certs/resolve/mail.example.com"),
    ("GET", "/certs/" + "a" * 24), ("DELETE", "/certs/" + "a" * 24),
    ("GET", "/dkim"), ("POST", "/dkim"), ("GET", "/dkim/resolve/example.com"),
    ("DELETE", "/dkim/" + "a" * 24),
    ("GET", "/users/{user}/storage"), ("POST", "/users/{user}/storage"),
    ("GET", "/users/{user}/storage/" + "b" * 24),
    ("GET", "/users/{user}/2fa/webauthn/credentials"),
    ("POST", "/users/{user}/2fa/webauthn/registration-challenge"),
    ("POST", "/users/{user}/2fa/webauthn/authentication-assertion"),
    ("DELETE", "/users/{user}/outbound/0123456789abcdef"),
    ("POST", "/data/export"), ("POST", "/data/import"),
    ("PUT", "/users/{user}/2fa/custom"), ("DELETE", "/users/{user}/2fa/custom"),
])
def test_out_of_scope_routes_say_so(api, make_user, method, path):
    path = path.replace("{user}", make_user("scope"))
    reply = api.call(method, path, {} if method == "POST" else None)
    assert (reply.status, reply["code"]) == (501, "NotSupported"), reply
    assert reply["error"]


def test_counters_stay_exact_under_concurrent_creations_and_deletions(serialized_aws):
    """Lambdas race to create accounts (some on one taken name) and to delete others:
    each counter equals what the tables hold."""
    from chalicelib.schemas.users import CreateUser
    from chalicelib.services import users
    from chalicelib.services.authlog import Audit
    from chalicelib.store import counters
    from chalicelib.store.addresses import KIND, AddressItem
    from chalicelib.store.users import LIVE, UserItem
    from tests.support import race

    doomed = [users.create(CreateUser(username=f"doomed{n}", password="pw")) for n in range(3)]

    def work(n: int) -> object:
        if n < 3:
            return users.delete(doomed[n], Audit())
        name = "same" if n < 6 else f"new{n}"
        return users.create(CreateUser(username=name, password="pw",
                                       address=f"a{n}@example.com"))

    done, errors = race(9, work)
    assert len(errors) == 2  # two of the three creations of "same" lost
    live = sum(1 for _ in UserItem.by_kind.query(LIVE))
    registered = sum(1 for _ in AddressItem.by_address.query(KIND))
    assert (counters.value(counters.USERS), counters.value(counters.ADDRESSES)) == (
        live, registered) == (4, 4)
