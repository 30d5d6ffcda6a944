"""The one place mail leaves the system: SES SendRawEmail, counted and sent once.

Submitted mail, filter forwards and autoreplies all go through `send`. It does three
things no caller should do by itself:

- **Daily limits, as WildDuck counts them.** `submit` counts every envelope recipient
  against the account's `recipients` limit, `forward` counts every forward target
  against `forwards`, `autoreply` counts against neither. A window of 24 hours opens
  with the first count. Like WildDuck's counter, a send is refused only when the window
  is already used up (`used >= allowed`), so the send that crosses the limit still goes
  and the next one is refused (403 `RateLimitedError`, `retryAfter` = the seconds
  until the window closes). The counters live on the user item (`recipientsSent`,
  `recipientsReset`, ...), so `GET /users/{user}` reports them without another read,
  and they change in the same transaction as the send's record: a refused or
  duplicate send never counts, two concurrent sends never lose a count. Mail to a
  forwarded address (`send_for_address`) belongs to no account: it counts against
  that address's own `forwards` limit, on the address item, the same way.
- **Once per `dedupe_key`.** The first call records the send (`keys` item
  `send#<sha256(user, key)>`, state `pending` with a lease) together with the counter;
  after SES accepts it the record turns `sent` with SES's message id. A later call
  with the same key answers that result with `duplicate=True` and sends nothing.
- **At-least-once on a crash.** A call that dies between its record and SES's answer
  leaves a `pending` record whose lease runs out after `LEASE_S`; the next call with
  that key takes the record over and sends (without counting again). If the crash
  happened after SES accepted the mail, it is sent twice; at-most-once would instead
  lose every mail whose sender died before reaching SES, and a lost mail is the worse
  failure for a mail system (a recipient can discard a duplicate, nobody can recover a
  mail that never left). While the lease is live a second call answers 409
  `ConcurrentUpdate` (the first may still be talking to SES), and the caller retries.

SES refusing the message outright (`MessageRejected` and the like) means nothing was
sent: the record is removed and the count given back, so a corrected retry starts
clean. Any other failure (throttling past botocore's retries, a timeout) leaves the
record pending with its lease released, so a retry sends at once. Past 50 recipients
the mail goes in several calls; if a later call fails, the record is marked sent with
the ids of the calls that went (those recipients must not get it twice) and the error
is raised: the remaining recipients are not retried.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, Sequence

from pynamodb.attributes import NumberAttribute
from pynamodb.expressions.operand import Path

from chalicelib.addressing import normalize_address
from chalicelib.config import settings
from chalicelib.errors import (AddressNotFound, Conflict, InputValidationError,
                               MessageRejected, SendingLimitReached, SendingUnavailable,
                               UserDisabled, UserNotFound)
from chalicelib.store.base import as_dict
from chalicelib.store import keys, transact
from chalicelib.store.addresses import FORWARDED, AddressItem
from chalicelib.store.keys import KeyItem
from chalicelib.store.transact import Transaction
from chalicelib.store.users import UserItem

Purpose = Literal["submit", "forward", "autoreply"]

WINDOW_S = 24 * 3600  # WildDuck's sending windows
LEASE_S = 60  # longer than one SES call with its retries (see _ses)
RECORD_TTL_S = 7 * 24 * 3600  # outlives SES's and Lambda's retries of an inbound mail
SES_MAX_DESTINATIONS = 50  # per SendRawEmail call
# SES error codes that say "this message will not be sent": nothing left SES.
_REJECTIONS = {"MessageRejected", "MailFromDomainNotVerifiedException",
               "InvalidParameterValue", "ConfigurationSetDoesNotExistException",
               "AccountSendingPausedException", "ConfigurationSetSendingPausedException"}


@dataclass(frozen=True)
class Sent:
    message_id: str
    recipients: tuple[str, ...]
    duplicate: bool


@dataclass(frozen=True)
class LimitUsage:
    allowed: int
    used: int
    ttl: int | None  # seconds until the window closes; None: no open window


@dataclass(frozen=True)
class _Counter:
    name: str  # the holder's limit attribute: recipients / forwards
    sent: NumberAttribute
    reset: NumberAttribute


Holder = UserItem | AddressItem  # an account, or a forwarded address


@dataclass(frozen=True)
class _Sender:
    """Whose limits a send counts against, and how that holder is checked."""

    item: Holder  # its key only: the counter updates are addressed to it
    scope: str  # names it in dedupe digests and send records
    exists: Any  # the condition "it still exists", on every counter update
    counters: dict[str, _Counter]  # purpose -> counter; a purpose not here is not counted


_ACCOUNT_COUNTERS = {
    "submit": _Counter("recipients", UserItem.recipientsSent, UserItem.recipientsReset),
    "forward": _Counter("forwards", UserItem.forwardsSent, UserItem.forwardsReset),
}
_FORWARDED_COUNTERS = {
    "forward": _Counter("forwards", AddressItem.forwardsSent, AddressItem.forwardsReset),
}


def send(user_id: str, raw: bytes, envelope_from: str, recipients: Sequence[str],
         purpose: Purpose, dedupe_key: str) -> Sent:
    """Send `raw` from `envelope_from` to `recipients` once per (user, `dedupe_key`).

    Raises UserNotFound, UserDisabled, SendingLimitReached (nothing counted),
    MessageRejected (nothing sent nor counted), SendingUnavailable (retry with the same
    key), Conflict (a call with this key is sending right now: retry later).
    """
    if purpose not in ("submit", "forward", "autoreply"):
        raise ValueError(f"unknown purpose {purpose!r}")
    sender = _Sender(UserItem(id=user_id), user_id, UserItem.kind.exists(), _ACCOUNT_COUNTERS)
    return _send(sender, raw, envelope_from, recipients, purpose, dedupe_key)


def send_for_address(address_id: str, raw: bytes, envelope_from: str,
                     recipients: Sequence[str], purpose: Literal["forward", "autoreply"],
                     dedupe_key: str) -> Sent:
    """Send on behalf of a forwarded address (it has no account): mail passed on to its
    targets counts against the address's own daily `forwards` limit, its autoreply
    against nothing. Once per (address, `dedupe_key`).

    Raises AddressNotFound, UserDisabled (forwarding suspended), and what `send` raises.
    """
    sender = _Sender(AddressItem(user=FORWARDED, id=address_id), f"{FORWARDED}/{address_id}",
                     AddressItem.addrview.exists(), _FORWARDED_COUNTERS)
    return _send(sender, raw, envelope_from, recipients, purpose, dedupe_key)


def usage(holder: Holder, limit: Literal["recipients", "forwards"], now: int) -> LimitUsage:
    """What `GET /users/{user}` (or a forwarded address) reports for one limit."""
    counters = _FORWARDED_COUNTERS if isinstance(holder, AddressItem) else _ACCOUNT_COUNTERS
    counter = next(c for c in counters.values() if c.name == limit)
    reset = getattr(holder, counter.reset.attr_name)
    live = bool(reset) and reset > now
    return LimitUsage(allowed=_allowed(holder, counter),
                      used=int(getattr(holder, counter.sent.attr_name) or 0) if live else 0,
                      ttl=int(reset - now) if live else None)


def _send(sender: _Sender, raw: bytes, envelope_from: str, recipients: Sequence[str],
          purpose: Purpose, dedupe_key: str) -> Sent:
    targets = _unique(recipients)
    if not targets:
        raise InputValidationError({"recipients": "At least one recipient is required"})
    digest = hashlib.sha256(f"{sender.scope}\0{dedupe_key}".encode()).hexdigest()
    key = keys.outbound_key(digest)
    outcome = transact.run(lambda tx: _reserve(tx, key, sender, targets, purpose))
    if isinstance(outcome, Sent):
        return outcome
    return _deliver(key, sender, raw, envelope_from, outcome)


@dataclass(frozen=True)
class _Reserved:
    recipients: tuple[str, ...]
    purpose: Purpose
    count: int  # what the reservation added to the counter (given back on a rejection)
    window: int | None  # the counter's window end it counted in


def _reserve(tx: Transaction, key: str, sender: _Sender, targets: tuple[str, ...],
             purpose: Purpose) -> Sent | _Reserved:
    """One attempt: a duplicate's result, or the record (+ count) added to `tx`."""
    now = int(time.time())
    record, holder = keys.item_and(key, sender.item)
    _check(sender, holder)
    if record is not None and record.expires > now:
        data = as_dict(record.data)
        if data.get("state") == "sent":
            return Sent(str(data["messageId"]), tuple(data.get("recipients") or targets), True)
        if int(data.get("lease") or 0) > now:
            raise Conflict("This message is being sent by another request; retry shortly")
        # A crashed attempt: take its record over; it was counted when it was made.
        tx.update(KeyItem(key=key), actions=[KeyItem.data["lease"].set(now + LEASE_S)],
                  condition=KeyItem.data["lease"] == data.get("lease"), label="takeover")
        return _Reserved(tuple(data.get("recipients") or targets), purpose,
                         int(data.get("count") or 0), int(data.get("window") or 0) or None)
    window = _count(tx, sender, holder, purpose, len(targets), now)
    tx.save(KeyItem(key=key, user=sender.scope, expires=now + RECORD_TTL_S,
                    data={"state": "pending", "lease": now + LEASE_S, "purpose": purpose,
                          "recipients": list(targets), "count": len(targets),
                          "window": window or 0}),
            condition=KeyItem.key.does_not_exist() | (KeyItem.expires <= now), label="record")
    return _Reserved(targets, purpose, len(targets), window)


def _check(sender: _Sender, holder: Holder | None) -> None:
    """The holder may send: an account that exists and is active, or a forwarded
    address that exists and is not suspended."""
    if isinstance(sender.item, AddressItem):
        if holder is None:
            raise AddressNotFound()
        if holder.forwardedDisabled:
            raise UserDisabled()
        return
    if holder is None or not holder.kind:
        raise UserNotFound()
    if holder.disabled or holder.suspended:
        raise UserDisabled()


def _count(tx: Transaction, sender: _Sender, holder: Holder, purpose: Purpose, count: int,
           now: int) -> int | None:
    """Add `count` to the purpose's counter (guarded by the window read, so a lost race
    is re-read by the next attempt); returns the window's end, None when uncounted."""
    counter = sender.counters.get(purpose)
    if counter is None:
        return None
    reset = getattr(holder, counter.reset.attr_name)
    allowed = _allowed(holder, counter)
    same_window = (counter.reset == reset) if reset else (
        counter.reset.does_not_exist() | Path(counter.reset).is_type("NULL"))
    if reset and reset > now:
        used = int(getattr(holder, counter.sent.attr_name) or 0)
        if allowed > 0 and used >= allowed:
            raise SendingLimitReached(counter.name, max(1, int(reset - now)))
        condition = sender.exists & same_window
        if allowed > 0:
            condition &= counter.sent < allowed
        tx.update(sender.item, actions=[counter.sent.add(count)],
                  condition=condition, label="limit")
        return int(reset)
    tx.update(sender.item,
              actions=[counter.sent.set(count), counter.reset.set(now + WINDOW_S)],
              condition=sender.exists & same_window, label="limit")
    return now + WINDOW_S


def _allowed(holder: Holder, counter: _Counter) -> int:
    config = settings()
    default = config.max_recipients if counter.name == "recipients" else config.max_forwards
    return int(getattr(holder, counter.name) or 0) or default


def _deliver(key: str, sender: _Sender, raw: bytes, envelope_from: str,
             reserved: _Reserved) -> Sent:
    from botocore.exceptions import BotoCoreError, ClientError

    ids: list[str] = []
    try:
        for chunk in _chunks(reserved.recipients):
            ids.append(_ses().send_raw_email(Source=envelope_from, Destinations=list(chunk),
                                             RawMessage={"Data": raw})["MessageId"])
    except ClientError as error:
        rejected = error.response.get("Error", {}).get("Code") in _REJECTIONS
        if ids:  # some chunks left: never send those again
            _mark_sent(key, ids)
        elif rejected:
            _release(key, sender, reserved)
        else:
            _unlease(key)
        if rejected:
            raise MessageRejected(str(error.response["Error"].get("Message") or "")
                                  or None) from None
        raise SendingUnavailable() from None
    except BotoCoreError:
        if ids:
            _mark_sent(key, ids)
        else:
            _unlease(key)
        raise SendingUnavailable() from None
    _mark_sent(key, ids)
    return Sent(ids[0], reserved.recipients, False)


def _mark_sent(key: str, ids: list[str]) -> None:
    transact.updated(KeyItem(key=key), [KeyItem.data["state"].set("sent"),
                                        KeyItem.data["messageId"].set(ids[0]),
                                        KeyItem.data["messageIds"].set(ids)],
                     KeyItem.key.exists())


def _release(key: str, sender: _Sender, reserved: _Reserved) -> None:
    """Nothing was sent: forget the record and give the count back (if its window is
    still the one it counted in; a new window started without it anyway)."""
    counter = sender.counters.get(reserved.purpose)

    def build(tx: Transaction) -> None:
        tx.delete(KeyItem(key=key))
        if counter is not None and reserved.count and reserved.window:
            tx.update(sender.item, actions=[counter.sent.add(-reserved.count)],
                      condition=counter.reset == reserved.window, label="limit")

    try:
        transact.run(build, errors={"limit": _WindowMoved})
    except _WindowMoved:  # a new window (or no account): nothing to give back
        KeyItem(key=key).delete()


class _WindowMoved(Exception):
    pass


def _unlease(key: str) -> None:
    """Let the next call with this key send at once instead of waiting for the lease."""
    transact.updated(KeyItem(key=key), [KeyItem.data["lease"].set(0)], KeyItem.key.exists())


def _unique(recipients: Sequence[str]) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for address in recipients:
        address = (address or "").strip()
        if address:
            try:
                key = normalize_address(address)
            except ValueError:  # not address-shaped: SES will say so
                key = address.lower()
            seen.setdefault(key, address)
    return tuple(seen.values())


def _chunks(recipients: tuple[str, ...]) -> list[tuple[str, ...]]:
    return [recipients[i:i + SES_MAX_DESTINATIONS]
            for i in range(0, len(recipients), SES_MAX_DESTINATIONS)]


@lru_cache(maxsize=1)
def _ses() -> Any:
    import boto3  # imported on first use: most routes never send
    from botocore.config import Config

    # Short timeouts and few retries keep one call well inside LEASE_S.
    return boto3.client("ses", region_name=settings().region,
                        config=Config(connect_timeout=5, read_timeout=15,
                                      retries={"max_attempts": 3, "mode": "standard"}))
