"""Counters of an installation that predates them are set from the tables."""
from __future__ import annotations

from chalicelib.store import counters
from chalicelib.store.lookups import LookupItem


def test_recount_sets_the_totals_the_listings_answer(api, make_user):
    for name in ("old1", "old2", "old3"):
        make_user(name, address=f"{name}@example.com")
    api.post(f"/users/{make_user('old4', emptyAddress=True)}/addresses",
             {"address": "alias@example.com"})
    # An installation without counters: they start from nothing.
    for key in (counters.USERS, counters.ADDRESSES):
        LookupItem(key=key).delete()
    assert api.get("/users")["total"] == 0

    assert counters.recount() == {counters.USERS: 4, counters.ADDRESSES: 4}
    assert api.get("/users")["total"] == 4
    assert api.get("/addresses")["total"] == 4
