"""PUT /users/{user}/addresses/{id} with `address`: a rename moves the lookup (and the
account's main address with it); taken and wildcard addresses are refused as WildDuck
does. Also what a temporary-password token may send with its password change."""
from __future__ import annotations

from tests.api.test_correctness import _as, _token


def test_renaming_the_main_address_moves_the_account_address(api, make_user):
    user_id = make_user("renamer", address="old.name@example.com")
    [main] = api.get(f"/users/{user_id}/addresses")["results"]
    reply = api.put(f"/users/{user_id}/addresses/{main['id']}",
                    {"address": "New.Name@example.com", "name": "New"})
    assert reply.status == 200, reply
    assert api.get(f"/users/{user_id}")["address"] == "New.Name@example.com"
    one = api.get(f"/users/{user_id}/addresses/{main['id']}")
    assert (one["address"], one["name"], one["main"]) == ("New.Name@example.com", "New", True)
    assert api.get("/addresses/resolve/new.name@example.com")["user"] == user_id
    assert api.get("/addresses/resolve/old.name@example.com").status == 404
    assert api.post("/authenticate", {"username": "new.name@example.com",
                                      "password": "secret-pass"}).status == 200
    # the same address in another spelling changes in place
    assert api.put(f"/users/{user_id}/addresses/{main['id']}",
                   {"address": "new.name@EXAMPLE.com"}).status == 200
    assert api.get("/addresses/resolve/NEW.NAME@example.com")["address"] == \
        "new.name@example.com"


def test_a_taken_or_wildcard_address_is_refused(api, make_user):
    user_id = make_user("renamer", address="one@example.com")
    make_user("other", address="two@example.com")
    alias = api.post(f"/users/{user_id}/addresses", {"address": "alias@example.com"})["id"]
    taken = api.put(f"/users/{user_id}/addresses/{alias}", {"address": "Two@example.com"})
    assert (taken.status, taken["code"]) == (400, "AddressExistsError")
    star = api.put(f"/users/{user_id}/addresses/{alias}", {"address": "*@example.com"})
    assert (star.status, star["code"]) == (400, "ChangeNotAllowed")
    catch = api.post(f"/users/{user_id}/addresses", {"address": "*@catch.example",
                                                     "allowWildcard": True})["id"]
    moved = api.put(f"/users/{user_id}/addresses/{catch}", {"address": "x@catch.example"})
    assert (moved.status, moved["code"]) == (400, "ChangeNotAllowed")
    main = api.put(f"/users/{user_id}/addresses/{catch}", {"main": True})
    assert main.status == 400
    assert api.get("/addresses/resolve/alias@example.com")["user"] == user_id


def test_a_temporary_token_may_not_turn_off_a_second_factor_enabled_since(api, make_user):
    import pyotp
    user_id = make_user("forgetful", password="old-pw")
    temporary = api.post(f"/users/{user_id}/password/reset")["password"]
    token = _token(api, "forgetful", temporary)["token"]
    # the operator turns TOTP on again after the reset
    seed = api.post(f"/users/{user_id}/2fa/totp/setup", {"issuer": "Mail"})["seed"]
    assert api.post(f"/users/{user_id}/2fa/totp/enable",
                    {"token": pyotp.TOTP(seed).now()}).status == 200
    refused = api.put(f"/users/{user_id}", {"password": "new-pw-1", "disable2fa": True},
                      **_as(token))
    assert (refused.status, refused["code"]) == (403, "MissingPrivileges")
    assert "two-factor" in refused["error"]
    without = api.put(f"/users/{user_id}", {"password": "new-pw-1"}, **_as(token))
    assert without.status == 200, without
    assert api.get(f"/users/{user_id}")["enabled2fa"] == ["totp"]
