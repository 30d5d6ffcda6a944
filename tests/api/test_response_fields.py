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
