"""The journal table: per-user change feed ordered by a gap-free sequence number.

Two ways to claim sequence numbers, both atomic on `users.journalSeq`, so they mix:

- `append` claims them inside the writer's transaction, under `journalSeq == <read>`:
  entries commit with their claim, in order. Cheap for rare writes (mailbox changes,
  logout), but every concurrent writer of the account conflicts on the guard.
- `reserved` claims them first with one `ADD` (never conflicts), and the transaction
  then puts entries at the claimed numbers. Hot paths (uploads, flags, moves, archive)
  use it so that parallel writes of one account do not retry on each other. Entries may
  then commit out of order for the few milliseconds between claim and commit; numbers
  a write claimed but did not use are filled with `NOOP` entries, so a reader may treat
  a gap as "a write in flight" and wait for it rather than skip it.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model

from chalicelib.store.base import meta
from chalicelib.store.transact import Transaction, updated
from chalicelib.store.users import UserItem

TTL_SECONDS = 3 * 3600
NOOP = "NOOP"  # fills a claimed number its write did not use


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
        tx.save(_entry(user.id, seq + offset, command, data, now),
                condition=JournalItem.seq.does_not_exist(), label="journal")
    guard = UserItem.journalSeq == seq
    tx.update(user, actions=[*(actions or []), UserItem.journalSeq.set(seq + len(entries)),
                             UserItem.journalAt.set(int(now * 1000))],
              condition=guard if condition is None else guard & condition, label="user")


@dataclass
class Reservation:
    """Sequence numbers claimed for one write; `put` uses them from the first."""

    user: str
    first: int
    count: int
    used: int = 0

    def put(self, tx: Transaction, entries: list[tuple[str, dict[str, Any]]]) -> None:
        if len(entries) > self.count:
            raise ValueError("more journal entries than reserved sequence numbers")
        now = time.time()
        for offset, (command, data) in enumerate(entries):
            tx.save(_entry(self.user, self.first + offset, command, data, now),
                    condition=JournalItem.seq.does_not_exist(), label="journal")
        self.used = len(entries)


def _entry(user: str, seq: int, command: str, data: dict[str, Any], now: float) -> JournalItem:
    return JournalItem(user=user, seq=seq, command=command, data=data,
                       created=int(now * 1000), expires=int(now) + TTL_SECONDS)


def reserve(user_id: str, count: int) -> Reservation | None:
    """Claim `count` sequence numbers for a live account (one UpdateItem); None when
    the account is gone."""
    item = UserItem(id=user_id)
    if not updated(item, [UserItem.journalSeq.add(count),
                          UserItem.journalAt.set(int(time.time() * 1000))],
                   UserItem.kind.exists()):
        return None
    return Reservation(user_id, int(item.journalSeq) - count + 1, count)


def release(reservation: Reservation, committed: bool) -> None:
    """Fill the numbers the write did not use, so readers need not wait for them."""
    start = reservation.used if committed else 0
    now = time.time()
    for seq in range(reservation.first + start, reservation.first + reservation.count):
        try:
            _entry(reservation.user, seq, NOOP, {}, now).save(
                condition=JournalItem.seq.does_not_exist())
        except PutError:
            pass  # taken by the write after all, or unreachable: readers wait it out


@contextmanager
def reserved(user_id: str, count: int) -> Iterator[Reservation | None]:
    """`reserve`, then `release` whatever the write did not use, however it ended."""
    reservation = reserve(user_id, count)
    committed = False
    try:
        yield reservation
        committed = True
    finally:
        if reservation is not None:
            release(reservation, committed)


def page_from(user_id: str, first: int, limit: int) -> tuple[list[JournalItem], bool]:
    """Entries numbered `first` and above, oldest first: one consistent Query of at most
    `limit` items; True when the partition may hold more."""
    result = JournalItem.query(user_id, JournalItem.seq >= first, consistent_read=True,
                               limit=limit)
    items = list(result)
    return items, result.last_evaluated_key is not None
