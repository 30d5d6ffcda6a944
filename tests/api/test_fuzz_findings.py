"""Inputs the fuzzer (make fuzz) found answered 500, fixed at the schema or edge layer.

Each case pins the request that failed: it must now be refused (400) or served.
"""
from __future__ import annotations

import pytest


@pytest.fixture
def message_url(api, make_user) -> str:
    user = make_user("fuzzfind", address="fuzzfind@example.com")
    inbox = api.get(f"/users/{user}/mailboxes/resolve?path=INBOX")["id"]
    url = f"/users/{user}/mailboxes/{inbox}/messages"
    assert api.post(url, {"from": "a@example.com", "text": "hi"}).status == 200
    return f"{url}/1"


@pytest.mark.parametrize("expires", [-158028965400302752, -1, 253402300800000,
                                     "999999999999999"])
def test_expiry_outside_the_dates_an_answer_can_show_is_refused(api, message_url, expires):
    # was: PUT .../messages/1 {"expires": -158028965400302752} -> 500 (year out of range)
    reply = api.put(message_url, {"expires": expires})
    assert reply.status == 400 and "expires" in reply["details"], reply
    assert api.get(message_url).status == 200


@pytest.mark.parametrize("expires, shown", [(253402300799999, "9999-12-31T23:59:59.999Z"),
                                            (1, "1970-01-01T00:00:00.001Z"),
                                            (False, False)])
def test_expiry_at_the_edges_is_served(api, message_url, expires, shown):
    assert api.put(message_url, {"expires": expires}).status == 200
    assert api.get(message_url)["expires"] == shown


@pytest.mark.parametrize("username", ["a:b", "a@b", "a" * 65])
def test_a_username_that_makes_no_address_is_refused_unless_one_is_given(api, username):
    # was: POST /users {"username": "a:b", "password": "x"} -> 500 (invalid address)
    reply = api.post("/users", {"username": username, "password": "x"})
    assert reply.status == 400 and "address" in reply["details"], reply
    given = api.post("/users", {"username": username, "password": "x",
                                "address": "someone@example.com"})
    assert given.status == 200, given



def test_a_username_that_makes_no_address_may_have_none(api):
    reply = api.post("/users", {"username": "a:b", "password": "x", "emptyAddress": True})
    assert reply.status == 200, reply
    assert api.get(f"/users/{reply['id']}")["address"] in (None, "")


def test_a_composed_header_that_cannot_be_folded_is_refused(api, make_user):
    # was: POST .../messages {"headers": [{"key": "0"*78, "value": ""}]} -> 500 (IndexError)
    user = make_user("foldme")
    inbox = api.get(f"/users/{user}/mailboxes/resolve?path=INBOX")["id"]
    reply = api.post(f"/users/{user}/mailboxes/{inbox}/messages",
                     {"headers": [{"key": "0" * 78, "value": ""}], "text": "x"})
    assert reply.status == 400, reply
