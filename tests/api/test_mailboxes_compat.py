"""Mailboxes as today's WildDuck clients call them: resolve by path, listing flags,
trailing slashes, the reference server's error texts, encryptMessages."""
from __future__ import annotations

from urllib.parse import quote

import pytest


def _box(api, user_id, path, **fields):
    reply = api.post(f"/users/{user_id}/mailboxes", {"path": path, **fields})
    assert reply.status == 200, reply
    return reply["id"]


def test_resolve_answers_the_mailbox_fields_a_webmail_reads(api, make_user):
    user_id = make_user("resolving")
    box_id = _box(api, user_id, "Projects/2024", retention=7 * 86400000, sess="abc",
                  ip="127.0.0.1")
    reply = api.get(f"/users/{user_id}/mailboxes/resolve?path=Projects/2024&sess=abc&ip=::1")
    assert reply.status == 200
    assert reply.json == {
        "success": True, "id": box_id, "name": "2024", "path": "Projects/2024",
        "specialUse": None, "modifyIndex": 0, "subscribed": True, "hidden": False,
        "encryptMessages": False, "total": 0, "unseen": 0, "size": 0, "uidNext": 1,
        "retention": 7 * 86400000}
    trash = api.get(f"/users/{user_id}/mailboxes/resolve?path=Trash")
    assert (trash["specialUse"], trash["retention"]) == ("\\Trash", 30 * 86400000)
    missing = api.get(f"/users/{user_id}/mailboxes/resolve?path=Nowhere")
    assert (missing.status, missing["code"], missing["error"]) == (
        404, "NoSuchMailbox", "This mailbox does not exist")


@pytest.mark.parametrize("path", ["Folder/", "INBOX/", "a//b", "/"])
def test_trailing_slash_and_empty_segments_are_refused(api, make_user, path):
    user_id = make_user("slashes")
    for reply in (api.post(f"/users/{user_id}/mailboxes", {"path": path}),
                  api.get(f"/users/{user_id}/mailboxes/resolve?path={quote(path)}")):
        assert reply.status == 400 and reply["code"] == "InputValidationError", reply
        assert "path" in reply["details"]
    box_id = _box(api, user_id, "Renamed")
    reply = api.put(f"/users/{user_id}/mailboxes/{box_id}", {"path": path})
    assert reply.status == 400 and "path" in reply["details"]


def test_a_leading_slash_is_dropped_as_the_reference_does(api, make_user):
    user_id = make_user("leading")
    box_id = _box(api, user_id, "/Leading/Slash")
    assert api.get(f"/users/{user_id}/mailboxes/{box_id}")["path"] == "Leading/Slash"


def test_listing_flags_sizes_special_use_hidden_and_retention(api, make_user, account):
    from tests.support import simple_message, upload_raw

    upload_raw(api, account, simple_message())
    user_id = account.id
    hidden = _box(api, user_id, "Secret", hidden=True)
    results = api.get(f"/users/{user_id}/mailboxes?sizes=true").json["results"]
    inbox = next(box for box in results if box["path"] == "INBOX")
    assert inbox["size"] > 0 and "total" not in inbox and "unseen" not in inbox
    trash = next(box for box in results if box["path"] == "Trash")
    assert trash["retention"] == 30 * 86400000 and "retention" not in inbox
    assert hidden not in [box["id"] for box in results]
    special = api.get(f"/users/{user_id}/mailboxes?specialUse=1&showHidden=1")["results"]
    assert [box["path"] for box in special] == ["INBOX", "Drafts", "Junk", "Sent Mail", "Trash"]
    shown = api.get(f"/users/{user_id}/mailboxes?showHidden=true&counters=true")["results"]
    secret = next(box for box in shown if box["id"] == hidden)
    assert secret["hidden"] is True and (secret["total"], secret["unseen"]) == (0, 0)


def test_errors_carry_the_reference_texts(api, make_user):
    user_id = make_user("texts")
    box_id = _box(api, user_id, "Once")
    missing = "0" * 24
    cases = [
        (api.post(f"/users/{user_id}/mailboxes", {"path": "Once"}), 400, "MailboxExistsError",
         "Mailbox creation failed with code MailboxAlreadyExists"),
        (api.put(f"/users/{user_id}/mailboxes/{box_id}", {"path": "Trash"}), 400,
         "MailboxExistsError", "Mailbox rename failed with code MailboxAlreadyExists"),
        (api.put(f"/users/{user_id}/mailboxes/{missing}", {"path": "Other"}), 404,
         "NoSuchMailbox", "Mailbox update failed with code NoSuchMailbox"),
        (api.put(f"/users/{user_id}/mailboxes/{missing}", {"subscribed": False}), 404,
         "NoSuchMailbox", "Mailbox update failed with code NoSuchMailbox"),
        (api.delete(f"/users/{user_id}/mailboxes/{missing}"), 404, "NoSuchMailbox",
         "Mailbox deletion failed with code NoSuchMailbox"),
        (api.get(f"/users/{user_id}/mailboxes/{missing}"), 404, "NoSuchMailbox",
         "This mailbox does not exist"),
        (api.put(f"/users/{user_id}/mailboxes/{box_id}", {}), 400, "InputValidationError",
         "Nothing was changed"),
    ]
    inbox = api.get(f"/users/{user_id}/mailboxes/resolve?path=INBOX")["id"]
    trash = api.get(f"/users/{user_id}/mailboxes/resolve?path=Trash")["id"]
    cases += [
        (api.put(f"/users/{user_id}/mailboxes/{inbox}", {"path": "Renamed"}), 400,
         "DisallowedMailboxMethod", "Mailbox update failed with code DisallowedMailboxMethod"),
        (api.delete(f"/users/{user_id}/mailboxes/{inbox}"), 400, "DisallowedMailboxMethod",
         "Mailbox deletion failed with code DisallowedMailboxMethod"),
        (api.delete(f"/users/{user_id}/mailboxes/{trash}"), 400, "DisallowedMailboxMethod",
         "Mailbox deletion failed with code DisallowedMailboxMethod"),
    ]
    for reply, status, code, text in cases:
        assert (reply.status, reply["code"], reply["error"]) == (status, code, text)


def test_hidden_mailboxes_are_neither_renamed_nor_deleted(api, make_user):
    user_id = make_user("hiddenrules")
    box_id = _box(api, user_id, "System", hidden="true")
    reply = api.delete(f"/users/{user_id}/mailboxes/{box_id}")
    assert (reply.status, reply["code"]) == (400, "DisallowedMailboxMethod")
    assert api.put(f"/users/{user_id}/mailboxes/{box_id}", {"hidden": "false"}).status == 200
    assert api.delete(f"/users/{user_id}/mailboxes/{box_id}").status == 200


def test_encrypt_messages_is_kept_shown_and_changed(api, make_user):
    user_id = make_user("encbox")
    box_id = _box(api, user_id, "Vault", encryptMessages=True)
    assert api.get(f"/users/{user_id}/mailboxes/{box_id}")["encryptMessages"] is True
    assert api.put(f"/users/{user_id}/mailboxes/{box_id}",
                   {"encryptMessages": "no"}).status == 200
    listed = api.get(f"/users/{user_id}/mailboxes").json["results"]
    assert next(b for b in listed if b["id"] == box_id)["encryptMessages"] is False
