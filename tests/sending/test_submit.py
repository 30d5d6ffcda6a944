"""POST /users/{user}/submit and POST .../messages/{message}/submit, through HTTP."""
from __future__ import annotations

import time

from tests.support import sent_mail, simple_message, upload_raw

ALICE = {"name": "Alice", "address": "alice@other.test"}


def submit(api, account, headers=None, **fields):
    body = {"to": [ALICE], "subject": "Hi", "text": "Hello Alice", **fields}
    return api.post(f"/users/{account.id}/submit", body, headers=headers)


def listing(api, account, box):
    return api.get(account.messages(account.boxes[box]))["results"]


def test_submit_sends_through_ses_and_stores_the_copy_in_sent(api, account):
    reply = submit(api, account, cc=[{"address": "carol@other.test"}],
                   bcc=[{"address": "hidden@other.test"}])
    assert reply.status == 200, reply
    message = reply["message"]
    assert message["mailbox"] == account.boxes["Sent Mail"] and message["id"] == 1
    [mail] = sent_mail()
    assert mail["id"] == message["queueId"]
    assert mail["source"] == "mailuser@example.com" and mail["subject"] == "Hi"
    assert mail["from"] == "mailuser@example.com" and mail["to"] == "Alice <alice@other.test>"
    assert "hidden@other.test" in mail["destinations"]
    assert "Bcc" not in mail["raw"].split("\r\n\r\n")[0]  # only the envelope knows it
    [copy] = listing(api, account, "Sent Mail")
    assert copy["subject"] == "Hi" and copy["seen"] is True
    stored = api.get(account.messages(account.boxes["Sent Mail"]) + "/1")
    assert stored["bcc"] == [{"name": "", "address": "hidden@other.test"}]
    assert api.get(f"/users/{account.id}")["limits"]["recipients"]["used"] == 3


def test_from_that_is_not_the_users_is_refused(api, account):
    reply = submit(api, account, **{"from": {"address": "boss@example.com"}})
    assert reply.status == 400 and reply["code"] == "InputValidationError"
    assert set(reply["details"]) == {"from"}
    assert sent_mail() == [] and listing(api, account, "Sent Mail") == []
    envelope = submit(api, account, envelope={"from": {"address": "boss@example.com"}})
    assert envelope.status == 400 and set(envelope["details"]) == {"envelope.from"}


def test_from_may_be_any_address_of_the_user(api, account):
    alias = api.post(f"/users/{account.id}/addresses", {"address": "alias@example.com"})
    assert alias.status == 200, alias
    reply = submit(api, account, **{"from": {"name": "Me", "address": "Alias@example.com"}})
    assert reply.status == 200, reply
    assert sent_mail()[0]["from"] == "Me <Alias@example.com>"


def test_recipients_limit_refuses_once_used_up(api, account):
    assert api.put(f"/users/{account.id}", {"recipients": 2}).status == 200
    assert submit(api, account, cc=[{"address": "b@other.test"}]).status == 200
    refused = submit(api, account)
    assert refused.status == 403 and refused["code"] == "RateLimitedError"
    assert refused["error"].startswith("You reached a daily sending limit for your account")
    assert refused.headers["Retry-After"] == str(refused["retryAfter"])
    assert len(sent_mail()) == 1 and len(listing(api, account, "Sent Mail")) == 1
    limits = api.get(f"/users/{account.id}")["limits"]["recipients"]
    assert limits["used"] == 2 and limits["allowed"] == 2 and limits["ttl"] > 0


def test_same_idempotency_key_sends_and_stores_once(api, account):
    key = {"Idempotency-Key": "submit-1"}
    first = submit(api, account, headers=key)
    again = submit(api, account, headers=key)
    assert first.status == again.status == 200
    assert again["message"] == first["message"]
    assert len(sent_mail()) == 1 and len(listing(api, account, "Sent Mail")) == 1
    assert api.get(f"/users/{account.id}")["limits"]["recipients"]["used"] == 1


def test_retry_after_a_crash_between_send_and_store_sends_once(api, account, monkeypatch):
    from chalicelib.services import messages

    def crash(*args, **kwargs):
        raise RuntimeError("killed after sending")

    monkeypatch.setattr(messages, "upload", crash)
    key = {"Idempotency-Key": "submit-crash"}
    assert submit(api, account, headers=key).status == 500
    monkeypatch.undo()
    reply = submit(api, account, headers=key)
    assert reply.status == 200, reply
    [mail] = sent_mail()
    assert reply["message"]["queueId"] == mail["id"]
    [copy] = listing(api, account, "Sent Mail")
    stored = api.get(account.messages(account.boxes["Sent Mail"]) + f"/{copy['id']}")
    assert f"Message-ID: {stored['messageId']}" in mail["raw"]  # the copy is the mail sent


def test_upload_only_draft_then_send_it_from_drafts(api, account):
    draft = submit(api, account, isDraft=True, uploadOnly=True,
                   bcc=[{"address": "hidden@other.test"}])
    assert draft.status == 200 and draft["message"]["queueId"] is False
    assert draft["message"]["mailbox"] == account.boxes["Drafts"] and sent_mail() == []
    uid = draft["message"]["id"]
    path = account.messages(account.boxes["Drafts"]) + f"/{uid}/submit"
    reply = api.post(path, {})
    assert reply.status == 200, reply
    [mail] = sent_mail()
    assert reply["queueId"] == mail["id"] and mail["subject"] == "Hi"
    assert "hidden@other.test" in mail["destinations"] and "Bcc:" not in mail["raw"]
    assert reply["message"]["mailbox"] == account.boxes["Sent Mail"]
    assert listing(api, account, "Drafts") == []
    [sent] = listing(api, account, "Sent Mail")
    assert sent["seen"] is True and sent["draft"] is False
    again = api.post(path, {})  # the draft is gone
    assert again.status == 404 and again["code"] == "MessageNotFound"
    assert len(sent_mail()) == 1


def test_only_drafts_can_be_submitted(api, account):
    uid = upload_raw(api, account, simple_message())["message"]["id"]
    reply = api.post(account.messages() + f"/{uid}/submit", {})
    assert reply.status == 400 and reply["code"] == "MessageNotDraft"


def test_submit_replacing_a_draft_deletes_it(api, account):
    draft = submit(api, account, isDraft=True, uploadOnly=True)["message"]
    reply = submit(api, account, draft={"mailbox": draft["mailbox"], "id": draft["id"]})
    assert reply.status == 200, reply
    assert listing(api, account, "Drafts") == [] and len(sent_mail()) == 1


def test_reply_takes_recipients_subject_and_threading_from_the_reference(api, account):
    original = simple_message("Lunch?", message_id="<lunch-1@example.net>")
    uid = upload_raw(api, account, original)["message"]["id"]
    reply = api.post(f"/users/{account.id}/submit", {
        "reference": {"mailbox": account.inbox, "id": uid, "action": "reply"},
        "text": "Yes"})
    assert reply.status == 200, reply
    [mail] = sent_mail()
    assert mail["subject"] == "Re: Lunch?" and mail["to"] == "Sender <sender@example.com>"
    assert "In-Reply-To: <lunch-1@example.net>" in mail["raw"]
    assert "References: <lunch-1@example.net>" in mail["raw"]


def test_future_send_time_is_refused_clearly(api, account):
    later = int(time.time() * 1000) + 3600_000
    reply = submit(api, account, sendTime=later)
    assert reply.status == 400 and "sendTime" in reply["details"]
    assert "Scheduled sending is not supported" in reply["error"]


def test_disabled_account_cannot_send(api, account):
    assert api.put(f"/users/{account.id}", {"disabled": True}).status == 200
    reply = submit(api, account)
    assert reply.status == 403 and reply["code"] == "UserDisabled"
    assert sent_mail() == []
