"""Sending mail from an account, as WildDuck's submission API does.

Two ways in: a message composed from fields (`POST /users/{user}/submit`, optionally
replying to or forwarding a stored message, or replacing a stored draft), and a stored
draft sent as it is (`POST .../messages/{message}/submit`). Either way the mail goes
out through `outbound.send` (limits, once per key) and the account keeps a copy: a
composed message is stored in Sent (Drafts with `isDraft`, or the given mailbox) by the
upload code path, a sent draft is moved to Sent.

Order: send first, then store, as WildDuck does. A retry with the same dedupe key
(the request's Idempotency-Key, or the draft's own id) does not send again, so a
request that died between the two is finished by its retry.

Where we differ from WildDuck on purpose: a `from` (or envelope sender) that is not
one of the account's addresses is refused (400) rather than silently replaced by the
main address, so a client never believes it sent as someone it did not; and a
`sendTime` in the future is refused, as nothing here can hold mail until then.
"""
from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any, Sequence

from chalicelib import mail
from chalicelib.addressing import normalize_address
from chalicelib.clock import now_ms
from chalicelib.errors import (InputValidationError, MessageNotDraft, MessageNotFound,
                               NoSuchMailbox, OverQuotaError, UserDisabled)
from chalicelib.services import archive, idempotency, message_updates, messages, outbound, users
from chalicelib.services.messages import NewMessage
from chalicelib.store import addresses as address_store
from chalicelib.store import blobs, transact
from chalicelib.store import mailboxes as mailbox_store
from chalicelib.store.messages import DRAFT
from chalicelib.store.users import UserItem

if TYPE_CHECKING:
    from chalicelib.schemas.submit import ForwardStored, SubmitDraft, SubmitMessage

# A sendTime this far ahead is still "now" (clocks of client and server differ).
SEND_TIME_SLACK_MS = 60_000
MAX_REFERENCES = 50


@dataclass(frozen=True)
class Submitted:
    """What a submission answers: the stored copy (None when over quota) and the id
    SES gave the mail (None when nothing was sent: no recipients, or uploadOnly)."""

    uid: int | None
    mailbox: str | None
    size: int
    queue_id: str | None


# ---------------------------------------------------------------- composed submission

def submit(params: SubmitMessage, claim: idempotency.Claim | None) -> Submitted:
    """Compose, send (unless uploadOnly or no recipients), store the copy."""
    user = _sender(params.user)
    reply = _referenced(params, user) if params.reference else None
    header_from = params.from_ or {"name": user.name or "", "address": user.address or ""}
    envelope_from = (params.envelope.from_ if params.envelope and params.envelope.from_
                     else header_from)
    if not params.uploadOnly:
        _check_own(user, [("from", header_from)] + (
            [("envelope.from", envelope_from)] if envelope_from is not header_from else []))
    to, cc = params.to, params.cc
    recipients = [a["address"] for a in params.envelope.to] if params.envelope and \
        params.envelope.to else [a["address"] for a in (to or []) + (cc or []) + (params.bcc or [])]
    if not recipients and reply is not None and params.reference and \
            params.reference.action in ("reply", "replyAll"):
        to, cc = reply.to, reply.cc
        recipients = [a["address"] for a in to + cc]
    send_at = _send_time(params.sendTime)
    dedupe_key = claim.key if claim else str(uuid.uuid4())
    raw = messages.composed({
        "from_": header_from, "to": to, "cc": cc, "bcc": params.bcc,
        "reply_to": params.replyTo, "subject": params.subject or (reply.subject if reply else ""),
        "text": _text(params.text, params.html), "html": params.html,
        "attachments": [a.model_dump(exclude_none=True) for a in params.attachments or []],
        "headers": _reference_headers(reply, params) + [h.model_dump() for h in params.headers or []]
        + [{"key": "Message-ID", "value": _message_id(dedupe_key, envelope_from["address"])}],
        "date": datetime.fromtimestamp(send_at / 1000, timezone.utc),
    })
    queue_id = None
    if recipients and not params.uploadOnly:
        queue_id = outbound.send(user.id, _outgoing(raw), envelope_from["address"], recipients,
                                 "submit", dedupe_key).message_id
    mailbox = params.mailbox or _special_mailbox(user.id, "\\Drafts" if params.isDraft
                                                 else "\\Sent")
    try:
        stored = messages.upload(user.id, mailbox, NewMessage(
            raw=raw, seen=True, draft=params.isDraft), once=claim,
            recorded={"queueId": queue_id or ""})
    except OverQuotaError:
        if queue_id is None:
            raise
        return Submitted(None, None, len(raw), queue_id)  # sent, but no room for the copy
    if params.draft is not None:
        _discard_draft(user.id, params.draft.mailbox, params.draft.id)
    return Submitted(stored.uid, stored.mailbox, stored.size, queue_id)


@dataclass(frozen=True)
class _Reply:
    subject: str
    to: list[dict[str, str]]
    cc: list[dict[str, str]]
    in_reply_to: str | None
    references: list[str]


def _referenced(params: SubmitMessage, user: UserItem) -> _Reply:
    """What a reply or forward takes from the referenced message (WildDuck's rules:
    Re:/Fwd: unless the subject already has a prefix; reply to Reply-To, else From;
    replyAll adds To and Cc; the account's own address is left out; references
    carry the original's Message-ID first, at most 50)."""
    assert params.reference is not None
    item = messages.owned(params.user, params.reference.mailbox, params.reference.id)
    parsed = mail.parse_message(blobs.get(blobs.raw_key(item.user, int(item.idate), item.msgid)))
    subject = (parsed.subject or "").strip()
    action = params.reference.action
    if not _has_prefix(subject):
        subject = f"{'Fwd' if action == 'forward' else 'Re'}: {subject}".strip()
    seen = {_normal(user.address or "")}

    def pick(values: Sequence[Any]) -> list[dict[str, str]]:
        chosen = []
        for value in values:
            key = _normal(value["address"])
            if key not in seen:
                seen.add(key)
                chosen.append({"name": value.get("name") or "", "address": value["address"]})
        return chosen

    sender = parsed.reply_to[:1] or ([parsed.from_] if parsed.from_ else [])
    to = pick(sender)
    cc: list[dict[str, str]] = []
    if action == "replyAll":
        to += pick(parsed.to)
        cc = pick(parsed.cc)
    references = list(parsed.references)
    if parsed.message_id and parsed.message_id not in references:
        references.insert(0, parsed.message_id)
    return _Reply(subject, to, cc, parsed.message_id, references[:MAX_REFERENCES])


def _has_prefix(subject: str) -> bool:
    word, colon, rest = subject.partition(": ")
    return bool(colon) and word.replace("_", "").isalnum()


def _reference_headers(reply: _Reply | None, params: SubmitMessage) -> list[dict[str, str]]:
    if reply is None or params.reference is None:
        return []
    headers = []
    if params.reference.action in ("reply", "replyAll") and reply.in_reply_to:
        headers.append({"key": "In-Reply-To", "value": reply.in_reply_to})
    if reply.references:
        headers.append({"key": "References", "value": " ".join(reply.references)})
    return headers


def _text(text: str | None, html: str | None) -> str | None:
    """Like WildDuck, an HTML-only message gets a plain text part made from the HTML."""
    if html and not text:
        from chalicelib.mail.parse import html_to_text
        return html_to_text(html)
    return text


def _message_id(dedupe_key: str, sender: str) -> str:
    """A Message-ID derived from the dedupe key: a retried request composes the same id
    for the copy it stores as the mail that went out the first time."""
    domain = sender.rpartition("@")[2] or "localhost"
    return f"<{hashlib.sha256(dedupe_key.encode()).hexdigest()[:32]}@{domain}>"


def _discard_draft(user_id: str, mailbox_id: str, uid: int) -> None:
    """The draft a composed message replaces goes to the archive, if it is still there."""
    try:
        archive.delete(user_id, mailbox_id, uid)
    except (MessageNotFound, NoSuchMailbox):
        pass


# ------------------------------------------------------------------- a stored draft

def submit_draft(params: SubmitDraft, claim: idempotency.Claim | None) -> Submitted:
    """Send a stored draft as it is (with a fresh Date), then move it to Sent as seen."""
    user = _sender(params.user)
    item = messages.owned(user.id, params.mailbox, params.message)
    if DRAFT not in (item.flags or []):
        raise MessageNotDraft()
    send_at = _send_time(params.sendTime)
    raw = blobs.get(blobs.raw_key(item.user, int(item.idate), item.msgid))
    raw = mail.with_header(raw, "Date", format_datetime(
        datetime.fromtimestamp(send_at / 1000, timezone.utc)))
    parsed = mail.parse_message(raw)
    sender = parsed.from_ or {"name": user.name or "", "address": user.address or ""}
    _check_own(user, [("from", sender)])
    recipients = [a["address"] for a in parsed.to + parsed.cc + parsed.bcc]
    if not recipients:
        return Submitted(None, None, int(item.size), None)
    # The draft's msgid names this send: submitting it again never sends it twice.
    dedupe_key = claim.key if claim else f"draft:{item.msgid}"
    sent = outbound.send(user.id, _outgoing(raw), sender["address"], recipients, "submit",
                         dedupe_key)
    target = _special_mailbox(user.id, "\\Sent")
    changes = message_updates.Changes(seen=True, draft=False)
    if target == params.mailbox:
        message_updates.update(user.id, params.mailbox, str(item.uid), changes)
        return Submitted(int(item.uid), target, int(item.size), sent.message_id)
    [(_, uid)] = message_updates.move(user.id, params.mailbox, str(item.uid), target, changes)
    return Submitted(uid, target, int(item.size), sent.message_id)


@dataclass(frozen=True)
class Forwarded:
    queue_id: str | None  # SES's message id; None when there was nobody to send to
    recipients: tuple[str, ...]


def forward_stored(params: ForwardStored, claim: idempotency.Claim | None) -> Forwarded:
    """Send a stored message on, as it is, from the account's address to `addresses`,
    counted against the account's daily `forwards` limit like a filter's forward. Each
    call sends (WildDuck's behaviour) unless it repeats an Idempotency-Key."""
    user = _sender(params.user)
    item = messages.owned(user.id, params.mailbox, params.message)
    recipients = list(dict.fromkeys(params.addresses or []))
    if not recipients:
        return Forwarded(None, ())
    if not user.address:
        raise InputValidationError({"user": "The account has no address to send from"})
    raw = blobs.get(blobs.raw_key(item.user, int(item.idate), item.msgid))
    dedupe_key = claim.key if claim else f"forward-stored:{item.msgid}:{uuid.uuid4()}"
    sent = outbound.send(user.id, _outgoing(raw), user.address, recipients, "forward",
                         dedupe_key)
    return Forwarded(sent.message_id, sent.recipients)


# ------------------------------------------------------------------------- shared

def remember(claim: idempotency.Claim | None, result: dict[str, Any]) -> None:
    """Record a result whose write could not carry the Idempotency-Key record (a
    draft's move, a copy refused for quota): written right after it, so a crash in
    between answers the retry from the state left (sent once, thanks to outbound)."""
    if claim is None:
        return
    try:
        transact.run(lambda tx: idempotency.record(tx, claim, result),
                     errors={"idempotency": idempotency.Replayed})
    except idempotency.Replayed:
        pass  # a concurrent twin recorded it first


def _sender(user_id: str) -> UserItem:
    user = users.get(user_id)
    if user.disabled or user.suspended:
        raise UserDisabled()
    return user


def _check_own(user: UserItem, given: list[tuple[str, dict[str, str]]]) -> None:
    """Every sender address must be one of the account's addresses (1 Query)."""
    wanted = {field: _normal(value.get("address") or "") for field, value in given}
    if all(address == _normal(user.address or "") for address in wanted.values()):
        return  # the main address: no need to read the others
    owned = {_normal(item.address) for item in address_store.list_for_user(user.id)}
    owned.add(_normal(user.address or ""))
    refused = {field: f'"{field}" must be one of the addresses of this user'
               for field, address in wanted.items() if address not in owned}
    if refused:
        raise InputValidationError(refused)


def _normal(address: str) -> str:
    try:
        return normalize_address(address)
    except ValueError:
        return address.lower()


def _send_time(send_time: int | None) -> int:
    now = now_ms()
    if send_time is not None and send_time > now + SEND_TIME_SLACK_MS:
        raise InputValidationError({"sendTime": "Scheduled sending is not supported: leave "
                                                "sendTime out, or give a time not in the future"})
    return now


def _special_mailbox(user_id: str, special_use: str) -> str:
    """The account's mailbox with this special use (INBOX if it has none): 1 Query."""
    boxes = mailbox_store.list_for_user(user_id)
    chosen = next((box for box in boxes if box.specialUse == special_use), None) or \
        next((box for box in boxes if box.path == "INBOX"), None)
    if chosen is None:
        raise NoSuchMailbox()
    return str(chosen.id)


def _outgoing(raw: bytes) -> bytes:
    """The bytes that leave: Bcc recipients are in the envelope, never in the header."""
    return mail.without_headers(raw, {"bcc"})
