"""GET /addresses/resolve/{id}: an address found by its id, through the `addressid#` lookup
written and removed with every address item."""
from __future__ import annotations

import time

from chalicelib.services import maintenance
from chalicelib.store import lookups
from chalicelib.store.lookups import LookupItem
from devstack.calls import counting


def _id_lookup(address_id):
    return lookups.resolve(lookups.address_id_key(address_id))


def _main_address_id(api, user_id):
    return next(a["id"] for a in api.get(f"/users/{user_id}/addresses")["results"] if a["main"])


def test_an_accounts_address_resolves_by_id_as_by_address(api, make_user):
    user_id = make_user("byid", address="byid@example.com")
    alias = api.post(f"/users/{user_id}/addresses",
                     {"address": "Alias.ById@example.com", "tags": ["t"],
                      "metaData": {"a": 1}})["id"]
    by_address = api.get("/addresses/resolve/alias.byid@example.com")
    by_id = api.get(f"/addresses/resolve/{alias}")
    assert by_id.status == 200, by_id
    assert by_id.json == by_address.json
    assert by_id["user"] == user_id and by_id["address"] == "Alias.ById@example.com"
    # the id in capitals is the same id, as WildDuck's ObjectId
    assert api.get(f"/addresses/resolve/{alias.upper()}")["id"] == alias
    main = _main_address_id(api, user_id)
    assert api.get(f"/addresses/resolve/{main}")["address"] == "byid@example.com"
    assert _id_lookup(main).user == user_id


def test_resolving_by_id_is_two_get_items(api, make_user):
    user_id = make_user("budgetid", address="budgetid@example.com")
    main = _main_address_id(api, user_id)
    with counting() as calls:
        assert api.get(f"/addresses/resolve/{main}").status == 200
    assert calls.by_operation() == {"GetItem": 2}


def test_unknown_and_deleted_ids_are_not_found(api, make_user):
    user_id = make_user("gone", address="gone@example.com")
    alias = api.post(f"/users/{user_id}/addresses", {"address": "alias.gone@example.com"})["id"]
    assert api.get(f"/addresses/resolve/{'0' * 24}")["code"] == "AddressNotFound"
    assert api.delete(f"/users/{user_id}/addresses/{alias}").status == 200
    reply = api.get(f"/addresses/resolve/{alias}")
    assert reply.status == 404 and reply["code"] == "AddressNotFound"
    assert _id_lookup(alias) is None
    # neither an address nor an id
    assert api.get("/addresses/resolve/abc123")["code"] == "InputValidationError"


def test_a_forwarded_address_resolves_by_id(api):
    created = api.post("/addresses/forwarded", {"address": "fwd.id@example.com",
                                                "targets": ["dest@example.org"]})
    forwarded_id = created["id"]
    by_id = api.get(f"/addresses/resolve/{forwarded_id}")
    assert by_id.status == 200, by_id
    assert by_id.json == api.get("/addresses/resolve/fwd.id@example.com").json
    assert by_id["targets"] == ["dest@example.org"]
    with counting() as calls:
        assert api.get(f"/addresses/resolve/{forwarded_id}").status == 200
    assert calls.by_operation() == {"GetItem": 2}
    # a rename keeps the id
    assert api.put(f"/addresses/forwarded/{forwarded_id}",
                   {"address": "fwd.renamed@example.com"}).status == 200
    assert api.get(f"/addresses/resolve/{forwarded_id}")["address"] == "fwd.renamed@example.com"
    assert api.delete(f"/addresses/forwarded/{forwarded_id}").status == 200
    assert api.get(f"/addresses/resolve/{forwarded_id}")["code"] == "AddressNotFound"
    assert _id_lookup(forwarded_id) is None


def test_a_deleted_accounts_addresses_do_not_resolve_until_restored(api, make_user):
    user_id = make_user("deleted", address="deleted@example.com")
    alias = api.post(f"/users/{user_id}/addresses", {"address": "alias.del@example.com"})["id"]
    main = _main_address_id(api, user_id)
    assert api.delete(f"/users/{user_id}").status == 200
    for address_id in (main, alias):
        assert api.get(f"/addresses/resolve/{address_id}")["code"] == "AddressNotFound"
    assert api.post(f"/users/{user_id}/restore").status == 200
    assert api.get(f"/addresses/resolve/{alias}")["user"] == user_id
    assert api.get(f"/addresses/resolve/{main}")["address"] == "deleted@example.com"


def test_the_purge_removes_a_deleted_accounts_id_lookups(api, make_user):
    user_id = make_user("purged", address="purged@example.com")
    alias = api.post(f"/users/{user_id}/addresses", {"address": "alias.purged@example.com"})["id"]
    main = _main_address_id(api, user_id)
    assert api.delete(f"/users/{user_id}").status == 200
    assert maintenance.purge_users(now=time.time() + 3 * 24 * 3600).tasks_done == 1
    assert _id_lookup(main) is None and _id_lookup(alias) is None


def test_a_large_account_deletion_leaves_no_address_resolvable(api, make_user):
    user_id = make_user("manyids", address="manyids@example.com")
    ids = [api.post(f"/users/{user_id}/addresses", {"address": f"many{n}@example.com"})["id"]
           for n in range(60)]
    assert api.delete(f"/users/{user_id}").status == 200
    assert all(api.get(f"/addresses/resolve/{address_id}").status == 404
               for address_id in ids[::10] + ids[-3:])


def test_backfill_writes_missing_id_lookups(api, make_user):
    user_id = make_user("older", address="older@example.com")
    main = _main_address_id(api, user_id)
    forwarded_id = api.post("/addresses/forwarded", {"address": "older.fwd@example.com",
                                                     "targets": ["x@example.org"]})["id"]
    for address_id in (main, forwarded_id):  # as before id lookups existed
        LookupItem(key=lookups.address_id_key(address_id)).delete()
    assert api.get(f"/addresses/resolve/{main}").status == 404
    assert lookups.backfill_address_ids()["addressIdLookups"] >= 2
    assert api.get(f"/addresses/resolve/{main}")["user"] == user_id
    assert api.get(f"/addresses/resolve/{forwarded_id}")["address"] == "older.fwd@example.com"
    assert lookups.backfill_address_ids()["addressIdLookups"] >= 2  # again without harm


def test_backfill_lists_wildcards_an_older_release_did_not(api):
    from chalicelib.services import delivery
    api.post("/addresses/forwarded", {"address": "*@older.example", "allowWildcard": True,
                                      "targets": ["x@example.org"]})
    LookupItem(key=lookups.wildcards_key("older.example")).delete()  # as before the lists
    assert not delivery.recipient_known("someone@older.example")
    assert lookups.backfill_address_ids()["wildcardDomains"] == 1
    assert delivery.recipient_known("someone@older.example")
