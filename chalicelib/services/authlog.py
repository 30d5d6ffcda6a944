"""The security log: what happened to an account's credentials, and from where."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from chalicelib.config import settings
from chalicelib.cursors import decode_cursor
from chalicelib.errors import EventNotFound
from chalicelib.store import authlog as store
from chalicelib.ids import new_id
from chalicelib.store.authlog import AuthlogItem
from chalicelib.store.paging import Page, query_page

KEY_NAMES = ["user", "id"]


@dataclass(frozen=True)
class Audit:
    """Where a call came from, as the caller states it (`sess`, `ip`)."""

    sess: str | None = None
    ip: str | None = None


def entry(user: str, action: str, audit: Audit, **fields: str | None) -> AuthlogItem:
    """A log item, for callers that write it inside their own transaction."""
    now = time.time()
    item = AuthlogItem(user=user, id=new_id(now), action=action, ip=audit.ip, sess=audit.sess,
                       created=int(now * 1000),
                       expires=int(now) + settings().authlog_days * 86400)
    for name, value in fields.items():
        if value is not None:
            setattr(item, name, value)
    return item


def record(user: str, action: str, audit: Audit, **fields: str | None) -> None:
    entry(user, action, audit, **fields).save()


def listing(user: str, *, limit: int, next_cursor: str | None, previous_cursor: str | None,
            action: str | None = None, sess: str | None = None,
            ip: str | None = None) -> Page[AuthlogItem]:
    """Newest first. Expired entries are hidden even before TTL removes them."""
    scope = f"authlog:{user}"
    cursor = None
    if next_cursor:
        cursor = decode_cursor(scope, next_cursor, "next")
    elif previous_cursor:
        cursor = decode_cursor(scope, previous_cursor, "previous")
    conditions = _conditions(action, sess, ip)
    # Entries past their TTL look absent only when a filter already runs; the
    # unfiltered page stays a single Query, and is checked below instead.
    filter_condition = None
    if conditions:
        conditions.append(AuthlogItem.expires > int(time.time()))
        filter_condition = conditions[0]
        for condition in conditions[1:]:
            filter_condition &= condition
    page = query_page(AuthlogItem, user, scope=scope, key_names=KEY_NAMES, limit=limit,
                      cursor=cursor, forward=False, filter_condition=filter_condition)
    now = time.time()
    return Page([i for i in page.items if i.expires > now], page.next_cursor,
                page.previous_cursor)




def _conditions(action: str | None, sess: str | None, ip: str | None) -> list[Any]:
    conditions: list[Any] = []
    if action and action.strip():  # actions are stored lower-case; WildDuck lowercases too
        conditions.append(AuthlogItem.action == action.strip().lower())
    if sess:
        conditions.append(AuthlogItem.sess == sess)
    if ip:
        conditions.append(AuthlogItem.ip == ip)
    return conditions


def count(user: str, action: str | None = None, sess: str | None = None,
          ip: str | None = None) -> int:
    """How many live entries match: a COUNT Query over the account's partition.

    Entries are written on the login path outside any transaction and leave by TTL, so
    no counter is kept; the partition holds at most `authlog_days` of entries, and a
    COUNT returns no items (it is charged for the entries it reads, about 4,000 per
    1 MB page)."""
    condition = AuthlogItem.expires > int(time.time())
    for part in _conditions(action, sess, ip):
        condition &= part
    return store.count(user, condition)


def get(user: str, event: str) -> AuthlogItem:
    """One live entry of the account."""
    item = store.get(user, event)
    if item is None or item.expires <= time.time():
        raise EventNotFound()
    return item
