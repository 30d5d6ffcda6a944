"""Message view fields WildDuck answers: `list`, attachment `hash`, `metaData`."""
from __future__ import annotations

import base64
import hashlib
import json

from chalicelib.store import messages as store
from chalicelib.store.messages import MessageItem
from devstack.calls import counting
from tests.support import simple_message, upload_raw


def view(api, account, uid, box=None):
    reply = api.get(f"{account.messages(box)}/{uid}")
    assert reply.status == 200, reply
    return reply.json


def uploaded(api, account, raw: bytes) -> int:
    reply = upload_raw(api, account, raw)
    assert reply.status == 200, reply
    return reply["message"]["id"]


# --------------------------------------------------------------------------- list


def test_list_answers_list_id_and_unsubscribe_as_address_pairs(api, account):
    raw = simple_message(extra="List-Id: \"Dev, talk\" <dev.lists.example.org>\r\n"
                               "List-Unsubscribe: <mailto:leave@example.org?subject=bye>,\r\n"
                               " <https://example.org/u?a=1,2>")
    assert view(api, account, uploaded(api, account, raw))["list"] == {
        "id": {"name": "Dev, talk", "address": "dev.lists.example.org"},
        "unsubscribe": [{"name": "", "address": "mailto:leave@example.org?subject=bye"},
                        {"name": "", "address": "https://example.org/u?a=1,2"}]}


def test_list_has_only_the_headers_the_message_has(api, account):
    only_id = uploaded(api, account, simple_message(extra="List-Id: <x.example.org>"))
    assert view(api, account, only_id)["list"] == {"id": {"name": "", "address": "x.example.org"}}
    only_unsubscribe = uploaded(api, account, simple_message(
        extra="List-Unsubscribe: <mailto:u@example.org>"))
    assert view(api, account, only_unsubscribe)["list"] == {
        "unsubscribe": [{"name": "", "address": "mailto:u@example.org"}]}


def test_list_is_left_out_without_either_header(api, account):
    assert "list" not in view(api, account, uploaded(api, account, simple_message()))


def test_a_message_stored_before_answers_its_list_id(api, account):
    uid = uploaded(api, account, simple_message(extra="List-Id: Old <old.example.org>"))
    item = store.get(account.inbox, uid)
    item.update(actions=[MessageItem.mailingList.remove(),
                         MessageItem.listId.set("old.example.org")])
    assert view(api, account, uid)["list"] == {"id": {"name": "", "address": "old.example.org"}}


def test_unsubscribe_entries_are_bounded(api, account):
    many = ", ".join(f"<mailto:u{n}@example.org>" for n in range(30))
    uid = uploaded(api, account, simple_message(extra=f"List-Unsubscribe: {many}"))
    assert len(view(api, account, uid)["list"]["unsubscribe"]) == 10


# --------------------------------------------------------------------------- hash


def test_attachment_hash_is_the_sha256_of_the_decoded_content(api, account):
    content = b"%PDF-1.4 not really\x00\xff"
    reply = api.post(account.messages(), {
        "from": {"address": "a@example.org"}, "subject": "with file", "text": "see file",
        "attachments": [{"filename": "a.pdf", "contentType": "application/pdf",
                         "content": base64.b64encode(content).decode()}]})
    assert reply.status == 200, reply
    [attachment] = view(api, account, reply["message"]["id"])["attachments"]
    assert attachment["hash"] == hashlib.sha256(content).hexdigest()


def test_an_attachment_stored_before_has_no_hash(api, account):
    reply = api.post(account.messages(), {
        "from": {"address": "a@example.org"}, "text": "x",
        "attachments": [{"filename": "a.txt", "content": base64.b64encode(b"hi").decode()}]})
    uid = reply["message"]["id"]
    item = store.get(account.inbox, uid)
    old = [{k: v for k, v in a.as_dict().items() if k != "hash"} if hasattr(a, "as_dict")
           else {k: v for k, v in a.items() if k != "hash"} for a in item.attachments]
    item.update(actions=[MessageItem.attachments.set(old)])
    [attachment] = view(api, account, uid)["attachments"]
    assert "hash" not in attachment and attachment["filename"] == "a.txt"


# --------------------------------------------------------------------------- metaData


def test_upload_metadata_as_object_or_json_text(api, account):
    for given in ({"reference": "abc", "n": [1, 2]}, json.dumps({"reference": "abc", "n": [1, 2]})):
        reply = api.post(account.messages(), {"from": {"address": "a@example.org"},
                                              "text": "x", "metaData": given})
        assert reply.status == 200, reply
        assert view(api, account, reply["message"]["id"])["metaData"] == {
            "reference": "abc", "n": [1, 2]}


def test_metadata_must_be_an_object_of_at_most_64_kib(api, account):
    for bad in ("not json", [1, 2], {"big": "x" * (64 * 1024)}):
        reply = api.post(account.messages(), {"from": {"address": "a@example.org"},
                                              "text": "x", "metaData": bad})
        assert reply.status == 400 and reply["code"] == "InputValidationError", reply


def test_put_sets_metadata_without_a_journal_entry(api, account):
    uid = uploaded(api, account, simple_message())
    with counting() as calls:
        reply = api.put(f"{account.messages()}/{uid}", {"metaData": {"tag": "one"}})
    assert reply.status == 200 and reply["updated"] == 1, reply
    # mailbox, the message, the ADD (of no journal numbers) that proves the account, the write
    assert calls.by_operation() == {"GetItem": 1, "BatchGetItem": 1, "UpdateItem": 1,
                                    "TransactWriteItems": 1}
    body = view(api, account, uid)
    assert body["metaData"] == {"tag": "one"} and body["seen"] is True
    reply = api.put(f"{account.messages()}/{uid}", {"metaData": "{\"tag\": \"two\"}",
                                                    "seen": False})
    assert reply.status == 200, reply
    body = view(api, account, uid)
    assert body["metaData"] == {"tag": "two"} and body["seen"] is False


def test_metadata_moves_and_is_archived_and_restored_with_the_message(api, account):
    reply = api.post(account.messages(), {"from": {"address": "a@example.org"},
                                          "text": "x", "metaData": {"k": 1}})
    uid = reply["message"]["id"]
    trash = account.boxes["Trash"]
    moved = api.put(f"{account.messages()}/{uid}", {"moveTo": trash})
    assert moved.status == 200, moved
    [[_, new_uid]] = moved["id"]
    assert view(api, account, new_uid, trash)["metaData"] == {"k": 1}
    moved = api.put(f"{account.messages(trash)}/{new_uid}",
                    {"moveTo": account.inbox, "metaData": {"k": 2}})
    [[_, back]] = moved["id"]
    assert view(api, account, back)["metaData"] == {"k": 2}

    assert api.delete(f"{account.messages()}/{back}").status == 200
    [archived] = api.get(f"/users/{account.id}/archived/messages")["results"]
    path = f"/users/{account.id}/archived/messages/{archived['id']}"
    assert api.get(path)["metaData"] == {"k": 2}
    restored = api.post(path + "/restore", {})
    assert restored.status == 200, restored
    assert view(api, account, restored["id"])["metaData"] == {"k": 2}
