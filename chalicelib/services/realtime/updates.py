"""`GET /users/{user}/updates`: the journal as an EventSource stream, served as a
long-poll (API Gateway's REST APIs buffer a whole answer, so a stream that never ends
would never arrive).

A poll answers at once when entries are waiting after the client's position, otherwise
reads the journal again every `poll_s` until entries arrive or `wait_s` has passed. When
it waits on a gap (journal_reader's gap rule) it reads again sooner, from 50 ms doubling
up to `poll_s`, since a gap is a write a few milliseconds from committing.

Queries per poll, idle: 1 + wait_s / poll_s (11 with the defaults, 20 s and 2 s), so an
idle client that reconnects at once costs 33 Query calls a minute (one consistent read
unit each, the journal items being small), plus one GetItem of the account per poll.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from chalicelib.services import users
from chalicelib.services.realtime import journal_reader
from chalicelib.services.realtime.journal_reader import Entry
from chalicelib.store import mailboxes

GAP_POLL_S = 0.05
RESYNC = "RESYNC"
COUNTERS = "COUNTERS"
# Commands whose `mailbox` changed counters: a replay ends with their COUNTERS.
_COUNTED = {"EXISTS", "EXPUNGE", "FETCH"}
MAX_ID = 2**53 - 1


@dataclass
class Poll:
    """What one poll answers: events with their journal number (None for COUNTERS,
    which are not journal entries), and the position the client resumes after."""

    events: list[tuple[int | None, dict[str, Any]]] = field(default_factory=list)
    position: int = 0
    queries: int = 0


def parse_id(value: str | None) -> int | None:
    """A client's last event id: a journal number, or -1 for anything else (an id from
    another server, say), which is answered with a resync."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if not re.fullmatch(r"\d{1,16}", text) or int(text) > MAX_ID:
        return -1
    return int(text)


def counters(user_id: str, entries: list[Entry]) -> list[dict[str, Any]]:
    """COUNTERS of every mailbox the entries changed that still exists (one BatchGetItem
    per 100 mailboxes), in the order the entries first named them."""
    ids = [str(entry.data["mailbox"]) for entry in entries
           if entry.command in _COUNTED and entry.data.get("mailbox")]
    if not ids:
        return []
    found = {box.id: box for box in mailboxes.counters_of(user_id, ids)}
    return [{"command": COUNTERS, "mailbox": box_id, "total": int(found[box_id].total),
             "unseen": int(found[box_id].unseen)}
            for box_id in dict.fromkeys(ids) if box_id in found]


def resync_event(position: int) -> dict[str, Any]:
    return {"command": RESYNC, "reason": "The journal no longer holds the changes after "
                                         "this id; reload the account's state",
            "id": position}


def poll(user_id: str, last_id: int | None, *, wait_s: float, poll_s: float,
         clock: Callable[[], float] = time.monotonic,
         sleep: Callable[[float], None] = time.sleep) -> Poll:
    """Entries after `last_id` (None: start at the newest), waiting up to `wait_s`."""
    account = users.get(user_id)  # proves the account, too
    newest = int(account.journalSeq or 0)
    newest_at = int(account.journalAt) if account.journalAt is not None else None
    answer = Poll(position=newest if last_id is None else last_id)
    if last_id is not None and last_id < 0:
        answer.position = newest
        answer.events.append((newest, resync_event(newest)))
        return answer
    deadline = clock() + wait_s
    resuming = last_id is not None
    first = True
    gap_pause = GAP_POLL_S
    while True:
        batch = journal_reader.read(user_id, answer.position,
                                    newest=newest if resuming and first else None,
                                    newest_at=newest_at)
        answer.queries += batch.queries
        if batch.resync:
            answer.position = newest
            answer.events.append((newest, resync_event(newest)))
            return answer
        answer.position = batch.position
        if batch.entries:
            answer.events += [(entry.seq, entry.event()) for entry in batch.entries]
            if resuming and first:  # a replay of what the client missed
                answer.events += [(None, event) for event in counters(user_id, batch.entries)]
            return answer
        first = False
        if batch.more:
            continue
        remaining = deadline - clock()
        if remaining <= 0:
            return answer
        if batch.waiting:
            sleep(min(gap_pause, poll_s, remaining))
            gap_pause *= 2
        else:
            sleep(min(poll_s, remaining))
