"""The keys table: small expiring records (rate-limit windows, replay guards, tokens).

Key layout (built only here):

- `rate#<limit>#<user>`: failures counted in the window the first failure opened
  (`count`, `expires`);
- `totp#<user>#<step>`: a TOTP time step already accepted for the user;
- `token#<sha256 of the token>`: a user-scoped API token (`user`, `data.created`, and
  the restrictions `data.pending2fa`, `data.temporaryPassword`);
- `autoreply#<user>#<sha256 of the sender>`: an autoreply was sent to that sender within
  the last 4 hours (`data.owner`: the delivery that sent it);
- `idem#<sha256 of operation, caller and Idempotency-Key>`: the first answer of a
  create retried with the same key (`data.fingerprint`, `data.result`), 24 hours;
- `send#<sha256 of user and dedupe key>`: one outbound send (`data.state` pending or
  sent, `data.lease`, `data.messageId`, `data.recipients`), 7 days (services/outbound).

Every item carries `expires` (epoch seconds, the table's TTL attribute); readers treat an
item past it as absent because TTL deletion is lazy.
"""
from __future__ import annotations

from typing import Any, TypeVar

from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError, UpdateError
from pynamodb.models import Model

from chalicelib.store.base import meta
from chalicelib.store.batch import batch_get
from chalicelib.store.transact import Transaction
from chalicelib.store.users import UserItem

_CONDITION_FAILED = "ConditionalCheckFailedException"
M = TypeVar("M", bound=Model)


class KeyItem(Model):
    Meta = meta("keys")

    key = UnicodeAttribute(hash_key=True)
    user = UnicodeAttribute(null=True)
    count = NumberAttribute(default=0)
    data = MapAttribute(null=True)
    expires = NumberAttribute()


def rate_key(limit: str, user: str) -> str:
    return f"rate#{limit}#{user}"


def totp_guard_key(user: str, step: int) -> str:
    return f"totp#{user}#{step}"


def token_key(digest: str) -> str:
    return f"token#{digest}"


def idempotency_key(digest: str) -> str:
    return f"idem#{digest}"


def outbound_key(digest: str) -> str:
    return f"send#{digest}"


def autoreply_key(user: str, sender_digest: str) -> str:
    return f"autoreply#{user}#{sender_digest}"


def claim_window(key: str, owner: str, now: int, ttl: int) -> bool:
    """Open a window of `ttl` seconds for `owner` unless a live one belongs to someone
    else (one conditional PutItem). The owner that opened it may claim it again: a
    retried delivery keeps the right to the answer it was about to send."""
    try:
        KeyItem(key=key, data={"owner": owner}, expires=now + ttl).save(
            condition=KeyItem.key.does_not_exist() | (KeyItem.expires <= now)
            | (KeyItem.data["owner"] == owner))
    except PutError as error:
        if error.cause_response_code == _CONDITION_FAILED:
            return False
        raise
    return True


def record_once(tx: Transaction, key: str, data: dict[str, Any], now: int, ttl: int) -> None:
    """Put the record in the write's own transaction, unless a live one exists (label
    `idempotency`): the write and its record commit together or not at all."""
    tx.save(KeyItem(key=key, data=data, expires=now + ttl),
            condition=KeyItem.key.does_not_exist() | (KeyItem.expires <= now),
            label="idempotency")


def get_live(key: str, now: int) -> KeyItem | None:
    try:
        item = KeyItem.get(key, consistent_read=True)
    except KeyItem.DoesNotExist:
        return None
    return item if item.expires > now else None


def count_failure(limit: str, user: str, window: int, now: int) -> KeyItem:
    """Add one to the user's open window of `limit`, or open one; returns the counter.

    One conditional UpdateItem covers both a live window and a missing one (which it
    creates); only a window that has expired but not yet been removed by TTL needs a
    second write to replace it. Both writes are conditional, so concurrent Lambdas
    never lose a count: losing a race just means retrying the other write.
    """
    key = rate_key(limit, user)
    for _ in range(5):
        item = KeyItem(key=key)
        try:
            item.update(actions=[KeyItem.count.add(1), KeyItem.user.set(user),
                                 KeyItem.expires.set(KeyItem.expires | (now + window))],
                        condition=KeyItem.key.does_not_exist() | (KeyItem.expires > now))
            return item
        except UpdateError as error:
            if error.cause_response_code != _CONDITION_FAILED:
                raise
        item = KeyItem(key=key, user=user, count=1, expires=now + window)
        try:
            item.save(condition=KeyItem.expires <= now)
            return item
        except PutError as error:
            if error.cause_response_code != _CONDITION_FAILED:
                raise
    raise RuntimeError(f"rate-limit counter {key} kept changing")


def guard_totp_step(tx: Transaction, user: str, step: int, expires: int) -> None:
    """Claim a TOTP step inside a transaction; the label `replay` fails if it was taken."""
    tx.save(KeyItem(key=totp_guard_key(user, step), user=user, expires=expires),
            condition=KeyItem.key.does_not_exist(), label="replay")


def save_token(digest: str, user: str, created_ms: int, expires: int,
               pending_2fa: bool = False, temporary: bool = False) -> None:
    data: dict[str, Any] = {"created": created_ms}
    if pending_2fa:
        data["pending2fa"] = True
    if temporary:
        data["temporaryPassword"] = True
    KeyItem(key=token_key(digest), user=user, data=data,
            expires=expires).save(condition=KeyItem.key.does_not_exist())


def clear_token_pending_2fa(digest: str) -> None:
    KeyItem(key=token_key(digest)).update(actions=[KeyItem.data["pending2fa"].remove()],
                                          condition=KeyItem.key.exists())


def get_token(digest: str) -> KeyItem | None:
    try:
        return KeyItem.get(token_key(digest), consistent_read=True)
    except KeyItem.DoesNotExist:
        return None


def delete_token(digest: str) -> None:
    KeyItem(key=token_key(digest)).delete()


def token_and_user(digest: str, user_id: str) -> tuple[KeyItem | None, UserItem | None]:
    """A token and the account it should belong to, in one consistent BatchGetItem."""
    return item_and_user(token_key(digest), user_id)


def item_and_user(key: str, user_id: str) -> tuple[KeyItem | None, UserItem | None]:
    """A keys item and an account, in one consistent BatchGetItem (expired or not)."""
    return item_and(key, UserItem(id=user_id))


def item_and(key: str, other: M) -> tuple[KeyItem | None, M | None]:
    """A keys item and the item of any table with `other`'s key, in one consistent
    BatchGetItem (the keys item expired or not)."""
    model = type(other)
    other_key = tuple(getattr(other, attr.attr_name) for attr in
                      (model._hash_key_attribute(), model._range_key_attribute()) if attr)
    record, item = batch_get([(KeyItem, (key,)), (model, other_key)])
    return record if isinstance(record, KeyItem) else None, \
        item if isinstance(item, model) else None
