"""Reading a user's journal in order. The gap rule lives here and nowhere else.

Journal numbers come from `users.journalSeq`; hot writes claim theirs first with an
atomic ADD and write the entry in their transaction a few milliseconds later, and a
write that fails fills its numbers with NOOP entries (store/journal.py). So, at any
moment, the journal may hold N+1 while N is still missing. A reader therefore delivers
only a contiguous run of numbers:

**The gap rule.** Past the last delivered number P, take P+1, P+2, ... while each is
there. At a missing number, stop and wait (read again later) until it is filled, with an
entry or a NOOP. Skip it only when the first entry after it was written more than
`GAP_TIMEOUT_S` ago: numbers are claimed in order, so the missing one was claimed before
that entry was written, and its write, which gives up at its request budget
(store/transact.API_BUDGET_S; every write that claims numbers runs under it), can no
longer commit. Only a writer that crashed between claim and NOOP leaves such a gap.

**Expiry.** Entries live `journal.TTL_SECONDS` (3 h); TTL deletes them lazily and in
any order, so entries past `expires` are treated as absent. A reader resuming after
number L therefore checks, with the same Query, that the journal still holds L (live for
at least `GAP_TIMEOUT_S` more, so every entry after it is live too) or L+1; if neither,
and numbers after L were handed out, what followed L is gone: the answer is a resync
(`Batch.resync`), never silence and never a silent skip.

Cost: one consistent Query per page of `PAGE` entries (the entry at the resume point
rides along, so a page reads `PAGE + 1` items).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Iterable

from chalicelib.clock import iso
from chalicelib.store.base import as_dict
from chalicelib.store import journal
from chalicelib.store.journal import NOOP, JournalItem
from chalicelib.store.transact import API_BUDGET_S

GAP_TIMEOUT_S = API_BUDGET_S
PAGE = 100  # entries per Query
MAX_ENTRIES = 1000  # entries one read returns at most; the rest come with the next read


@dataclass(frozen=True)
class Entry:
    seq: int
    command: str
    data: dict[str, Any]
    created: int  # epoch ms, the writer's clock
    expires: int  # epoch s

    @classmethod
    def of(cls, item: JournalItem) -> "Entry":
        data = as_dict(item.data)
        return cls(int(item.seq), item.command, data, int(item.created), int(item.expires))

    def event(self) -> dict[str, Any]:
        """What clients see: the command and its fields (dates as ISO 8601)."""
        body: dict[str, Any] = {"command": self.command}
        for key, value in self.data.items():
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            body[key] = iso(value) if key == "idate" and isinstance(value, (int, float)) \
                else value
        return body


@dataclass
class Batch:
    entries: list[Entry] = field(default_factory=list)  # in order, without NOOPs
    position: int = 0  # the last number accounted for (delivered, NOOP or skipped gap)
    waiting: bool = False  # stopped at a gap that may still be filled
    more: bool = False  # stopped at MAX_ENTRIES; more is waiting
    resync: bool = False  # what followed the resume point has expired
    queries: int = 0


def contiguous(after: int, entries: Iterable[Entry], now_ms: int) -> tuple[list[Entry], int, bool]:
    """The gap rule over entries numbered above `after`, in order: the run that may be
    delivered, the position after it, and whether it stopped at a gap to wait on."""
    run: list[Entry] = []
    position = after
    for entry in entries:
        if entry.seq <= position:
            continue
        if entry.seq != position + 1 and now_ms - entry.created < GAP_TIMEOUT_S * 1000:
            return run, position, True
        run.append(entry)
        position = entry.seq
    return run, position, False


def _resumable(after: int, anchor: Entry | None, following: list[Entry], newest: int,
               now_ms: int, newest_at: int | None = None) -> bool | None:
    """Whether the journal still holds what follows `after`: True, False (resync), or
    None (cannot tell yet: a write after a missing number is younger than the budget)."""
    if anchor is not None or after == newest:
        return True
    if after > newest:
        return False  # not a number this account handed out
    if not following:
        if newest_at is not None and now_ms - newest_at < GAP_TIMEOUT_S * 1000:
            return None  # the numbers after `after` were just handed out: in flight
        return False  # numbers were handed out after `after`, and none is left
    first = following[0]
    if first.seq == after + 1:
        return True
    return None if now_ms - first.created < GAP_TIMEOUT_S * 1000 else False


def read(user_id: str, after: int, *, newest: int | None = None,
         newest_at: int | None = None, limit: int = MAX_ENTRIES,
         now: float | None = None) -> Batch:
    """What may be delivered after number `after`, by the gap rule.

    `newest` (the account's `journalSeq`, read before, and `newest_at`, its
    `journalAt`) asks for the resume check: the
    first read of a client that gave its last id. Without it `after` is trusted (a
    position this service handed out in the same session, or the newest number).
    """
    batch = Batch(position=after)
    check = newest is not None
    while True:
        clock = time.time() if now is None else now
        now_ms = int(clock * 1000)
        items, more = journal.page_from(user_id, batch.position, PAGE + 1)
        batch.queries += 1
        live = [Entry.of(item) for item in items if int(item.expires) > clock]
        anchor = next((entry for entry in live if entry.seq == batch.position
                       and entry.expires > clock + GAP_TIMEOUT_S), None)
        following = [entry for entry in live if entry.seq > batch.position]
        if check:
            check = False
            verdict = _resumable(batch.position, anchor, following, int(newest or 0), now_ms,
                                 newest_at)
            if verdict is False:
                batch.resync = True
                return batch
            if verdict is None:
                batch.waiting = True
                return batch
        start = batch.position
        run, batch.position, batch.waiting = contiguous(start, following, now_ms)
        batch.entries += [entry for entry in run if entry.command != NOOP]
        if batch.waiting or not more or batch.position == start:
            return batch
        if len(batch.entries) >= limit:
            batch.more = True
            return batch
