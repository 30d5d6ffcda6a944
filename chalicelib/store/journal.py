"""The journal table: per-user change feed ordered by a gap-free sequence number."""
from __future__ import annotations

import time
from typing import Any

from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model

from chalicelib.store.base import Transaction, meta
from chalicelib.store.users import UserItem

TTL_SECONDS = 3 * 3600


class JournalItem(Model):
    Meta = meta("journal")

    user = UnicodeAttribute(hash_key=True)
    seq = NumberAttribute(range_key=True)
    command = UnicodeAttribute()
    data = MapAttribute(default=dict)
    created = NumberAttribute()
    expires = NumberAttribute()


def append(tx: Transaction, user: UserItem, entries: list[tuple[str, dict[str, Any]]],
           actions: list[Any] | None = None, condition: Condition | None = None) -> None:
    """Add journal entries to a transaction, with the user item's sequence bump.

    The user item is updated in the same transaction under `journalSeq == <read value>`,
    so entries commit in sequence order and a reader resuming after seq N never misses
    one. Callers that also change the user item pass their `actions`/`condition` here
    (a transaction may touch an item only once).
    """
    now = time.time()
    seq = user.journalSeq or 0
    for offset, (command, data) in enumerate(entries, start=1):
        tx.save(JournalItem(user=user.id, seq=seq + offset, command=command, data=data,
                            created=int(now * 1000), expires=int(now) + TTL_SECONDS),
                condition=JournalItem.seq.does_not_exist(), label="journal")
    guard = UserItem.journalSeq == seq
    tx.update(user, actions=[*(actions or []), UserItem.journalSeq.set(seq + len(entries))],
              condition=guard if condition is None else guard & condition, label="user")
