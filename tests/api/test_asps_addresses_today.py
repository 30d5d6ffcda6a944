"""ASPs with a password of the caller's choosing, and addresses with metaData,
internalData and tags, as today's WildDuck clients send them."""
from __future__ import annotations

import base64
import plistlib

import pytest

from tests.api.test_asps import create_asp, login
from tests.support import MessagesStream, mailbox_ids
from tests.api.test_user_tokens import as_user, issue


def test_asp_with_a_pregenerated_password(api, make_user):
    user_id = make_user("custom", password="pw")
    reply = create_asp(api, user_id, scopes=["imap"], password="abcdefghijklmnop")
    assert reply["password"] == "abcdefghijklmnop"
    assert login(api, "custom", "abcd efgh ijkl mnop").status == 200
    assert login(api, "custom", "abcdefghijklmnop", scope="smtp").status == 403


@pytest.mark.parametrize("password", ["short", "ABCDEFGHIJKLMNOP", "abcdefghijklmnop1"])
def test_asp_password_must_be_16_lower_case_letters(api, make_user, password):
    user_id = make_user("badasp")
    reply = api.post(f"/users/{user_id}/asps", {"description": "x", "password": password})
    assert reply.status == 400 and "password" in reply["details"]


def test_asp_profile_for_one_of_the_users_addresses(api, make_user):
    user_id = make_user("profiled", address="main@example.com")
    api.post(f"/users/{user_id}/addresses", {"address": "second@example.com"})
    reply = create_asp(api, user_id, scopes=["imap", "smtp"], generateMobileconfig=True,
                       address="second@example.com")
    [mail] = plistlib.loads(base64.b64decode(reply["mobileconfig"]))["PayloadContent"]
    assert mail["EmailAddress"] == "second@example.com"
    make_user("stranger", address="theirs@example.com")
    refused = api.post(f"/users/{user_id}/asps", {"description": "x", "generateMobileconfig": True,
                                                  "address": "theirs@example.com"})
    assert refused.status == 400 and "address" in refused["details"]


def test_address_metadata_and_tags(api, make_user):
    user_id = make_user("meta", emptyAddress=True)
    created = api.post(f"/users/{user_id}/addresses", {
        "address": "tagged@example.com", "tags": ["Work", "vip"],
        "metaData": {"label": "office"}, "internalData": '{"crm": 42}'})
    assert created.status == 200, created
    address_id = created["id"]
    one = api.get(f"/users/{user_id}/addresses/{address_id}").json
    assert (one["metaData"], one["internalData"]) == ({"label": "office"}, {"crm": 42})
    listed = api.get(f"/users/{user_id}/addresses")["results"][0]
    assert "metaData" not in listed and "internalData" not in listed
    asked = api.get(f"/users/{user_id}/addresses?metaData=true&internalData=true")["results"][0]
    assert asked["metaData"] == {"label": "office"} and asked["internalData"] == {"crm": 42}
    api.put(f"/users/{user_id}/addresses/{address_id}", {"metaData": {}, "tags": ["home"]})
    one = api.get(f"/users/{user_id}/addresses/{address_id}").json
    assert one["metaData"] == {} and one["tags"] == ["home"]


def test_address_search_by_tags_and_with_metadata(api, make_user):
    user_id = make_user("searcher", emptyAddress=True)
    for name, tags in (("a", ["red"]), ("b", ["red", "blue"]), ("c", [])):
        api.post(f"/users/{user_id}/addresses", {"address": f"{name}@example.com", "tags": tags,
                                                 "metaData": {"n": name}})
    red = api.get("/addresses?tags=red")
    assert [r["address"] for r in red["results"]] == ["a@example.com", "b@example.com"]
    both = api.get("/addresses?requiredTags=red,blue&metaData=true")
    assert [(r["address"], r["metaData"]) for r in both["results"]] == [
        ("b@example.com", {"n": "b"})]
    assert "metaData" not in api.get("/addresses")["results"][0]


def test_address_internal_data_is_the_operators_only(api, make_user):
    user_id = make_user("owner", password="pw", emptyAddress=True)
    address_id = api.post(f"/users/{user_id}/addresses", {"address": "mine@example.com",
                                                          "internalData": {"x": 1}})["id"]
    token = issue(api, "owner")
    one = api.get(f"/users/{user_id}/addresses/{address_id}", **as_user(token))
    assert one.status == 200 and "internalData" not in one.json
    refused = api.post(f"/users/{user_id}/addresses", {"address": "more@example.com",
                                                       "internalData": {}}, **as_user(token))
    assert (refused.status, refused["code"]) == (403, "MissingPrivileges")
    assert api.put(f"/users/{user_id}/addresses/{address_id}", {"metaData": {"y": 2}},
                   **as_user(token)).status == 200


@pytest.mark.parametrize("value", ["{", "[]", 7, {"big": "x" * 70_000}])
def test_address_metadata_must_be_a_small_object(api, make_user, value):
    user_id = make_user("badmeta")
    reply = api.post(f"/users/{user_id}/addresses", {"address": "m@example.com",
                                                     "metaData": value})
    assert reply.status == 400 and "metaData" in reply["details"]


def test_address_register_lists_who_wrote_to_the_user(api, make_user):
    user_id = make_user("register", address="register@example.com")
    stream = MessagesStream()
    inbox = mailbox_ids(user_id)["INBOX"]
    raw = b"From: John Smith <john@partner.example>\r\nTo: register@example.com\r\n" \
          b"Subject: Hi\r\n\r\nHello\r\n"
    assert api.call("POST", f"/users/{user_id}/mailboxes/{inbox}/messages", raw=raw,
                    headers={"content-type": "message/rfc822"}).status == 200
    stream.pump()
    reply = api.get(f"/users/{user_id}/addressregister?query=john&limit=5")
    [entry] = reply["results"]
    assert reply.json == {"success": True, "results": [
        {"id": entry["id"], "name": "John Smith", "address": "john@partner.example"}]}
    assert api.get(f"/users/{user_id}/addressregister?query=jane")["results"] == []
    missing = api.get(f"/users/{user_id}/addressregister")
    assert missing.status == 400 and "query" in missing["details"]
    assert api.get(f"/users/{'0' * 24}/addressregister?query=j").status == 404
