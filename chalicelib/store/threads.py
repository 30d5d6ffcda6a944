"""Thread lookups: which thread a message-id or a normalized subject belongs to.

Stored in the keys table (it has TTL): `thread#<user>#<digest of message-id>` for as long
as replies are likely, `threadsubj#<user>#<digest of subject>` for the recent past only.
Digests keep keys short whatever the header holds. Written in the upload transaction,
read with the upload's one BatchGetItem.
"""
from __future__ import annotations

import hashlib
import time

from chalicelib.store.keys import KeyItem

MESSAGE_ID_TTL = 180 * 86400
SUBJECT_TTL = 30 * 86400


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:40]


def message_id_key(user: str, message_id: str) -> str:
    return f"thread#{user}#{_digest(message_id)}"


def subject_key(user: str, normalized_subject: str) -> str:
    return f"threadsubj#{user}#{_digest(normalized_subject.lower())}"


def entry(user: str, key: str, thread: str, ttl: int) -> KeyItem:
    now = int(time.time())
    return KeyItem(key=key, user=user, data={"thread": thread}, expires=now + ttl)


def thread_of(item: KeyItem | None) -> str | None:
    if item is None or int(item.expires) <= time.time() or not item.data:
        return None
    value = item.data.as_dict().get("thread") if hasattr(item.data, "as_dict") \
        else item.data.get("thread")
    return str(value) if value else None
