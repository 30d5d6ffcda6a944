"""PUT /addresses/renameDomain: addresses, main addresses, aliases and forwarded
addresses move; taken addresses stay; login and delivery follow."""
from __future__ import annotations

from chalicelib.services import delivery
from tests.delivery.mailshapes import inbound


def test_every_address_at_the_domain_moves_with_the_accounts_main_address(api, make_user):
    alice = make_user("alice", address="Alice@Old.example")
    assert api.post(f"/users/{alice}/addresses", {"address": "sales@old.example"}).status == 200
    bob = make_user("bob", address="bob@other.example")
    assert api.post(f"/users/{bob}/addresses", {"address": "bob@old.example"}).status == 200
    assert api.post("/addresses/forwarded", {"address": "team@old.example",
                                             "targets": ["x@elsewhere.example"]}).status == 200
    assert api.post("/domainaliases", {"alias": "alias.example",
                                       "domain": "old.example"}).status == 200
    assert api.post("/users/{}/addresses".format(bob),
                    {"address": "keep@new.example"}).status == 200
    make_user("carol", address="carol@old.example")
    taken = make_user("taken", address="carol@new.example")

    reply = api.put("/addresses/renameDomain", {"oldDomain": "OLD.example",
                                               "newDomain": "new.example"})
    assert reply.status == 200, reply
    assert reply.json == {"success": True, "modifiedAddresses": 4, "modifiedUsers": 1,
                          "modifiedDkim": 0, "modifiedAliases": 1}
    assert api.get(f"/users/{alice}")["address"] == "Alice@new.example"
    listed = {a["address"] for a in api.get(f"/users/{alice}/addresses")["results"]}
    assert listed == {"Alice@new.example", "sales@new.example"}
    assert api.get(f"/users/{bob}")["address"] == "bob@other.example"
    assert api.get("/addresses/resolve/alice@new.example")["user"] == alice
    assert api.get("/addresses/resolve/alice@old.example").status == 404
    assert api.get("/addresses/resolve/carol@new.example")["user"] == taken
    assert api.get("/addresses/resolve/carol@old.example").status == 200  # left as it was
    assert api.get("/addresses/resolve/sales@alias.example")["user"] == alice
    assert api.post("/authenticate", {"username": "alice@new.example",
                                      "password": "secret-pass"}).status == 200
    [outcome] = delivery.deliver(inbound(), "jane@partner.example", ["team@new.example"], "d1")
    assert outcome.status == "forwarded"
    again = api.put("/addresses/renameDomain", {"oldDomain": "old.example",
                                               "newDomain": "new.example"})
    assert again["modifiedAddresses"] == 0  # only the taken one is left


def test_renaming_needs_two_domains_and_the_operator(api, make_user):
    reply = api.put("/addresses/renameDomain", {"oldDomain": "old.example"})
    assert reply.status == 400 and "newDomain" in reply["details"]
    bad = api.put("/addresses/renameDomain", {"oldDomain": "a b", "newDomain": "x.example"})
    assert bad.status == 400
    user_id = make_user("dora", address="dora@old.example")
    token = api.post("/authenticate", {"username": "dora", "password": "secret-pass",
                                       "token": True})["token"]
    refused = api.put("/addresses/renameDomain", {"oldDomain": "old.example",
                                                 "newDomain": "new.example"},
                      headers={"X-Access-Token": token})
    assert refused.status == 403
    assert api.get(f"/users/{user_id}")["address"] == "dora@old.example"
