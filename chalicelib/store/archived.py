"""The archived table: deleted messages, restorable until their retention ends.

The id of an archived message is the message's own `msgid`, so the S3 folder of the
message stays referenced (and findable by the sweeper) while it is archived. The item
keeps the message item's attributes as they were, plus where it came from.
"""
from __future__ import annotations

import time
from typing import Any, Iterator

from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.store.base import meta
from chalicelib.store.messages import MessageItem


class ArchivedItem(Model):
    Meta = meta("archived")

    user = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)
    mailbox = UnicodeAttribute()  # where it was deleted from
    uid = NumberAttribute()
    archived = NumberAttribute()  # epoch ms
    expires = NumberAttribute()  # epoch seconds (DynamoDB TTL)
    message = MapAttribute(default=dict)

    def is_live(self, now: float | None = None) -> bool:
        """TTL deletes lazily (and moto never does): past `expires` counts as gone."""
        return int(self.expires) > (time.time() if now is None else now)

    def as_message(self) -> MessageItem:
        item = MessageItem()
        item.from_simple_dict(_plain(self.message))
        return item


def archived_from(item: MessageItem, retention_days: int, now: float | None = None) -> ArchivedItem:
    now = time.time() if now is None else now
    return ArchivedItem(user=item.user, id=item.msgid, mailbox=item.mailbox, uid=item.uid,
                        archived=int(now * 1000), expires=int(now) + retention_days * 86400,
                        message=item.to_simple_dict())


def get(user: str, archived_id: str) -> ArchivedItem | None:
    try:
        item = ArchivedItem.get(user, archived_id, consistent_read=True)
    except ArchivedItem.DoesNotExist:
        return None
    return item if item.is_live() else None


def archived_between(user: str, start_ms: int, end_ms: int,
                     after: str | None = None) -> Iterator[ArchivedItem]:
    """A user's live archived messages deleted within [start_ms, end_ms], by id from
    `after` on: one Query over the user's archive (its size is bounded by the archive
    retention), read lazily page by page."""
    window = ArchivedItem.archived.between(start_ms, end_ms) \
        & (ArchivedItem.expires > int(time.time()))
    return ArchivedItem.query(user, ArchivedItem.id > after if after else None,
                              filter_condition=window, consistent_read=True)


def _plain(value: Any) -> Any:
    """Raw MapAttribute values come back as MapAttribute/Decimal-free python values."""
    if isinstance(value, MapAttribute):
        return {k: _plain(v) for k, v in value.as_dict().items()}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
