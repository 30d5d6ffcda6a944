"""HTTP behaviour of /users/{user}/filters and /filters."""
from __future__ import annotations

from chalicelib.ids import new_id
from chalicelib.services import filters as filter_service
from chalicelib.store.filters import FilterItem


def create(api, account, body):
    reply = api.post(f"/users/{account.id}/filters", body)
    assert reply.status == 200, reply
    return reply["id"]


def test_flat_contract_fields_create_a_filter_shown_in_both_forms(api, account):
    fid = create(api, account, {"query_from": "abc", "action_flag": True,
                                "name": "Flag messages from abc"})
    reply = api.get(f"/users/{account.id}/filters/{fid}")
    assert reply.status == 200, reply
    assert reply["query"] == {"from": "abc"} and reply["action"] == {"flag": True}
    assert reply["query_from"] == "abc" and reply["action_flag"] is True
    assert reply["name"] == "Flag messages from abc" and reply["disabled"] is False
    listing = api.get(f"/users/{account.id}/filters")
    assert listing["limits"] == {"allowed": 400, "used": 1}
    assert listing["results"][0]["query"] == [["from", "(abc)"]]
    assert listing["results"][0]["action"] == [["flag it"]]


def test_nested_form_with_every_field_is_described_as_readable_tuples(api, account):
    junk = account.boxes["Junk"]
    fid = create(api, account, {
        "query": {"from": "a  b", "to": "me", "subject": "hi", "listId": "list.example",
                  "text": "invoice", "ha": True, "size": -5000},
        "action": {"seen": True, "flag": False, "delete": False, "spam": True,
                   "mailbox": junk,
                   "targets": ["fwd@example.net", "smtp://mx.example.net:25",
                               "https://hooks.example.net/in?x=1"]},
        "metaData": {"owner": "ops"}})
    listed = api.get(f"/users/{account.id}/filters?metaData=true")["results"][0]
    assert listed["id"] == fid and listed["metaData"] == {"owner": "ops"}
    assert listed["query"] == [["from", "(a b)"], ["to", "(me)"], ["subject", "(hi)"],
                               ["listId", "(list.example)"], ["has attachment"],
                               [False, '"invoice"'], ["smaller", 5000]]
    assert listed["action"] == [["mark as read"], ["do not flag it"], ["do not delete it"],
                                ["mark it as spam"],
                                ["forward to", "fwd@example.net, smtp://mx.example.net:25, "
                                               "hooks.example.net"],
                                ["move to folder", '"Junk"']]
    shown = api.get(f"/users/{account.id}/filters/{fid}")
    assert shown["action"]["targets"][2] == "https://hooks.example.net/in?x=1"
    assert shown["action_forward"] == "fwd@example.net"
    assert shown["action_targetUrl"] == "https://hooks.example.net/in?x=1"
    assert shown["query_size"] == -5000 and shown["metaData"] == {"owner": "ops"}


def test_update_changes_named_fields_and_an_empty_value_clears_one(api, account):
    fid = create(api, account, {"query": {"from": "abc", "subject": "x"},
                                "action": {"seen": True, "targets": ["a@example.net"]}})
    reply = api.put(f"/users/{account.id}/filters/{fid}",
                    {"query_from": "", "query_ha": True, "action_spam": True,
                     "action": {"targets": ""}, "disabled": True})
    assert reply.status == 200, reply
    shown = api.get(f"/users/{account.id}/filters/{fid}")
    assert shown["query"] == {"subject": "x", "ha": True}
    assert shown["action"] == {"seen": True, "spam": True}
    assert shown["disabled"] is True


def test_mailbox_action_must_be_a_mailbox_of_the_user(api, account, make_user):
    other = make_user("other")
    other_inbox = api.get(f"/users/{other}/mailboxes")["results"][0]["id"]
    reply = api.post(f"/users/{account.id}/filters", {"action": {"mailbox": other_inbox}})
    assert reply.status == 404 and reply["code"] == "NoSuchMailbox"


def test_unknown_target_types_are_refused(api, account):
    for target in ("ftp://x.example", "not an address", "http://"):
        reply = api.post(f"/users/{account.id}/filters", {"action": {"targets": [target]}})
        assert reply.status == 400 and reply["code"] == "InputValidationError", (target, reply)


def test_unknown_filter_and_user_answer_their_codes(api, account):
    missing = new_id()
    assert api.get(f"/users/{account.id}/filters/{missing}")["code"] == "FilterNotFound"
    assert api.delete(f"/users/{account.id}/filters/{missing}")["code"] == "FilterNotFound"
    assert api.put(f"/users/{account.id}/filters/{missing}", {"name": "x"})["code"] \
        == "FilterNotFound"
    assert api.post(f"/users/{missing}/filters", {"query_from": "a"})["code"] == "UserNotFound"
    assert api.get(f"/users/{missing}/filters")["code"] == "UserNotFound"


def test_delete_removes_the_filter(api, account):
    fid = create(api, account, {"query_from": "abc", "action_seen": True})
    assert api.delete(f"/users/{account.id}/filters/{fid}").status == 200
    assert api.get(f"/users/{account.id}/filters")["results"] == []


def test_at_most_400_filters_and_the_autoreply_is_not_one(api, account, monkeypatch):
    monkeypatch.setattr(filter_service, "MAX_FILTERS", 3)
    api.put(f"/users/{account.id}/autoreply", {"status": True, "text": "away"})
    for n in range(3):
        create(api, account, {"query_from": f"a{n}", "action_seen": True})
    reply = api.post(f"/users/{account.id}/filters", {"query_from": "x", "action_seen": True})
    assert reply.status == 403 and reply["code"] == "TooMany"
    assert len(api.get(f"/users/{account.id}/filters")["results"]) == 3


def test_deleting_a_mailbox_removes_the_filters_that_target_it(api, account):
    box = api.post(f"/users/{account.id}/mailboxes", {"path": "Receipts"})["id"]
    kept = create(api, account, {"query_from": "a", "action_seen": True})
    create(api, account, {"query_from": "b", "action_mailbox": box})
    assert api.delete(f"/users/{account.id}/mailboxes/{box}").status == 200
    assert [f["id"] for f in api.get(f"/users/{account.id}/filters")["results"]] == [kept]


def test_operator_listing_pages_over_every_user_with_a_forward_filter(api, account, make_user):
    other = make_user("other")
    for n in range(3):
        create(api, account, {"query_from": f"a{n}", "action": {"targets": [f"t{n}@x.example"]}})
    api.post(f"/users/{other}/filters", {"query_from": "z", "action_seen": True})
    api.put(f"/users/{other}/autoreply", {"status": True})
    seen, cursor = [], None
    while True:
        reply = api.get("/filters?limit=2" + (f"&next={cursor}" if cursor else ""))
        assert reply.status == 200, reply
        seen += reply["results"]
        cursor = reply["nextCursor"]
        if not cursor:
            break
    assert len(seen) == 4 and len({f["id"] for f in seen}) == 4
    assert {f["user"] for f in seen} == {account.id, other}
    assert api.get("/filters?forward=&limit=&page=").status == 200
    assert api.get("/filters?forward=" + "x" * 256)["code"] == "InputValidationError"
    forwarding = api.get("/filters?forward=t1@")["results"]
    assert [f["targets"] for f in forwarding] == [["t1@x.example"]]
    assert FilterItem.count(account.id) == 4  # the account item is in no listing


def test_autoreply_is_off_by_default_and_updates_partially(api, account):
    path = f"/users/{account.id}/autoreply"
    first = api.get(path)
    assert first["status"] is False and first["start"] is False and first["created"] is False
    assert api.put(path, {"status": True, "subject": "Out of office",
                          "text": "Back Monday", "start": "2030-01-01T00:00:00.000Z",
                          "end": "2030-01-05T00:00:00Z"}).status == 200
    assert api.put(path, {"name": "Alice"}).status == 200
    shown = api.get(path)
    assert (shown["status"], shown["name"], shown["subject"], shown["text"], shown["message"]) \
        == (True, "Alice", "Out of office", "Back Monday", "Back Monday")
    assert shown["start"] == "2030-01-01T00:00:00.000Z" and shown["end"].startswith("2030-01-05")
    assert api.put(path, {"end": False}).status == 200
    assert api.get(path)["end"] is False
    assert api.delete(path).status == 200
    assert api.get(path)["status"] is False


def test_autoreply_of_unknown_user_and_bad_dates(api, account):
    assert api.put(f"/users/{new_id()}/autoreply", {"status": True})["code"] == "UserNotFound"
    assert api.get(f"/users/{new_id()}/autoreply")["code"] == "UserNotFound"
    reply = api.put(f"/users/{account.id}/autoreply", {"start": "not a date"})
    assert reply.status == 400 and reply["code"] == "InputValidationError"


def test_the_filter_limit_holds_when_creations_race(account, serialized_aws, monkeypatch):
    from chalicelib.schemas.filters import CreateFilter
    from chalicelib.services.authlog import Audit
    from tests.support import race
    monkeypatch.setattr(filter_service, "MAX_FILTERS", 5)
    fields = CreateFilter(user=account.id, query={"from": "x"}, action={"seen": True})
    created, errors = race(12, lambda n: filter_service.create(account.id, fields, Audit()))
    assert len(created) == 5 and {type(e).__name__ for e in errors} == {"TooMany"}
    assert len(filter_service.listing(account.id).filters) == 5
