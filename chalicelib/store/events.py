"""The events table: the timeline of one message (stored, moved, flags changed, ...).

Keyed by the message's stable `msgid`, so the timeline survives moves and the archive.
Event ids sort by time (milliseconds, then the writer's id counter): newest last.
"""
from __future__ import annotations

import time
from typing import Any

from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.ids import new_id
from chalicelib.store.base import meta

TTL_SECONDS = 180 * 86400


class EventItem(Model):
    Meta = meta("events")

    message = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)
    user = UnicodeAttribute()
    action = UnicodeAttribute()
    time = NumberAttribute()  # epoch ms
    data = MapAttribute(default=dict)
    expires = NumberAttribute()


def event(user: str, msgid: str, action: str, **data: Any) -> EventItem:
    now = time.time()
    return EventItem(message=msgid, id=f"{int(now * 1000):013d}{new_id(now)[8:]}", user=user,
                     action=action, time=int(now * 1000),
                     data={k: v for k, v in data.items() if v is not None},
                     expires=int(now) + TTL_SECONDS)


def timeline(msgid: str) -> list[EventItem]:
    now = time.time()
    return [item for item in EventItem.query(msgid, consistent_read=True)
            if int(item.expires) > now]
