"""HTTP behaviour of /users."""
from __future__ import annotations


from chalicelib.store.lookups import LookupItem
from chalicelib.store.tasks import PURGE_USER, TaskItem
from chalicelib.store.users import UserItem
from devstack.calls import counting
from tests.support import race


def test_create_then_get_returns_every_contract_field(api, make_user):
    user_id = make_user("testuser", address="testuser@example.com", name="Test User",
                        tags=["green", "Blue"], quota=1024, retention=3600000)
    reply = api.get(f"/users/{user_id}")
    assert reply.status == 200
    body = reply.json
    assert body["success"] is True
    assert body["id"] == user_id
    assert body["username"] == "testuser"
    assert body["name"] == "Test User"
    assert body["address"] == "testuser@example.com"
    assert body["retention"] == 3600000
    assert body["enabled2fa"] == []
    assert body["encryptMessages"] is False and body["encryptForwarded"] is False
    assert body["pubKey"] == "" and body["keyInfo"] is False
    assert body["limits"]["quota"] == {"allowed": 1024, "used": 0}
    assert body["limits"]["recipients"]["allowed"] == 2000  # MAX_RECIPIENTS, none set
    assert body["limits"]["forwards"]["ttl"] is False
    assert body["tags"] == ["green", "Blue"]
    assert body["hasPasswordSet"] is True
    assert body["activated"] is True and body["disabled"] is False


def test_default_address_uses_the_configured_domain(api, make_user):
    user_id = make_user("bob")
    assert api.get(f"/users/{user_id}")["address"] == "bob@example.com"


def test_empty_address_creates_no_address(api, make_user):
    user_id = make_user("noaddr", emptyAddress=True)
    assert api.get(f"/users/{user_id}")["address"] is None


def test_password_false_creates_account_without_password(api, make_user):
    user_id = make_user("nopass", password=False)
    assert api.get(f"/users/{user_id}")["hasPasswordSet"] is False


def test_default_quota_applies_when_quota_is_zero(api, make_user):
    user_id = make_user("zeroquota", quota=0)
    assert api.get(f"/users/{user_id}")["limits"]["quota"]["allowed"] == 1024 ** 3


def test_duplicate_username_is_user_exists_error(api, make_user):
    make_user("taken")
    reply = api.post("/users", {"username": "taken", "password": "x", "emptyAddress": True})
    assert reply.status == 400
    assert reply["code"] == "UserExistsError"


def test_username_with_dots_collides_with_the_dotless_form(api, make_user):
    make_user("john.doe", emptyAddress=True)
    reply = api.post("/users", {"username": "johndoe", "password": "x", "emptyAddress": True})
    assert reply["code"] == "UserExistsError"


def test_duplicate_address_is_address_exists_error(api, make_user):
    make_user("first", address="shared@example.com")
    reply = api.post("/users", {"username": "second", "password": "x",
                                "address": "Shared@EXAMPLE.com"})
    assert reply.status == 400
    assert reply["code"] == "AddressExistsError"
    # nothing of the failed user remains: its username is still free
    assert api.post("/users", {"username": "second", "password": "x"}).status == 200


def test_invalid_input_reports_every_field(api):
    reply = api.post("/users", {"username": "bad name!", "quota": "lots", "foo": 1})
    assert reply.status == 400
    assert reply["code"] == "InputValidationError"
    assert set(reply["details"]) == {"username", "password", "quota", "foo"}
    assert reply["details"]["foo"] == '"foo" is not allowed'


def test_bad_user_id_is_400_with_details(api):
    reply = api.get("/users/not-an-id")
    assert reply.status == 400
    assert reply["code"] == "InputValidationError"
    assert "user" in reply["details"]


def test_unknown_user_id_is_404(api):
    reply = api.get("/users/" + "a" * 24)
    assert reply.status == 404
    assert reply["code"] == "UserNotFound"


def test_upper_case_id_is_accepted(api, make_user):
    user_id = make_user("upper")
    assert api.get(f"/users/{user_id.upper()}").status == 200


def test_urlencoded_body_is_accepted(api):
    reply = api.call("POST", "/users", raw=b"username=formuser&password=pw&encryptMessages=no",
                     headers={"content-type": "application/x-www-form-urlencoded"})
    assert reply.status == 200, reply


def test_invalid_json_body_is_a_clear_400(api):
    reply = api.call("POST", "/users", raw=b"{not json")
    assert reply.status == 400
    assert reply["code"] == "InputValidationError"


def test_boolean_spellings_are_coerced(api, make_user):
    # (encryptMessages on would need a pubKey)
    user_id = make_user("bools", encryptMessages="off", encryptForwarded="Yes")
    body = api.get(f"/users/{user_id}").json
    assert body["encryptMessages"] is False and body["encryptForwarded"] is True


def test_default_mailboxes_follow_the_language(make_user):
    from chalicelib.store.mailboxes import list_for_user
    user_id = make_user("eesti", language="et", retention=90 * 24 * 3600 * 1000)
    boxes = {box.path: box for box in list_for_user(user_id)}
    assert set(boxes) == {"INBOX", "Saadetud kirjad", "Prügikast", "Mustandid", "Rämpspost"}
    assert boxes["Prügikast"].specialUse == "\\Trash"
    assert boxes["Prügikast"].retention == 30 * 24 * 3600 * 1000
    assert boxes["INBOX"].retention == 90 * 24 * 3600 * 1000
    assert all(b.uidNext == 1 and b.modifyIndex == 0 and b.subscribed for b in boxes.values())


def test_create_user_is_one_transaction(api):
    with counting() as calls:
        reply = api.post("/users", {"username": "budget", "password": "pw"})
    assert reply.status == 200
    assert calls.by_operation() == {"TransactWriteItems": 1}


def test_get_user_is_one_get_item_and_one_query_of_its_filters(api, make_user):
    user_id = make_user("budget2")
    with counting() as calls:
        assert api.get(f"/users/{user_id}").status == 200
    # the account, and its filters partition (ids only) for limits.filters and autoreply
    assert calls.by_operation() == {"GetItem": 1, "Query": 1}


def test_concurrent_creates_of_one_username_have_one_winner(serialized_aws):
    """Six Lambda instances race on one username: the transaction lets exactly one win."""
    from chalicelib.errors import UserExistsError
    from chalicelib.schemas.users import CreateUser
    from chalicelib.services import users

    created, errors = race(6, lambda n: users.create(
        CreateUser(username="race", password="pw", address=f"r{n}@example.com")))
    assert len(created) == 1
    assert len(errors) == 5 and all(isinstance(e, UserExistsError) for e in errors)
    assert sum(1 for u in UserItem.scan() if u.username == "race") == 1


def test_list_users_filters_by_query_and_tags(api, make_user):
    make_user("testuser01", tags=["red", "green"])
    make_user("testuser02", tags=["green"])
    make_user("other", tags=["red"])
    reply = api.get("/users?query=testuser&tags=red,blue")
    assert reply.status == 200
    assert [u["username"] for u in reply["results"]] == ["testuser01"]
    assert reply["query"] == "testuser"
    reply = api.get("/users?requiredTags=red,GREEN")
    assert [u["username"] for u in reply["results"]] == ["testuser01"]
    first = reply["results"][0]
    assert first["quota"] == {"allowed": 1024 ** 3, "used": 0}
    assert first["hasPasswordSet"] is True
    assert api.get("/users?query=other@example").json["results"][0]["username"] == "other"


def test_list_users_pages_forward_and_back_in_id_order(api, make_user):
    ids = [make_user(f"pager{n}") for n in range(5)]
    first = api.get("/users?limit=2")
    assert [u["id"] for u in first["results"]] == ids[:2]
    assert first["previousCursor"] is False
    second = api.get(f"/users?limit=2&page=2&next={first['nextCursor']}")
    assert [u["id"] for u in second["results"]] == ids[2:4]
    assert second["page"] == 2
    third = api.get(f"/users?limit=2&next={second['nextCursor']}")
    assert [u["id"] for u in third["results"]] == ids[4:]
    assert third["nextCursor"] is False
    back = api.get(f"/users?limit=2&previous={third['previousCursor']}")
    assert [u["id"] for u in back["results"]] == ids[2:4]
    back = api.get(f"/users?limit=2&previous={back['previousCursor']}")
    assert [u["id"] for u in back["results"]] == ids[:2]
    assert back["previousCursor"] is False


def test_tampered_cursor_is_rejected(api, make_user):
    for n in range(3):
        make_user(f"cur{n}")
    cursor = api.get("/users?limit=1")["nextCursor"]
    reply = api.get(f"/users?limit=1&next={cursor[:-2]}xx")
    assert reply.status == 400
    assert reply["code"] == "InputValidationError"


def test_update_changes_only_given_fields(api, make_user):
    user_id = make_user("upd", name="Before", tags=["a"])
    assert api.put(f"/users/{user_id}", {"quota": 1024}).status == 200
    body = api.get(f"/users/{user_id}").json
    assert body["limits"]["quota"]["allowed"] == 1024
    assert body["name"] == "Before" and body["tags"] == ["a"]


def test_update_with_wrong_existing_password_is_refused(api, make_user):
    user_id = make_user("guarded", password="right-one")
    reply = api.put(f"/users/{user_id}", {"existingPassword": "wrong", "name": "x"})
    assert reply.status == 403 and reply["code"] == "AuthFailed"
    reply = api.put(f"/users/{user_id}", {"existingPassword": "right-one", "password": "new-one"})
    assert reply.status == 200
    assert api.post("/authenticate", {"username": "guarded", "password": "new-one"}).status == 200


def test_update_unknown_user_is_404(api):
    assert api.put("/users/" + "b" * 24, {"name": "x"})["code"] == "UserNotFound"


def test_delete_makes_account_unusable_and_frees_names(api, make_user):
    user_id = make_user("leaving", address="leaving@example.com")
    assert api.delete(f"/users/{user_id}").status == 200
    assert api.get(f"/users/{user_id}").status == 404
    assert api.post("/authenticate", {"username": "leaving", "password": "secret-pass"}).status == 403
    assert all(u["id"] != user_id for u in api.get("/users")["results"])
    assert make_user("leaving", address="leaving@example.com") != user_id
    tasks = list(TaskItem.query(PURGE_USER))
    assert [t.user for t in tasks] == [user_id]
    assert LookupItem.get("username#leaving").user != user_id


def test_logout_writes_a_journal_entry(api, make_user):
    from chalicelib.store.journal import JournalItem
    user_id = make_user("loggedin")
    assert api.put(f"/users/{user_id}/logout", {"reason": "Account was deleted"}).status == 200
    entries = list(JournalItem.query(user_id))
    assert [(e.command, e.seq) for e in entries] == [("LOGOUT", 1)]
    assert entries[0].data.as_dict() == {"reason": "Account was deleted"}


def test_password_reset_gives_a_temporary_master_password(api, make_user):
    user_id = make_user("forgetful", password="old-password")
    reply = api.post(f"/users/{user_id}/password/reset", {"ip": "192.168.10.10"})
    assert reply.status == 200
    temporary = reply["password"]
    auth = api.post("/authenticate", {"username": "forgetful", "password": temporary})
    assert auth.status == 200
    assert auth["requirePasswordChange"] is True
    imap = api.post("/authenticate", {"username": "forgetful", "password": temporary,
                                      "scope": "imap"})
    assert imap.status == 403 and imap["code"] == "InvalidAuthScope"
    actions = [e["action"] for e in api.get(f"/users/{user_id}/authlog")["results"]]
    assert "reset" in actions


def _public_key() -> str:
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgpy
        from pgpy.constants import (HashAlgorithm, KeyFlags, PubKeyAlgorithm,
                                    SymmetricKeyAlgorithm)
        key = pgpy.PGPKey.new(PubKeyAlgorithm.RSAEncryptOrSign, 2048)
        uid = pgpy.PGPUID.new("Test User", email="test@example.com")
        key.add_uid(uid, usage={KeyFlags.EncryptCommunications, KeyFlags.Sign},
                    hashes=[HashAlgorithm.SHA256], ciphers=[SymmetricKeyAlgorithm.AES256])
        return str(key.pubkey)


def test_pub_key_is_summarized_in_key_info(api, make_user):
    armored = _public_key()
    user_id = make_user("pgpuser", pubKey=armored, encryptMessages=True)
    body = api.get(f"/users/{user_id}").json
    assert body["pubKey"] == armored
    assert body["keyInfo"]["name"] == "Test User"
    assert body["keyInfo"]["address"] == "test@example.com"
    assert len(body["keyInfo"]["fingerprint"]) == 40


def test_invalid_pub_key_is_a_400(api):
    reply = api.post("/users", {"username": "badkey", "password": "pw",
                                "pubKey": "-----BEGIN PGP PUBLIC KEY BLOCK-----\nnope"})
    assert reply.status == 400
    assert "pubKey" in reply["details"]


def test_oversized_tags_and_quota_are_400_not_500(api):
    reply = api.post("/users", {"username": "big", "password": "pw",
                                "tags": [f"t{n}" for n in range(101)], "quota": 10 ** 40})
    assert reply.status == 400
    assert set(reply["details"]) == {"tags", "quota"}


def test_an_empty_yes_no_field_leaves_it_as_it_is(api, make_user):
    # An empty flag once stored a null, which later failed the key-removal guard with a
    # 409 that no retry could fix.
    user_id = make_user("emptyflag", encryptMessages=False)
    assert api.put(f"/users/{user_id}", {"encryptMessages": "", "disabled": None}).status == 200
    assert api.put(f"/users/{user_id}", {"pubKey": ""}).status == 200
    body = api.get(f"/users/{user_id}").json
    assert body["encryptMessages"] is False and body["disabled"] is False
    assert api.put(f"/users/{user_id}", {"name": None}).status == 200
    assert api.get(f"/users/{user_id}").status == 200
