"""Websocket subscriptions: who may listen to which account, the replay of what a
subscriber missed, and the fan-out of new journal entries (fed by the journal table's
stream, chalicelib/streams.py).

Protocol (messages are JSON text frames):

- connect with the access token or a user token: `?accessToken=...` on the URL (or an
  `X-Access-Token` / `Authorization: Bearer` header); refused with its HTTP status
  otherwise;
- send `{"action": "subscribe", "user": <id>, "lastEventId": <id>}`: `user` may be left
  out with a user token (its own account), `lastEventId` when nothing was missed. The
  answer is `{"action": "subscribed", "user", "id"}` (`id`: the account's newest journal
  number), then, with `lastEventId`, every entry after it up to `id`, then COUNTERS of
  the mailboxes they changed (or one RESYNC when the journal no longer holds them);
  from then on, each new entry as it is written;
- an entry is `{"id": <journal number>, "command": ..., <fields as in the updates
  stream>}`; errors are `{"action": "error", "error", "code"}`;
- `{"action": "unsubscribe"}` stops the entries; `{"action": "ping"}` answers `pong`.

Delivery: each entry once per connection (twice after a stream batch failed and was
retried), in journal order within a stream batch; entries of different batches may
cross (they are written out of order by concurrent writers), so a client orders by
`id`. A subscription answers once the stream handler can see it (`_until_indexed`).
"""
from __future__ import annotations

import time
from collections import defaultdict
from typing import Any, Callable

from chalicelib import logs, streams
from chalicelib.errors import DomainError, MissingPrivileges, NotFound
from chalicelib.services import users
from chalicelib.services.realtime import journal_reader, push
from chalicelib.services.realtime.journal_reader import Entry
from chalicelib.services.realtime.updates import counters, parse_id, resync_event
from chalicelib.store import connections
from chalicelib.store.journal import NOOP
from chalicelib.store.transact import API_BUDGET_S
from chalicelib.streams import Change

INDEX_TRIES = 20  # Queries a subscription makes at most, 50 ms apart, to see itself indexed


class ConnectionGone(NotFound):
    code, default_message = "ConnectionGone", "This connection is closed"


class UnknownAction(DomainError):
    status = 400
    code, default_message = "UnknownAction", "Send subscribe, unsubscribe or ping"


def message(entry: Entry) -> dict[str, Any]:
    return {"id": entry.seq, **entry.event()}


def connect(connection_id: str, principal: str) -> None:
    connections.opened(connection_id, principal)


def disconnect(connection_id: str) -> None:
    connections.closed(connection_id)


def subscribe(connection_id: str, user_id: str | None, last_id: Any, endpoint: str,
              sleep: Callable[[float], None] = time.sleep) -> None:
    conn = connections.get(connection_id)
    if conn is None:
        raise ConnectionGone()
    principal = str(conn.principal)
    user = user_id or (principal if principal != connections.OPERATOR else None)
    if user is None:
        raise MissingPrivileges("Name the user to subscribe to")
    if principal not in (connections.OPERATOR, user):
        raise MissingPrivileges("This token may only follow its own account")
    account = users.get(user)
    newest = int(account.journalSeq or 0)
    newest_at = int(account.journalAt) if account.journalAt is not None else None
    if not connections.subscribe(conn, user, newest):
        raise ConnectionGone()
    _until_indexed(connection_id, user, newest, sleep)
    push.post(endpoint, connection_id, {"action": "subscribed", "user": user, "id": newest})
    after = parse_id(None if last_id is None else str(last_id))
    if after is not None:
        replay(connection_id, user, after, newest, endpoint, sleep, newest_at=newest_at)


def _until_indexed(connection_id: str, user_id: str, since: int,
                   sleep: Callable[[float], None]) -> None:
    """Wait (at most about a second) until the stream handler's index, `byUser`, which
    is eventually consistent, shows the subscription: entries numbered after `since`
    are the handler's to post, and one it handled before seeing the subscription would
    never reach this connection. Usually the first Query shows it."""
    for _ in range(INDEX_TRIES):
        if any(conn.id == connection_id and int(conn.since or 0) == since
               for conn in connections.of_user(user_id)):
            return
        sleep(0.05)
    logs.warning("subscription not yet in byUser", connection=connection_id)


def replay(connection_id: str, user_id: str, after: int, newest: int, endpoint: str,
           sleep: Callable[[float], None] = time.sleep, newest_at: int | None = None) -> int:
    """Post the entries after `after` up to `newest` (entries above it are the stream
    handler's), then their COUNTERS. Waits on gaps, by the gap rule, within the
    budget of a request. Returns the number of Query calls it made."""
    if after < 0 or after > newest:
        push.post(endpoint, connection_id, resync_event(newest))
        return 0
    position, check, queries, delivered = after, True, 0, []
    deadline = time.monotonic() + API_BUDGET_S
    pause = 0.05
    while position < newest:
        batch = journal_reader.read(user_id, position, newest=newest if check else None,
                                    newest_at=newest_at)
        queries += batch.queries
        check = False
        if batch.resync:
            push.post(endpoint, connection_id, resync_event(newest))
            return queries
        for entry in batch.entries:
            if entry.seq > newest:
                break
            if not push.post(endpoint, connection_id, message(entry)):
                connections.closed(connection_id)
                return queries
            delivered.append(entry)
        position = min(batch.position, newest)
        if batch.more or position >= newest:
            continue
        if time.monotonic() >= deadline:
            break  # a writer that crashed; the gap rule skips it soon, a resubscribe helps
        sleep(pause)
        pause = min(pause * 2, 1.0)
    for event in counters(user_id, delivered):
        push.post(endpoint, connection_id, event)
    return queries


def unsubscribe(connection_id: str) -> None:
    if not connections.unsubscribe(connection_id):
        raise ConnectionGone()


def _entry(change: Change) -> Entry:
    new = change.new or {}
    return Entry(int(new["seq"]), str(new["command"]), dict(new.get("data") or {}),
                 int(new.get("created") or 0), int(new.get("expires") or 0))


def fan_out(user_id: str, entries: list[Entry], endpoint: str) -> int:
    """Post entries of one account to its subscribed connections: one Query of them,
    then one post per entry and connection, in journal order; a connection that is gone
    is deleted. Returns the posts made."""
    posts = 0
    for conn in connections.of_user(user_id):
        since = int(conn.since or 0)
        for entry in entries:
            if entry.seq <= since:
                continue  # the subscription's replay delivered it
            posts += 1
            if not push.post(endpoint, conn.id, message(entry)):
                logs.info("websocket gone", connection=conn.id)
                connections.closed(conn.id)
                break
    return posts


def on_journal(changes: list[Change]) -> list[Change]:
    """Stream handler of the journal table: new entries, grouped by account and sorted
    by number, fanned out; returns the changes of accounts whose fan-out failed."""
    endpoint = push.endpoint()
    by_user: dict[str, list[Change]] = defaultdict(list)
    for change in changes:
        if change.event == "INSERT" and change.new and change.new.get("command") != NOOP:
            by_user[str(change.new["user"])].append(change)
    if by_user and not endpoint:
        logs.warning("WEBSOCKET_ENDPOINT is not configured: journal entries not pushed")
        return []
    failed: list[Change] = []
    for user_id, group in sorted(by_user.items()):
        try:
            fan_out(user_id, sorted((_entry(change) for change in group),
                                    key=lambda entry: entry.seq), endpoint)
        except Exception:  # noqa: BLE001 - this account's records are retried
            logs.exception("websocket fan-out failed", user=user_id)
            failed += group
    return failed


streams.register("journal", on_journal)
