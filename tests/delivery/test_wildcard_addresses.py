"""Wildcard addresses (`allowWildcard`): the forms WildDuck accepts, how delivery and
resolution pick one, and what an address nobody has costs to resolve."""
from __future__ import annotations

import pytest

from chalicelib.services import delivery
from devstack.calls import counting
from tests.delivery.mailshapes import inbound


def add(api, user_id, address, **body):
    return api.post(f"/users/{user_id}/addresses", {"address": address, **body})


def delivered_to(recipient):
    [outcome] = delivery.deliver(inbound(to=recipient), "jane@partner.example", [recipient],
                                 f"d-{recipient}")
    return outcome.status, outcome.user


@pytest.mark.parametrize("address, body, error", [
    ("*@catch.example", {}, "Address can not contain *"),
    ("*@catch.example", {"allowWildcard": True, "main": True},
     "Main address can not contain *"),
    ("a*b@catch.example", {"allowWildcard": True}, '"*@domain" or "user@*"'),
    ("**@catch.example", {"allowWildcard": True}, '"*@domain" or "user@*"'),
    ("*" + "x" * 33 + "@catch.example", {"allowWildcard": True}, '"*@domain" or "user@*"'),
    ("user.name@*", {"allowWildcard": True}, "must be a valid email address"),
])
def test_refused_wildcard_forms(api, account, address, body, error):
    reply = add(api, account.id, address, **body)
    assert reply.status == 400 and reply["code"] == "InputValidationError"
    assert error in reply["error"]


def test_delivery_takes_the_exact_address_then_the_longest_wildcard(api, account, make_user):
    other = make_user("other", address="other@example.com")
    postmaster = make_user("pm", address="pm@example.com")
    for user_id, address in ((account.id, "*@catch.example"), (other, "*son@catch.example"),
                             (other, "sales*@catch.example"), (postmaster, "postmaster@*")):
        reply = add(api, user_id, address, allowWildcard=True)
        assert reply.status == 200, reply
    assert add(api, account.id, "exact@catch.example").status == 200
    assert delivered_to("anyone@catch.example") == ("stored", account.id)
    assert delivered_to("jackson@catch.example") == ("stored", other)
    assert delivered_to("sales-eu@catch.example") == ("stored", other)
    assert delivered_to("exact@catch.example") == ("stored", account.id)
    assert delivered_to("postmaster@anywhere.example") == ("stored", postmaster)
    assert delivered_to("someone@anywhere.example")[0] == "unknown"
    # wildcards never log in and never become main
    assert api.get(f"/users/{account.id}")["address"] == "mailuser@example.com"
    resolved = api.get("/addresses/resolve/jackson@catch.example?allowWildcard=true")
    assert resolved["user"] == other and resolved["address"] == "*son@catch.example"


def test_a_deleted_wildcard_takes_nothing_more(api, account):
    address_id = add(api, account.id, "*@catch.example", allowWildcard=True)["id"]
    assert delivered_to("one@catch.example")[0] == "stored"
    assert api.delete(f"/users/{account.id}/addresses/{address_id}").status == 200
    assert delivered_to("two@catch.example")[0] == "unknown"
    assert not delivery.recipient_known("three@catch.example")


def test_an_unknown_address_costs_one_list_read_more(api, account):
    add(api, account.id, "*@catch.example", allowWildcard=True)
    with counting() as log:
        assert not delivery.recipient_known("nobody@example.com")
    # the address, the domain's alias, then the wildcard lists of the domain and `*`
    assert log.by_operation() == {"GetItem": 2, "BatchGetItem": 1}
    with counting() as log:
        assert delivery.recipient_known("somebody@catch.example")
    assert log.by_operation() == {"GetItem": 3, "BatchGetItem": 1}


def test_forwarded_wildcards_move_between_domains_with_a_rename(api):
    reply = api.post("/addresses/forwarded", {"address": "*@old.example", "allowWildcard": True,
                                              "targets": ["x@elsewhere.example"]})
    assert reply.status == 200
    assert delivery.recipient_known("a@old.example")
    assert api.put(f"/addresses/forwarded/{reply['id']}",
                   {"address": "*@new.example"}).status == 200
    assert delivery.recipient_known("a@new.example")
    assert not delivery.recipient_known("a@old.example")
    user_any = api.post("/addresses/forwarded", {"address": "abuse@*", "allowWildcard": True,
                                                 "targets": ["x@elsewhere.example"]})
    assert user_any.status == 200
    assert delivery.recipient_known("abuse@whatever.example")
