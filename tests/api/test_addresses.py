"""HTTP behaviour of addresses: aliases, main address, uniqueness, search, resolution."""
from __future__ import annotations

from urllib.parse import quote

from chalicelib.store.addresses import AddressItem
from chalicelib.store.lookups import LookupItem
from chalicelib.store.users import UserItem
from devstack.calls import counting
from tests.support import race

UNICODE = "андрис@уайлддак.орг"
PUNYCODE = "андрис@xn--80aalaxjd5d.xn--c1avg"


def _addresses(api, user_id):
    reply = api.get(f"/users/{user_id}/addresses")
    assert reply.status == 200, reply
    return reply["results"]


def _add(api, user_id, address, **fields):
    return api.post(f"/users/{user_id}/addresses", {"address": address, **fields})


def test_alias_is_listed_and_readable_next_to_the_main_address(api, make_user):
    user_id = make_user("alias", address="alias@example.com")
    reply = _add(api, user_id, "Other.Alias@Example.com", name="Work", tags=["a", "B"])
    assert reply.status == 200, reply
    alias_id = reply["id"]
    listed = _addresses(api, user_id)
    assert [(a["address"], a["main"]) for a in listed] == [
        ("alias@example.com", True), ("Other.Alias@example.com", False)]
    one = api.get(f"/users/{user_id}/addresses/{alias_id}")
    assert one.status == 200
    assert one.json | {"created": None} == {
        "success": True, "id": alias_id, "name": "Work", "address": "Other.Alias@example.com",
        "main": False, "tags": ["a", "B"], "created": None}
    assert one["created"].endswith("Z")


def test_unicode_and_punycode_forms_of_one_address_collide(api, make_user):
    first = make_user("first", emptyAddress=True)
    second = make_user("second")
    assert _add(api, first, UNICODE).status == 200
    reply = _add(api, second, PUNYCODE)
    assert reply.status == 400 and reply["code"] == "AddressExistsError"
    reply = _add(api, first, "АНДРИС@УАЙЛДДАК.ОРГ")
    assert reply.status == 400 and reply["code"] == "AddressExistsError"


def test_address_used_as_another_users_main_address_is_taken(api, make_user):
    make_user("owner", address="shared@example.com")
    other = make_user("other")
    reply = _add(api, other, "SHARED@example.com")
    assert reply.status == 400 and reply["code"] == "AddressExistsError"
    assert [a["address"] for a in _addresses(api, other)] == ["other@example.com"]


def test_internationalized_address_is_accepted_and_resolvable(api, make_user):
    user_id = make_user("andris")
    address_id = _add(api, user_id, PUNYCODE).json["id"]
    stored = {a["id"]: a["address"] for a in _addresses(api, user_id)}
    assert stored[address_id] == UNICODE  # kept with a unicode domain
    expected = {"success": True, "id": address_id, "address": UNICODE, "user": user_id}
    for spelling in (UNICODE, PUNYCODE, quote(UNICODE)):
        found = api.get(f"/addresses/resolve/{spelling}").json
        assert {key: found[key] for key in expected} == expected
    login = api.post("/authenticate", {"username": UNICODE, "password": "secret-pass"})
    assert login.status == 200 and login["id"] == user_id


def test_address_resolution_is_two_get_items(api, make_user):
    user_id = make_user("resolved", address="resolved@example.com")
    with counting() as calls:
        reply = api.get("/addresses/resolve/Resolved@EXAMPLE.com")
    assert reply.status == 200
    assert reply["user"] == user_id and reply["address"] == "resolved@example.com"
    # the lookup, then the address item for its tags, creation time and metadata
    assert calls.by_operation() == {"GetItem": 2}


def test_resolving_an_unknown_or_malformed_address_is_a_4xx(api):
    reply = api.get("/addresses/resolve/nobody@example.com")
    assert reply.status == 404 and reply["code"] == "AddressNotFound"
    reply = api.get("/addresses/resolve/not-an-address")
    assert reply.status == 400 and reply["code"] == "InputValidationError"


def test_main_address_cannot_be_deleted(api, make_user):
    user_id = make_user("keeper")
    main = _addresses(api, user_id)[0]
    reply = api.delete(f"/users/{user_id}/addresses/{main['id']}")
    assert reply.status == 400 and reply["code"] == "NotPermitted"
    assert api.get(f"/addresses/resolve/{main['address']}").status == 200


def test_make_main_switches_the_main_address_and_the_users_address(api, make_user):
    user_id = make_user("switcher", address="old@example.com")
    old_id = _addresses(api, user_id)[0]["id"]
    new_id = _add(api, user_id, "new@example.com").json["id"]
    assert api.put(f"/users/{user_id}/addresses/{new_id}", {"main": True}).status == 200
    assert api.get(f"/users/{user_id}")["address"] == "new@example.com"
    mains = {a["id"]: a["main"] for a in _addresses(api, user_id)}
    assert mains == {old_id: False, new_id: True}
    # the former main address is an ordinary alias now
    assert api.delete(f"/users/{user_id}/addresses/{old_id}").status == 200
    login = api.post("/authenticate", {"username": "new@example.com", "password": "secret-pass"})
    assert login["address"] == "new@example.com"


def test_main_true_on_creation_makes_the_new_address_main(api, make_user):
    user_id = make_user("creator", address="before@example.com")
    _add(api, user_id, "after@example.com", main="yes")
    assert api.get(f"/users/{user_id}")["address"] == "after@example.com"
    assert [a["main"] for a in _addresses(api, user_id)] == [True, False]  # after, before


def test_first_address_of_an_account_without_one_becomes_main(api, make_user):
    user_id = make_user("bare", emptyAddress=True)
    _add(api, user_id, "bare@example.com")
    assert api.get(f"/users/{user_id}")["address"] == "bare@example.com"
    assert _addresses(api, user_id)[0]["main"] is True


def test_main_can_only_be_set_to_true(api, make_user):
    user_id = make_user("unsetter")
    main_id = _addresses(api, user_id)[0]["id"]
    reply = api.put(f"/users/{user_id}/addresses/{main_id}", {"main": False})
    assert reply.status == 400 and "main" in reply["details"]


def test_update_changes_name_and_tags(api, make_user):
    user_id = make_user("named")
    alias_id = _add(api, user_id, "named2@example.com", name="Before").json["id"]
    assert api.put(f"/users/{user_id}/addresses/{alias_id}",
                   {"name": "", "tags": "x,y"}).status == 200
    one = api.get(f"/users/{user_id}/addresses/{alias_id}").json
    assert one["name"] is False and one["tags"] == ["x", "y"] and one["main"] is False


def test_deleting_an_alias_frees_its_address(api, make_user):
    first = make_user("giver")
    second = make_user("taker")
    alias_id = _add(api, first, "free@example.com").json["id"]
    assert api.delete(f"/users/{first}/addresses/{alias_id}").status == 200
    assert api.get(f"/users/{first}/addresses/{alias_id}")["code"] == "AddressNotFound"
    assert api.get("/addresses/resolve/free@example.com").status == 404
    assert _add(api, second, "free@example.com").status == 200
    assert api.get("/addresses/resolve/free@example.com")["user"] == second


def test_unknown_ids_are_404_and_malformed_input_400(api, make_user):
    user_id = make_user("lost")
    missing = "0" * 24
    assert api.get(f"/users/{user_id}/addresses/{missing}")["code"] == "AddressNotFound"
    assert api.delete(f"/users/{user_id}/addresses/{missing}")["code"] == "AddressNotFound"
    assert api.put(f"/users/{user_id}/addresses/{missing}",
                   {"main": True})["code"] == "AddressNotFound"
    assert api.get(f"/users/{missing}/addresses")["code"] == "UserNotFound"
    assert _add(api, missing, "x@example.com")["code"] == "UserNotFound"
    reply = _add(api, user_id, "not an address")
    assert reply.status == 400 and "address" in reply["details"]
    reply = api.post(f"/users/{user_id}/addresses", {"address": "ok@example.com", "foo": 1})
    assert reply.status == 400 and reply["details"]["foo"] == '"foo" is not allowed'
    assert api.get(f"/users/{user_id}/addresses/nope")["code"] == "InputValidationError"
    reply = _add(api, user_id, "tagged@example.com", tags=["x" * 257])
    assert reply.status == 400 and "tags" in reply["details"]
    reply = _add(api, user_id, "tagged@example.com", tags=[f"t{n}" for n in range(101)])
    assert reply.status == 400 and "tags" in reply["details"]


def test_search_is_ordered_by_normalized_address_with_partial_match(api, make_user):
    user_id = make_user("zed", address="zed@example.com")
    _add(api, user_id, "Bob@example.com")
    _add(api, user_id, "alice@example.org")
    _add(api, user_id, UNICODE)
    everything = api.get("/addresses")
    assert [a["address"] for a in everything["results"]] == [
        "alice@example.org", "Bob@example.com", "zed@example.com", UNICODE]
    assert everything["results"][0]["user"] == user_id
    found = api.get("/addresses?query=EXAMPLE.COM")
    assert [a["address"] for a in found["results"]] == ["Bob@example.com", "zed@example.com"]
    assert found["query"] == "EXAMPLE.COM"
    assert [a["address"] for a in api.get("/addresses?query=андрис")["results"]] == [UNICODE]
    assert [a["address"] for a in api.get(f"/addresses?query={PUNYCODE}")["results"]] == [UNICODE]


def test_search_pages_forward_and_back(api, make_user):
    user_id = make_user("pager", address="p0@example.com")
    for n in range(1, 5):
        _add(api, user_id, f"p{n}@example.com")
    first = api.get("/addresses?limit=2")
    assert [a["address"] for a in first["results"]] == ["p0@example.com", "p1@example.com"]
    second = api.get(f"/addresses?limit=2&next={first['nextCursor']}")
    assert [a["address"] for a in second["results"]] == ["p2@example.com", "p3@example.com"]
    third = api.get(f"/addresses?limit=2&next={second['nextCursor']}")
    assert [a["address"] for a in third["results"]] == ["p4@example.com"]
    assert third["nextCursor"] is False
    back = api.get(f"/addresses?limit=2&previous={third['previousCursor']}")
    assert [a["address"] for a in back["results"]] == ["p2@example.com", "p3@example.com"]
    assert api.get("/addresses?next=forged.cursor")["code"] == "InputValidationError"


def test_deleted_accounts_addresses_leave_search_and_resolution(api, make_user):
    user_id = make_user("gone", address="gone@example.com")
    _add(api, user_id, "gone2@example.com")
    assert api.delete(f"/users/{user_id}").status == 200
    assert api.get("/addresses?query=gone")["results"] == []
    assert api.get("/addresses/resolve/gone2@example.com").status == 404
    assert api.get(f"/users/{user_id}/addresses")["code"] == "UserNotFound"


def test_concurrent_make_main_leaves_exactly_one_main(api, make_user, serialized_aws):
    """Two admins race to make different aliases main: one main, matching the user."""
    from chalicelib.schemas.addresses import UpdateAddress
    from chalicelib.services import addresses

    user_id = make_user("racer", address="racer0@example.com")
    alias_ids = [_add(api, user_id, f"racer{n}@example.com").json["id"] for n in (1, 2)]
    _, errors = race(2, lambda n: addresses.update(
        UpdateAddress(user=user_id, id=alias_ids[n], main=True)))
    assert errors == []
    mains = [item for item in AddressItem.query(user_id) if item.main]
    assert len(mains) == 1
    assert UserItem.get(user_id).address == mains[0].address


def test_lookup_keeps_the_registered_spelling(api, make_user):
    user_id = make_user("speller", emptyAddress=True)
    _add(api, user_id, "Mixed.Case@Example.COM")
    lookup = LookupItem.get("address#mixed.case@example.com")
    assert lookup.user == user_id and lookup.address == "Mixed.Case@example.com"


def _bulk_aliases(user_id: str, count: int) -> None:
    """`count` aliases written directly (the API path is covered above): fast set-up
    for the limits below."""
    from chalicelib.ids import new_id
    from chalicelib.store import lookups
    with AddressItem.batch_write() as addresses, LookupItem.batch_write() as names:
        for n in range(count):
            address_id, view = new_id(), f"bulk{n}@example.com"
            addresses.save(AddressItem(user=user_id, id=address_id, address=view,
                                       addrview=view, main=False, created=0))
            names.save(LookupItem(key=lookups.address_key(view), user=user_id,
                                  target=address_id, address=view))
    UserItem(id=user_id).update(actions=[UserItem.addressCount.add(count)])


def test_deleting_a_user_with_sixty_aliases_frees_every_address(api, make_user):
    user_id = make_user("manyaliases", address="manyaliases@example.com")
    _bulk_aliases(user_id, 60)
    assert api.delete(f"/users/{user_id}").status == 200
    assert api.get("/addresses/resolve/bulk59@example.com")["code"] == "AddressNotFound"
    assert api.get("/addresses/resolve/manyaliases@example.com")["code"] == "AddressNotFound"
    again = api.post("/users", {"username": "other", "password": "pass-word",
                                "address": "bulk0@example.com"})
    assert again.status == 200, again


def test_addresses_are_capped_and_deletion_works_at_the_cap(api, make_user):
    from chalicelib.services.addresses import MAX_ADDRESSES
    user_id = make_user("capped", address="capped@example.com")
    _bulk_aliases(user_id, MAX_ADDRESSES - 2)
    assert _add(api, user_id, "last@example.com").status == 200
    refused = _add(api, user_id, "one-too-many@example.com")
    assert (refused.status, refused["code"]) == (403, "TooMany")
    assert len(_addresses(api, user_id)) == MAX_ADDRESSES
    alias = next(a for a in _addresses(api, user_id) if a["address"] == "last@example.com")
    assert api.delete(f"/users/{user_id}/addresses/{alias['id']}").status == 200
    assert _add(api, user_id, "one-too-many@example.com").status == 200
    assert api.delete(f"/users/{user_id}").status == 200
    assert api.get("/addresses/resolve/bulk0@example.com")["code"] == "AddressNotFound"


def test_concurrent_alias_creation_never_passes_the_cap(api, make_user, serialized_aws):
    """Eight Lambdas add an alias at once with room for three (services called directly:
    Chalice keeps the current request on the app, so in-process HTTP cannot race)."""
    from chalicelib.errors import TooMany
    from chalicelib.schemas.addresses import CreateAddress
    from chalicelib.services import addresses
    from chalicelib.services.addresses import MAX_ADDRESSES
    user_id = make_user("racecap", address="racecap@example.com")
    _bulk_aliases(user_id, MAX_ADDRESSES - 4)
    created, errors = race(8, lambda n: addresses.create(
        CreateAddress(user=user_id, address=f"race{n}@example.com")))
    assert len(created) == 3
    assert len(errors) == 5 and all(isinstance(e, TooMany) for e in errors)
    assert len(_addresses(api, user_id)) == MAX_ADDRESSES
    assert UserItem.get(user_id).addressCount == MAX_ADDRESSES
