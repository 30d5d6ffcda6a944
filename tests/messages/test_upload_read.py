"""Uploading real-world shaped messages and reading every field back."""
from __future__ import annotations

import base64
import os

import requests

from chalicelib.mail import compose_message
from chalicelib.api import message_views
from chalicelib.services import messages as service
from chalicelib.services.messages import NewMessage
from chalicelib.store import blobs
from chalicelib.store.journal import JournalItem
from chalicelib.store.mailboxes import MailboxItem
from chalicelib.store.users import UserItem
from devstack.calls import counting
from tests.support import fixture, simple_message, upload_raw

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


def read(api, account, uid, box=None):
    reply = api.get(f"{account.messages(box)}/{uid}")
    assert reply.status == 200, reply
    return reply.json


def test_multipart_alternative_reply_reads_back_every_field(api, account):
    raw = fixture("gmail_reply_alternative.eml")
    reply = upload_raw(api, account, raw)
    assert reply.status == 200, reply
    assert reply["message"] == {"id": 1, "mailbox": account.inbox, "size": len(raw)}

    body = read(api, account, 1)
    assert body["id"] == 1 and body["mailbox"] == account.inbox and body["user"] == account.id
    assert body["from"] == {"name": "Alice Müller", "address": "alice@gmail.com"}
    assert body["to"] == [{"name": "Bob", "address": "bob@example.org"}]
    assert body["cc"] == [{"name": "Smith, Carol", "address": "carol@example.org"},
                          {"name": "", "address": "dave@example.org"}]
    assert body["subject"] == "Re: Café meeting ☕"
    assert body["messageId"] == "<CAFoo+bar=baz@mail.gmail.com>"
    assert body["inReplyTo"] == "<CAOld2@mail.gmail.com>"
    assert body["references"] == ["<CAOld1@mail.gmail.com>", "<CAOld2@mail.gmail.com>"]
    assert body["date"] == "2024-04-09T09:11:33.000Z"
    assert body["text"].startswith("Sounds good, see you at the café at 10.")
    assert isinstance(body["html"], list) and len(body["html"]) == 1
    assert "café" in body["html"][0]
    assert body["attachments"] == []
    assert body["intro"].startswith("Sounds good, see you at the café")
    assert body["contentType"]["value"] == "multipart/alternative"
    assert body["size"] == len(raw)
    assert (body["seen"], body["flagged"], body["draft"], body["deleted"]) == (True, False, False, False)
    assert len(body["thread"]) == 24


def test_nested_mixed_lists_attachments_in_mime_order_and_serves_them_decoded(api, account):
    upload_raw(api, account, fixture("apple_nested_mixed.eml"))
    body = read(api, account, 1)
    assert body["subject"] == "Quarterly report"
    assert body["text"].startswith("Report attached, chart inline.")
    assert body["html"] and "attachment:ATT00001" in body["html"][0]  # the inline chart
    ids = [a["id"] for a in body["attachments"]]
    assert ids == [f"ATT{n:05d}" for n in range(1, len(ids) + 1)] and len(ids) >= 2
    chart = body["attachments"][0]
    assert chart["filename"] == "chart.png" and chart["contentType"] == "image/png"
    assert chart["size"] == len(PNG) and chart["related"] is True
    assert body["attachments"][1]["filename"].startswith("Quartalsbericht Übersicht")

    listed = api.get(account.messages()).json["results"][0]
    assert listed["attachments"] is True

    # no Accept header at all: an image still comes back as bytes with its own type
    download = api.get(f"{account.messages()}/1/attachments/ATT00001")
    assert download.status == 200, download
    assert download.headers["Content-Type"] == "image/png"
    assert download.raw == PNG
    assert 'filename="chart.png"' in download.headers["Content-Disposition"]


def test_non_utf8_charsets_and_encoded_words_are_decoded(api, account):
    raw = ("From: =?ISO-8859-1?Q?J=F6rg_M=FCller?= <jorg@example.de>\r\n"
           "To: =?KOI8-R?B?98HTyczJyg==?= <vasily@example.ru>\r\n"
           "Subject: =?windows-1252?Q?=93Quoted=94_caf=E9?= =?UTF-8?B?4piV?=\r\n"
           "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n"
           "MIME-Version: 1.0\r\n"
           "Content-Type: text/plain; charset=koi8-r\r\n"
           "Content-Transfer-Encoding: 8bit\r\n\r\n").encode("ascii") \
        + "Привет, мир".encode("koi8-r") + b"\r\n"
    upload_raw(api, account, raw)
    body = read(api, account, 1)
    assert body["from"] == {"name": "Jörg Müller", "address": "jorg@example.de"}
    assert body["to"][0]["name"] == "Василий"
    assert body["subject"] == "“Quoted” café☕"
    assert body["text"].strip() == "Привет, мир"


def test_message_without_date_shows_the_internal_date(api, account):
    raw = b"From: a@example.com\r\nTo: mailuser@example.com\r\nSubject: no date\r\n\r\nbody\r\n"
    upload_raw(api, account, raw, query="date=2023-05-06T07:08:09.000Z")
    body = read(api, account, 1)
    assert body["date"] == body["idate"] == "2023-05-06T07:08:09.000Z"
    assert body["messageId"] is None and body["from"] == {"name": "", "address": "a@example.com"}


def test_8bit_body_is_stored_byte_for_byte(api, account):
    raw = ("From: a@example.com\nTo: b@example.com\nSubject: 8bit\nMIME-Version: 1.0\n"
           "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
           "Grüße aus Köln — ünïcödé\n").encode("utf-8")
    upload_raw(api, account, raw)
    assert read(api, account, 1)["text"] == "Grüße aus Köln — ünïcödé\n"
    source = api.get(f"{account.messages()}/1/message.eml")  # no Accept header at all
    assert source.status == 200
    assert source.headers["Content-Type"] == "message/rfc822"
    assert source.raw == raw


def test_flags_and_internal_date_come_from_the_upload_parameters(api, account):
    reply = api.post(account.messages(), {"raw": simple_message().decode(), "unseen": True,
                                          "flagged": "yes", "draft": 1,
                                          "date": "Sat, 02 Mar 2024 10:00:00 +0100"})
    assert reply.status == 200, reply
    body = read(api, account, 1)
    assert (body["seen"], body["flagged"], body["draft"]) == (False, True, True)
    assert body["idate"] == "2024-03-02T09:00:00.000Z"


def test_json_raw_may_be_plain_text_or_base64(api, account):
    raw = simple_message("Base64 one")
    assert api.post(account.messages(), {"raw": base64.b64encode(raw).decode()}).status == 200
    assert api.post(account.messages(), {"raw": simple_message("Plain one").decode()}).status == 200
    assert read(api, account, 1)["subject"] == "Base64 one"
    assert read(api, account, 2)["subject"] == "Plain one"


def test_structured_fields_are_composed_into_a_mime_message(api, account):
    reply = api.post(account.messages(), {
        "from": {"name": "Jõgeva Ülo", "address": "ylo@example.ee"},
        "to": [{"name": "Андрей", "address": "andrei@example.com"}],
        "cc": "cc@example.com",
        "subject": "Tere 👋 maailm",
        "text": "Plain body",
        "html": "<p>HTML body</p>",
        "attachments": [{"filename": "hello.txt", "contentType": "text/plain",
                         "content": base64.b64encode(b"hello file").decode()}],
    })
    assert reply.status == 200, reply
    body = read(api, account, 1)
    assert body["from"] == {"name": "Jõgeva Ülo", "address": "ylo@example.ee"}
    assert body["to"] == [{"name": "Андрей", "address": "andrei@example.com"}]
    assert body["cc"] == [{"name": "", "address": "cc@example.com"}]
    assert body["subject"] == "Tere 👋 maailm"
    assert body["text"] == "Plain body" and body["html"] == ["<p>HTML body</p>"]
    assert [(a["filename"], a["size"]) for a in body["attachments"]] == [("hello.txt", 10)]
    download = api.get(f"{account.messages()}/1/attachments/ATT00001")
    assert download.raw == b"hello file" and download.headers["Content-Type"] == "text/plain"


def test_upload_claims_uid_and_journal_number_then_commits_one_transaction(api, account):
    raw = simple_message()
    with counting() as calls:
        reply = upload_raw(api, account, raw, query="unseen=true")
    assert reply.status == 200
    ddb = calls.by_operation("dynamodb")
    # the two UpdateItems claim the uid and the journal number (atomic ADDs)
    assert ddb == {"BatchGetItem": 1, "UpdateItem": 2, "TransactWriteItems": 1}, ddb
    assert calls.by_operation("s3") == {"PutObject": 1}
    inbox = MailboxItem.get(account.id, account.inbox)
    assert (inbox.uidNext, inbox.total, inbox.unseen, inbox.size, inbox.modifyIndex) == \
        (2, 1, 1, len(raw), 1)
    user = UserItem.get(account.id)
    assert user.storageUsed == len(raw)
    entries = list(JournalItem.query(account.id))
    assert [(e.command, e.data.as_dict()["uid"]) for e in entries] == [("EXISTS", 1)]


def test_large_bodies_live_in_s3_and_cost_one_get_to_read(api, account):
    text = "A long paragraph of text. " * 2000
    raw = simple_message("Big body", text)
    with counting() as calls:
        upload_raw(api, account, raw)
    assert calls.by_operation("s3") == {"PutObject": 2}
    with counting() as calls:
        body = read(api, account, 1)
    # the message and its mailbox (the proof that neither was deleted) in one call
    assert calls.by_operation("dynamodb") == {"BatchGetItem": 1}
    assert calls.by_operation("s3") == {"GetObject": 1}
    assert body["text"].strip() == text.strip()


def test_reading_a_small_message_costs_one_read_and_nothing_from_s3(api, account):
    upload_raw(api, account, simple_message())
    with counting() as calls:
        read(api, account, 1)
    assert calls.by_operation("dynamodb") == {"BatchGetItem": 1}  # message + mailbox
    assert calls.count("s3") == 0


def test_over_quota_upload_is_refused_and_leaves_nothing_behind(api, make_user):
    from tests.support import Account, mailbox_ids
    user_id = make_user("tiny", quota=100)
    account = Account(user_id, mailbox_ids(user_id))
    reply = upload_raw(api, account, simple_message("x" * 200))
    assert reply.status == 400 and reply["code"] == "OverQuotaError"
    assert MailboxItem.get(user_id, account.inbox).total == 0
    assert UserItem.get(user_id).storageUsed == 0
    assert list(blobs.list_prefix("msg/")) == []


def test_bad_input_is_a_4xx_with_a_stable_code(api, account, make_user):
    base = account.messages()
    unknown_box = f"/users/{account.id}/mailboxes/{'0' * 24}/messages"
    cases = [
        (upload_raw(api, account, simple_message(), box="0" * 24), 404, "NoSuchMailbox"),
        (api.post(f"/users/{'0' * 24}/mailboxes/{account.inbox}/messages",
                  {"raw": simple_message().decode()}), 404, "UserNotFound"),
        (api.post(base, {"raw": "!!!not base64!!!"}), 400, "InputValidationError"),
        (api.post(base, {"raw": simple_message().decode(), "subject": "x"}), 400,
         "InputValidationError"),
        (api.post(base, {"uploadId": "0" * 24}), 400, "InputValidationError"),
        (api.post(base, {"to": [{"address": "not an address"}]}), 400, "InputValidationError"),
        (api.post(base, {"raw": simple_message().decode(), "date": "yesterday-ish"}), 400,
         "InputValidationError"),
        (api.post(base, {"raw": simple_message().decode(), "bogus": 1}), 400,
         "InputValidationError"),
        (upload_raw(api, account, b""), 400, "InputValidationError"),
        (api.get(f"{base}/abc"), 400, "InputValidationError"),
        (api.get(f"{base}/0"), 400, "InputValidationError"),
        (api.get(f"{base}/99"), 404, "MessageNotFound"),
        (api.get(f"{base}/99/message.eml"), 404, "MessageNotFound"),
        (api.get(unknown_box), 404, "NoSuchMailbox"),
        (api.get(f"{base}?order=sideways"), 400, "InputValidationError"),
        (api.get(f"{base}?next=forged.cursor"), 400, "InputValidationError"),
    ]
    for reply, status, code in cases:
        assert (reply.status, reply.json and reply["code"]) == (status, code), reply

    upload_raw(api, account, simple_message())
    assert api.get(f"{base}/1/attachments/ATT00001").json["code"] == "AttachmentNotFound"
    assert api.get(f"{base}/1/attachments/evil").json["code"] == "InputValidationError"
    other = make_user("other")
    # another account's path with this account's mailbox id finds nothing
    stolen = api.get(f"/users/{other}/mailboxes/{account.inbox}/messages/1")
    assert stolen.status == 404 and stolen["code"] == "MessageNotFound"


def _big_message(attachment: bytes) -> bytes:
    return compose_message(
        from_={"name": "Big", "address": "big@example.com"},
        to=[{"name": "", "address": "mailuser@example.com"}], subject="Ten megabytes",
        text="See attached.",
        attachments=[{"filename": "blob.bin", "contentType": "application/octet-stream",
                      "content": base64.b64encode(attachment).decode()}])


def test_ten_megabyte_attachment_goes_through_a_presigned_upload_and_downloads_by_redirect(
        api, account):
    payload = os.urandom(10 * 1024 * 1024)
    raw = _big_message(payload)
    ticket = api.post(f"/users/{account.id}/uploads")
    assert ticket.status == 200, ticket
    put = requests.put(ticket["url"], data=raw, headers=ticket["headers"])
    assert put.status_code == 200
    reply = api.post(account.messages(), {"uploadId": ticket["id"], "unseen": True})
    assert reply.status == 200, reply
    assert reply["message"]["size"] == len(raw)
    body = read(api, account, 1)
    assert body["attachments"][0]["size"] == len(payload)
    assert body["text"] == "See attached."

    download = api.get(f"{account.messages()}/1/attachments/ATT00001")
    assert download.status == 302
    fetched = requests.get(download.headers["Location"])
    assert fetched.content == payload
    source = api.get(f"{account.messages()}/1/message.eml", headers={"accept": "*/*"})
    assert source.status == 302
    assert requests.get(source.headers["Location"]).content == raw
    # the staging object is gone once the message is stored
    assert list(blobs.list_prefix("upload/")) == []


def test_twenty_five_megabyte_message_is_stored_through_the_service(account):
    raw = _big_message(os.urandom(18 * 1024 * 1024))
    assert len(raw) > 25 * 1024 * 1024 - 1024 * 1024
    stored = service.upload(account.id, account.inbox, NewMessage(raw=raw))
    assert stored.size == len(raw)
    details = message_views.details(service.read(account.id, account.inbox, stored.uid))
    assert details["attachments"][0]["size"] == 18 * 1024 * 1024
    assert service.source(account.id, account.inbox, stored.uid).url
