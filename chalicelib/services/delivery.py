"""Inbound delivery: the serverless counterpart of WildDuck's LMTP maildrop.

One received mail (raw bytes, the envelope sender, the envelope recipients, and a
delivery id that names this mail wherever it is retried: SES's message id, or the local
SMTP listener's queue id) is delivered to each recipient on its own:

1. resolve the address (1 GetItem of its lookup item);
2. read the account's filters partition (1 Query: the filters, the autoreply settings
   and the cached ids of INBOX and Junk) and the user (1 GetItem: disabled?);
3. apply every matching enabled filter (services/filter_match.py);
4. store through `messages.upload`, the upload's own code path and transaction, with
   an idempotency claim derived from (delivery id, recipient) written in that
   transaction: INBOX, the filter's mailbox, Junk for spam, nothing for delete;
5. forward (`outbound.send(..., "forward", ...)`) and POST to http(s) targets, unless
   the message is spam; answer with the autoreply when its rules allow.

A forwarded address (no account behind it) skips 2-4: its item (1 GetItem) says where
the mail goes; it is passed on to its email targets against the address's own daily
`forwards` limit (`outbound.send_for_address`) and POSTed to its http(s) targets.
Suspended (`forwardedDisabled`) is refused like a disabled mailbox, a used-up limit
with a temporary 450 as WildDuck's MX does, spam is accepted and not passed on.

Every side effect is keyed by (delivery id, recipient): a retried delivery finds the
message already stored (the claim), the forward and the autoreply already sent
(outbound's dedupe key), so the same mail delivered three times, or a run killed half
way and retried, ends with one copy and one forward. Permanent refusals (unknown,
disabled, over quota) are recorded and returned as SMTP-like answers, never raised; a
transient failure (a lost race, SES unreachable) is raised after every recipient had
its turn, so the whole delivery is retried and completes what is missing.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from chalicelib import addressing, logs, mail
from chalicelib.addressing import normalize_address
from chalicelib.errors import (AddressNotFound, Conflict, DomainError, NoSuchMailbox,
                               OverQuotaError, SendingLimitReached, SendingUnavailable,
                               UserDisabled, UserNotFound)
from chalicelib.services import addresses, idempotency, messages, outbound, users, webhooks
from chalicelib.services.autoreply import Autoreply
from chalicelib.services.autoreply import from_item as autoreply_of
from chalicelib.services.autoreply import from_map as autoreply_from_map
from chalicelib.services.filter_match import (Actions, MailFacts, autoreply_allowed,
                                              matches, merge)
from chalicelib.services.idempotency import Claim
from chalicelib.services.messages import NewMessage
from chalicelib.store import addresses as address_store
from chalicelib.store import filters as filter_store
from chalicelib.store import blobs, keys
from chalicelib.store.addresses import FORWARDED
from chalicelib.store import mailboxes as mailbox_store
from chalicelib.store.filters import FilterItem

AUTOREPLY_INTERVAL_S = 4 * 3600
SOURCE = "MX"
_TRANSIENT = (Conflict, SendingUnavailable)


@dataclass(frozen=True)
class Outcome:
    """What happened to one recipient, with the answer an SMTP server would give."""

    recipient: str
    status: str  # stored, duplicate, dropped, forwarded, spam, unknown, disabled,
    #              overquota, ratelimited
    code: int
    message: str
    user: str | None = None
    mailbox: str | None = None
    uid: int | None = None

    @property
    def accepted(self) -> bool:
        return self.code < 400


class DeliveryIncomplete(Exception):
    """A transient failure left work undone: deliver the same mail again."""


def _answer(recipient: str, status: str, **fields: Any) -> Outcome:
    code, text = {
        "stored": (250, "2.0.0 Stored"),
        "duplicate": (250, "2.0.0 Already stored"),
        "dropped": (250, "2.0.0 Dropped by filter"),
        "forwarded": (250, "2.0.0 Forwarded"),
        "spam": (250, "2.0.0 Not forwarded: spam"),
        "ratelimited": (450, "4.2.1 Forwarding limit reached, try again later"),
        "unknown": (550, "5.1.1 No such user here"),
        "disabled": (550, "5.2.1 Mailbox disabled"),
        "overquota": (552, "5.2.2 Mailbox full"),
    }[status]
    return Outcome(recipient, status, code, text, **fields)


def deliver(raw: bytes, sender: str | None, recipients: Sequence[str],
            delivery_id: str, spam: bool = False) -> list[Outcome]:
    """Deliver one mail to each recipient (see the module docstring). `spam`: the
    receiving side's verdict, applied unless a filter decides otherwise."""
    parsed = mail.parse_message(raw)
    facts = MailFacts(parsed.headers, parsed.text, parsed.size, parsed.has_attachments)
    outcomes: list[Outcome] = []
    transient: list[Exception] = []
    for recipient in dict.fromkeys(recipients):
        try:
            outcome = _deliver_one(raw, parsed, facts, sender, recipient, delivery_id,
                                   spam, transient)
        except _TRANSIENT as error:
            transient.append(error)
            continue
        logs.info("delivery", deliveryId=delivery_id, recipient=recipient,
                  status=outcome.status, user=outcome.user, mailbox=outcome.mailbox,
                  uid=outcome.uid)
        outcomes.append(outcome)
    if transient:
        logs.warning("delivery incomplete", deliveryId=delivery_id, errors=len(transient))
        raise DeliveryIncomplete(str(transient[0])) from transient[0]
    return outcomes


def recipient_known(address: str) -> bool:
    """Whether an address belongs to an account (the SMTP listener's RCPT check)."""
    try:
        addresses.resolve(address, wildcard=True)
    except (AddressNotFound, ValueError):
        return False
    return True


def _deliver_one(raw: bytes, parsed: Any, facts: MailFacts, sender: str | None,
                 recipient: str, delivery_id: str, spam: bool,
                 transient: list[Exception]) -> Outcome:
    try:
        owner = addresses.resolve(recipient, wildcard=True)
    except (AddressNotFound, ValueError):
        return _answer(recipient, "unknown")
    if owner.user == FORWARDED:
        return _pass_on(raw, parsed, owner, sender, recipient, delivery_id, spam, transient)
    filters, account = filter_store.partition(owner.user)
    try:
        user = users.get(owner.user)
    except UserNotFound:
        return _answer(recipient, "unknown")
    if user.disabled or user.suspended:
        return _answer(recipient, "disabled", user=user.id)
    actions = merge((item.id, filter_store.as_dict(item.action)) for item in filters
                    if not item.disabled and matches(filter_store.as_dict(item.criteria), facts))
    if actions.spam is None:
        actions.spam = spam
    scope = f"{delivery_id}\0{normalize_address(recipient)}"
    try:
        outcome = _store(raw, user.id, recipient, account, actions, scope)
    except OverQuotaError:
        return _answer(recipient, "overquota", user=user.id)
    if not actions.spam:  # spam is neither passed on nor answered
        _forward(raw, user.id, owner.address, actions, scope, transient)
        _autoreply(user.id, autoreply_of(account), user.name or "", owner.address, sender,
                   parsed, scope, transient,
                   lambda reply, key: outbound.send(user.id, reply, owner.address,
                                                    [str(sender)], "autoreply", key))
    return outcome


def _pass_on(raw: bytes, parsed: Any, owner: addresses.Owner, sender: str | None,
             recipient: str, delivery_id: str, spam: bool,
             transient: list[Exception]) -> Outcome:
    """Mail to a forwarded address: to its targets (and its autoreply to the sender),
    or an answer saying why not."""
    item = address_store.get(FORWARDED, owner.id)
    if item is None:
        return _answer(recipient, "unknown")
    if item.forwardedDisabled:
        return _answer(recipient, "disabled")
    if spam:
        return _answer(recipient, "spam")
    targets = [{"type": addressing.target_type(value), "value": value}
               for value in item.targets or []]
    mail_targets = [t["value"] for t in targets if t["type"] == "mail"]
    scope = f"{delivery_id}\0{normalize_address(recipient)}"
    if mail_targets:
        try:
            outbound.send_for_address(item.id, raw, owner.address, mail_targets, "forward",
                                      f"{scope}\0forward")
        except SendingLimitReached:
            return _answer(recipient, "ratelimited")
        except AddressNotFound:  # deleted since the read
            return _answer(recipient, "unknown")
        except UserDisabled:  # suspended since the read
            return _answer(recipient, "disabled")
        except _TRANSIENT:
            raise  # deliver() keeps it: the whole delivery is retried
        except DomainError as error:
            logs.warning("forward not sent", address=item.id, code=error.code)
    _other_targets(FORWARDED, targets, raw)
    _autoreply(f"{FORWARDED}/{item.id}", autoreply_from_map(item.autoreply), "", owner.address,
               sender, parsed, scope, transient,
               lambda reply, key: outbound.send_for_address(
                   item.id, reply, owner.address, [str(sender)], "autoreply", key))
    return _answer(recipient, "forwarded")


def _claim(user_id: str, scope: str) -> Claim:
    digest = hashlib.sha256(f"deliver\0{user_id}\0{scope}".encode()).hexdigest()
    return Claim(keys.idempotency_key(digest), "delivery")


def _store(raw: bytes, user_id: str, recipient: str, account: FilterItem | None,
           actions: Actions, scope: str) -> Outcome:
    if actions.delete:
        return _answer(recipient, "dropped", user=user_id)
    boxes = _special_mailboxes(user_id, account)
    target = boxes["junk"] if actions.spam and boxes.get("junk") else \
        actions.mailbox or boxes["inbox"]
    message = NewMessage(raw=raw, seen=bool(actions.seen), flagged=bool(actions.flag),
                         source=SOURCE)
    try:
        try:
            stored = messages.upload(user_id, target, message, once=_claim(user_id, scope))
        except NoSuchMailbox:
            if target == boxes["inbox"]:
                raise
            # The filter's mailbox was deleted since (its filters go with it, but a
            # delivery may have read them first): deliver to INBOX, as WildDuck does.
            target = boxes["inbox"]
            stored = messages.upload(user_id, target, message, once=_claim(user_id, scope))
    except idempotency.Replayed:
        return _answer(recipient, "duplicate", user=user_id, mailbox=target)
    return _answer(recipient, "stored", user=user_id, mailbox=stored.mailbox, uid=stored.uid)


def _special_mailboxes(user_id: str, account: FilterItem | None) -> dict[str, str]:
    """INBOX's and Junk's ids: kept on the account item after the first delivery looked
    them up (1 Query of the mailboxes, that once). INBOX can be neither renamed away nor
    deleted, Junk not deleted, so the ids stay true."""
    cached = filter_store.as_dict(account.mailboxes) if account is not None else {}
    if cached.get("inbox"):
        return cached
    found: dict[str, str] = {}
    for box in mailbox_store.list_for_user(user_id):
        if box.path == "INBOX":
            found["inbox"] = box.id
        elif box.specialUse == "\\Junk":
            found["junk"] = box.id
    if "inbox" not in found:
        raise UserNotFound()
    filter_store.remember_mailboxes(user_id, found)
    return found


def _forward(raw: bytes, user_id: str, address: str, actions: Actions, scope: str,
             transient: list[Exception]) -> None:
    """Forward to address targets through SES (relays cannot be chosen through SES and
    are skipped, logged), and POST to http(s) targets. A limit reached or a refused
    target is logged; a transient SES failure is kept so the delivery is retried."""
    mail_targets = [t["value"] for t in actions.targets if t.get("type") == "mail"]
    if mail_targets:
        try:
            outbound.send(user_id, raw, address, mail_targets, "forward", f"{scope}\0forward")
        except _TRANSIENT as error:
            transient.append(error)
        except DomainError as error:
            logs.warning("forward not sent", user=user_id, code=error.code)
    _other_targets(user_id, actions.targets, raw)


def _other_targets(owner: str, targets: list[dict[str, str]], raw: bytes) -> None:
    """POST to http(s) targets; relay targets are skipped (SES chooses the MX)."""
    for target in targets:
        if target.get("type") == "relay":
            logs.warning("relay target skipped (SES chooses the MX)", user=owner)
        elif target.get("type") == "http":
            _post(owner, target["value"], raw)


def _post(user_id: str, url: str, raw: bytes) -> None:
    try:
        status = webhooks.post(url, raw)
    except (webhooks.TargetRefused, OSError) as error:
        logs.warning("http target not reached", user=user_id, error=str(error)[:200])
        return
    logs.info("http target posted", user=user_id, status=status)


def _autoreply(owner: str, settings: Autoreply, fallback_name: str, address: str,
               sender: str | None, parsed: Any, scope: str, transient: list[Exception],
               send: Callable[[bytes, str], Any]) -> None:
    """Answer `sender` once per 4 hours per `owner` (an account, or a forwarded address)
    when the settings are active and the mail is not automated; `send(reply, key)`
    sends on the owner's behalf."""
    now = time.time()
    if not settings.active(int(now * 1000)):
        return
    if not sender or not autoreply_allowed(sender, address, parsed.headers):
        return
    digest = hashlib.sha256(normalize_address(sender).encode()).hexdigest()
    if not keys.claim_window(keys.autoreply_key(owner, digest), scope, int(now),
                             AUTOREPLY_INTERVAL_S):
        return  # answered within the last 4 hours
    reply = mail.autoreply_message(
        sender=sender, recipient=address, name=settings.name or fallback_name,
        subject=settings.subject, text=settings.text, html=settings.html,
        original_subject=parsed.subject, message_id=parsed.message_id,
        references=list(parsed.references))
    try:
        send(reply, f"{scope}\0autoreply")
    except _TRANSIENT as error:
        transient.append(error)
    except DomainError as error:
        logs.warning("autoreply not sent", owner=owner, code=error.code)


# --------------------------------------------------------------------------- SES


def from_ses(event: dict[str, Any]) -> dict[str, Any]:
    """An SES receipt rule's Lambda action (after its S3 action stored the mail under
    the inbound prefix, named by SES's message id): deliver each record's mail to its
    recipients. Answers SES's disposition (read only by a RequestResponse invocation):
    STOP_RULE_SET once the mail is handled. Unknown, disabled and over-quota recipients
    are dropped and recorded: SES accepted the mail before this runs, so a bounce now
    would be backscatter to a sender that may be forged."""
    outcomes: list[Outcome] = []
    for record in event.get("Records") or []:
        ses = record.get("ses") or {}
        message = ses.get("mail") or {}
        receipt = ses.get("receipt") or {}
        message_id = str(message["messageId"])
        verdicts = [(receipt.get(name) or {}).get("status") for name in
                    ("spamVerdict", "virusVerdict")]
        raw = blobs.get(blobs.inbound_key(message_id))
        outcomes += deliver(raw, message.get("source"), list(receipt.get("recipients") or []),
                            message_id, spam="FAIL" in verdicts)
    return {"disposition": "STOP_RULE_SET",
            "recipients": [{"recipient": o.recipient, "status": o.status,
                            "response": f"{o.code} {o.message}"} for o in outcomes]}
