"""/addresses/forwarded and /domainaliases, with the requests of WildDuck's own tests
(test/api/addresses-test.js, domainaliases-test.js)."""
from __future__ import annotations

import pytest


def _forwarded(api, **body):
    reply = api.post("/addresses/forwarded", body)
    assert reply.status == 200, reply
    return reply["id"]


def test_forwarded_address_lifecycle(api):
    address_id = _forwarded(api, address="my.forward@example.com", name="Forwarder",
                            targets=["my.target@example.org", "smtp://mx.example.org:25",
                                     "https://example.org/hook"],
                            forwards=100, tags=["fwd"], metaData={"m": 1},
                            internalData={"i": 2})
    one = api.get(f"/addresses/forwarded/{address_id}")
    assert one.json == {
        "success": True, "id": address_id, "name": "Forwarder",
        "address": "my.forward@example.com",
        "targets": ["my.target@example.org", "smtp://mx.example.org:25",
                    "https://example.org/hook"],
        "limits": {"forwards": {"allowed": 100, "used": 0, "ttl": False}},
        "autoreply": {"status": False}, "forwardedDisabled": False, "tags": ["fwd"],
        "created": one["created"], "metaData": {"m": 1}, "internalData": {"i": 2}}
    resolved = api.get("/addresses/resolve/my.forward@example.com")
    assert resolved["id"] == address_id and resolved["targets"] == one["targets"]

    assert api.put(f"/addresses/forwarded/{address_id}", {
        "address": "renamed@example.com", "targets": ["other@example.org"], "forwards": 0,
        "forwardedDisabled": True, "name": ""}).status == 200
    changed = api.get(f"/addresses/forwarded/{address_id}").json
    assert (changed["address"], changed["targets"], changed["name"]) == (
        "renamed@example.com", ["other@example.org"], False)
    assert changed["limits"]["forwards"]["allowed"] == 2000  # the default again
    assert changed["forwardedDisabled"] is True
    assert api.get("/addresses/resolve/my.forward@example.com").status == 404
    listed = api.get("/addresses")
    assert listed["total"] == 1
    assert listed["results"] == [{
        "id": address_id, "name": False, "address": "renamed@example.com", "user": None,
        "forwarded": True, "forwardedDisabled": True, "targets": ["other@example.org"],
        "tags": ["fwd"]}]

    assert api.delete(f"/addresses/forwarded/{address_id}").status == 200
    gone = api.get(f"/addresses/forwarded/{address_id}")
    assert (gone.status, gone["code"]) == (404, "AddressNotFound")
    assert api.get("/addresses")["total"] == 0


def test_forwarded_and_account_addresses_share_one_namespace(api, make_user):
    make_user("taken", address="taken@example.com")
    reply = api.post("/addresses/forwarded", {"address": "Taken@example.com",
                                              "targets": ["x@example.org"]})
    assert (reply.status, reply["code"]) == (400, "AddressExistsError")
    _forwarded(api, address="fwd@example.com", targets=["x@example.org"])
    user_id = make_user("other", emptyAddress=True)
    clash = api.post(f"/users/{user_id}/addresses", {"address": "fwd@example.com"})
    assert (clash.status, clash["code"]) == (400, "AddressExistsError")


def test_forwarded_address_can_not_log_in(api):
    _forwarded(api, address="nologin@example.com", targets=["x@example.org"])
    reply = api.post("/authenticate", {"username": "nologin@example.com", "password": "x"})
    assert (reply.status, reply["code"]) == (403, "AuthFailed")


@pytest.mark.parametrize("body, message", [
    ({"address": "me@example.com", "targets": ["Me@example.com"]},
     'Can not forward to self "Me@example.com"'),
    ({"address": "a+b@example.com"}, "Address can not contain +"),
    ({"address": "*@example.com"}, "Address can not contain *"),
    ({"address": "a*b@example.com", "allowWildcard": True},
     'Invalid wildcard address, use "*@domain" or "user@*"'),
])
def test_forwarded_address_rules(api, body, message):
    reply = api.post("/addresses/forwarded", body)
    assert (reply.status, reply["code"], reply["error"]) == (400, "InputValidationError",
                                                             message)


def test_wildcard_forwarded_address_when_allowed(api):
    assert api.post("/addresses/forwarded", {"address": "*@example.net", "allowWildcard": True,
                                             "targets": ["catch@example.org"]}).status == 200


def test_bad_targets_are_refused(api):
    for targets in (["ftp://example.org"], ["nobody"], "x" * 5):
        reply = api.post("/addresses/forwarded", {"address": "t@example.com",
                                                  "targets": targets})
        assert reply.status == 400 and "targets" in str(reply["details"]), reply


def test_domain_alias_lifecycle(api):
    created = api.post("/domainaliases", {"alias": "alias.example.com",
                                          "domain": "Example.com"})
    assert created.status == 200, created
    alias_id = created["id"]
    assert api.get("/domainaliases/resolve/alias.example.com").json == {"success": True,
                                                                        "id": alias_id}
    one = api.get(f"/domainaliases/{alias_id}")
    assert (one["alias"], one["domain"]) == ("alias.example.com", "example.com")
    again = api.post("/domainaliases", {"alias": "ALIAS.example.com", "domain": "x.com"})
    assert (again.status, again["code"], again["error"]) == (
        400, "AliasExists", "This domain alias already exists")
    api.post("/domainaliases", {"alias": "other.net", "domain": "example.com"})
    listing = api.get("/domainaliases?limit=1")
    assert len(listing["results"]) == 1 and listing["nextCursor"]
    assert [a["alias"] for a in api.get("/domainaliases?query=other")["results"]] == [
        "other.net"]
    assert api.delete(f"/domainaliases/{alias_id}").status == 200
    missing = api.get("/domainaliases/resolve/alias.example.com")
    assert (missing.status, missing["code"]) == (404, "AliasNotFound")
    assert api.get(f"/domainaliases/{alias_id}").status == 404


def test_alias_domain_resolves_and_authenticates_every_address(api, make_user):
    user_id = make_user("aliased", password="pw", address="aliased@example.com")
    assert api.get("/addresses/resolve/aliased@alias.test").status == 404
    api.post("/domainaliases", {"alias": "alias.test", "domain": "example.com"})
    resolved = api.get("/addresses/resolve/Aliased@alias.test")
    assert (resolved.status, resolved["user"]) == (200, user_id)
    login = api.post("/authenticate", {"username": "aliased@alias.test", "password": "pw"})
    assert (login.status, login["id"]) == (200, user_id)
    # the alias is not an address of its own: it can be registered to someone else
    assert api.post(f"/users/{user_id}/addresses", {"address": "new@alias.test"}).status == 200


def test_domain_alias_input(api):
    for body in ({"alias": "not a domain", "domain": "example.com"},
                 {"alias": "same.com", "domain": "same.com"}, {"alias": "a.com"}):
        reply = api.post("/domainaliases", body)
        assert (reply.status, reply["code"]) == (400, "InputValidationError"), body


def test_wildduck_forwarded_sequence(api, make_user):
    """WildDuck's own addresses test: create, find by query with an exact total, retag."""
    make_user("addrtest", address="addrtest@example.com")
    forwarded = _forwarded(api, address="forwarded.1.addrtest@example.com",
                           targets=["andris@ethereal.email"], tags=["TAG1", "tag2"])
    found = api.get("/addresses?query=forwarded.1.addrtest")
    assert (found["total"], found["results"][0]["id"]) == (1, forwarded)
    assert api.put(f"/addresses/forwarded/{forwarded}", {"tags": ["tAG2", "tAg3"]}).status == 200
    again = api.get("/addresses?query=forwarded.1.addrtest")
    assert (again["total"], again["results"][0]["tags"]) == (1, ["tAG2", "tAg3"])
    assert api.get("/addresses")["total"] == 2
